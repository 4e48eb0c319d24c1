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

// LU factorisation with partial pivoting, in place: a (n x n) becomes L (unit lower, below the
// diagonal) and U; piv[i] = the row swapped with row i at step i. An exactly zero pivot (singular
// matrix): E_RANGE. Non-finite entries: E_RANGE.
Status lu_factor_f64(const Exec* ex, int64_t n, double* a, int64_t* piv);

// Solves A X = B with A's LU factors (lu_factor_f64); b is n x m, overwritten by X.
Status lu_solve_f64(const Exec* ex, int64_t n, int64_t m, const double* lu, const int64_t* piv, double* b);

// Square root methods for sqrtm_f64.
enum SqrtmMethod : int32_t { SQRTM_EIGH = 0, SQRTM_NEWTON_SCHULZ = 1, SQRTM_DENMAN_BEAVERS = 2 };

// x = A^{1/2} (or A^{-1/2} when inverse) of the n x n matrix a.
//  SQRTM_EIGH: a symmetric positive semi-definite (lower triangle read); eigenvalues below
//    -n eps max|lambda| give E_NOT_SPD, smaller negatives are clamped to 0; inverse of a singular
//    matrix: E_NOT_SPD. The result is exactly symmetric.
//  SQRTM_NEWTON_SCHULZ: coupled Newton-Schulz on A / ||A||_F (GEMM only);
//  SQRTM_DENMAN_BEAVERS: Denman-Beavers (two inverses per step); both stop when the relative
//    residual (below) is under tol, and give E_NO_CONVERGENCE when it stagnates, grows or is not
//    reached in max_iterations.
// *residual = ||X X - A||_F / ||A||_F (inverse: ||X A X - I||_F / sqrt(n)); *iterations = the
// iterations taken (0 for eigh). Non-finite entries: E_RANGE.
Status sqrtm_f64(const Exec* ex, int64_t n, const double* a, double* x, int32_t method, bool inverse, double tol,
                 int32_t max_iterations, int32_t* iterations, double* residual);

// Adds the feature rows x (m x n, row-major, float32 or float64) to running statistics in place:
// *count samples so far, their mean[n] and centred co-moment comoment[n x n] (full, symmetric),
// all float64. The chunk's own mean and co-moment (two passes; the co-moment accumulated straight
// into comoment on the GEMM) are merged by Chan, Golub and LeVeque's update. Non-finite features:
// E_RANGE, with the statistics unchanged (on E_OOM they are unspecified).
Status feature_stats_update_f64(const Exec* ex, int64_t m, int64_t n, const double* x, double* count, double* mean,
                                double* comoment);
Status feature_stats_update_f32(const Exec* ex, int64_t m, int64_t n, const float* x, double* count, double* mean,
                                double* comoment);

}  // namespace kx
