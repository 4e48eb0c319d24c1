// Dense float64 linear algebra for sqrtm and the Gaussian distances (lib/ops/gaussian.ts). Row-major
// matrices. Threaded through Exec with results that do not depend on the thread count (every
// output element is computed by one chunk, in an order fixed by the sizes alone). float64 needs no
// bit identity with the other backends, so these kernels may use FMA where the compiler offers it.
// float32 callers convert to float64 and round the results (lib/ops/gaussian.ts).
//   gemm.cc    the project's GEMM
//   eigh.cc    symmetric eigenvalues / eigenvectors
//   linalg.cc  Cholesky, LU, solve, sqrtm iterations, the W2 trace, feature statistics
#pragma once
#include "kx.h"

namespace kx {

// ---- gemm.cc ------------------------------------------------------------------------------------

// C = alpha op(A) op(B) + beta C; op(A) is m x k (A stored m x k, or k x m when trans_a), op(B) is
// k x n. beta == 0 ignores C's contents (NaN there does not propagate), as in BLAS.
Status gemm_f64(const Exec* ex, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a,
                const double* b, int64_t ldb, bool trans_b, double* c, int64_t ldc, double alpha, double beta);

// The same with m == n, computing only the lower triangle of C (i >= j) exactly; entries above the
// diagonal may or may not be written (SYRK / SYR2K-style updates).
Status gemm_f64_lower(const Exec* ex, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a, const double* b,
                      int64_t ldb, bool trans_b, double* c, int64_t ldc, double alpha, double beta);

// ---- eigh.cc ------------------------------------------------------------------------------------

// Eigenvalues of the symmetric matrix a (lower triangle read), ascending. Non-finite input:
// E_RANGE. QL not converging (never seen for finite input): E_INTERNAL.
Status syevals_f64(const Exec* ex, int64_t n, const double* a, double* values);

// Eigenvalues (ascending) and eigenvectors of the symmetric matrix a (lower triangle read):
// vectors is n x n row-major with column k the unit eigenvector of values[k], so
// a = V diag(values) V^T. Errors as syevals_f64.
Status syevd_f64(const Exec* ex, int64_t n, const double* a, double* values, double* vectors);

// ---- linalg.cc ----------------------------------------------------------------------------------

// Lower Cholesky factor L (n x n, upper triangle zero) of the symmetric matrix a (lower triangle
// read). A pivot that is not positive (or NaN): E_RANGE with *failed_at = its index (else -1).
// L may equal a (in place).
Status cholesky_f64(const Exec* ex, int64_t n, const double* a, double* L, int64_t* failed_at);

// trace = sum_k sqrt(max(lambda_k(L^T S2 L), 0)) with S1 = L L^T. S1 not positive definite:
// E_RANGE with *failed_at = the failing pivot (the caller then takes the eigh route); S2 giving
// non-finite M: E_RANGE with *failed_at = -1.
Status w2_trace_f64(const Exec* ex, int64_t n, const double* s1, const double* s2, double* trace, int64_t* failed_at);

}  // namespace kx
