// Check program for the CUDA linear algebra (native/cuda/linalg.cu): Newton-Schulz square roots
// (forward and inverse), batched Cholesky and batched Jacobi eigh, float64 and float32, compared
// with the native/core CPU kernels (kx::cholesky_f64, kx::syevd_f64, kx::sqrtm_f64 SQRTM_EIGH /
// SQRTM_NEWTON_SCHULZ) and with exact answers; then timed with CUDA events. No Node needed.
//
// On the GPU machine (nvcc, CMake, ninja; no Node), from the repository root:
//   cmake -S . -B build-cuda -G Ninja -DKEXUE_BUILD_ADDON=OFF -DCMAKE_CUDA_ARCHITECTURES=90
//   cmake --build build-cuda --target kexue_cuda_linalg_check
//   build-cuda/Release/kexue_cuda_linalg_check            # checks, then timings
//   build-cuda/Release/kexue_cuda_linalg_check --no-bench # checks only (what ctest runs)
//
//   kexue_cuda_linalg_check [--seed N] [--reps N] [--no-bench] [--no-emu] [--max-n N]
//
// Test matrices: A = Q diag(lambda) Q^T with Q a product of three random Householder reflections
// (dense, cheap for any n) and lambda log-spaced over [1/cond, 1] in random order, times a random
// scale; so sqrt(A) = Q diag(sqrt(lambda)) Q^T is known exactly (up to A's own rounding) without
// an eigensolver, also at n = 2048. float32 cases round A to float32 and compare with the float64
// kernels run on the rounded values. What is checked (u = unit roundoff: 2^-53, 2^-24):
//   sqrtm (Newton-Schulz): status OK; every residual (computed by the kernel) < tol, and the
//     residual recomputed here in float64 from the returned X < 2 tol (+ 1e-6 for float32 output,
//     whose own rounding enters X X); ||X - sqrt(A)||_F / ||sqrt(A)||_F <= tol_x (float64 1e-10
//     well conditioned, cond 1e2 / 1e-6 at cond 1e8; float32 1e-4 / 1e-2); for n <= 256 also
//     against kx::sqrtm_f64 SQRTM_EIGH (same bound). tol: float64 1e-12 (1e-10 at cond 1e8),
//     float32 1e-5 (n <= 256), max(5e-5, 1e-7 n) above. The CPU Newton-Schulz's iteration count is printed.
//   cholesky (batched): failed_at equal to kx::cholesky_f64's per matrix (matrices with a
//     negative pivot planted, and one with a NaN, among SPD ones), L = 0 there; else
//     max |L - L_cpu| <= 8 n u sqrt(cond) max |L_cpu| and the upper triangle exactly 0.
//   eigh (batched): |w - w_cpu| <= 16 n u ||A||_2 against kx::syevd_f64 (Weyl), ascending order,
//     ||A V - V diag(w)||_F <= 16 n u ||A||_2 sqrt(n), max |V^T V - I| <= 16 n u; matrices with
//     repeated and negative eigenvalues, n = 1, and vectors = null.
//   errors: non-finite input (E_RANGE), A = 0 (X = 0, 0 iterations; inverse E_NOT_SPD), a
//     negative eigenvalue (E_NO_CONVERGENCE, the others in the batch still right), max_iterations
//     too small (E_NO_CONVERGENCE), tol <= 0 / max_iterations < 1 (E_RANGE), n > kBatchedMaxN
//     (E_SHAPE), null pointers (E_INTERNAL), n = 0 / count = 0 (OK).
//   the Jacobi round-robin order: every pair once per sweep, pairs disjoint within a step.
//   chunking: the same results with a chunk budget of one matrix (set_linalg_chunk_bytes).
//   with a GPU: the emulation (kx::cuda::emu) against the GPU on small cases (the same block
//     code and fma arithmetic; max difference printed, bit identity expected).
// Timings (unless --no-bench; device-pointer API, CUDA events, after a warm-up): Newton-Schulz
// GFLOP/s counted as iterations x 3 GEMMs x 2 n^3 (the residual GEMMs of the last steps not
// counted: a lower bound), and matrices/s for the batched kernels and a batch of small square
// roots. Lines start with "BENCH".
//
// Without a GPU: the Jacobi order check, the argument errors, and the emulation on small cases
// (n <= 100) against the CPU kernels; then "no CUDA device: <reason>", exit 0.
//
// Exit status: 0 all checks passed (or no device and the emulation matched); 1 a mismatch;
// 2 a CUDA or allocation error, or bad arguments.
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "check_common.h"
#include "../../core/linalg.h"
#include "../kx_cuda.h"

namespace {

using kx::Status;
namespace kc = kx::cuda;

using ck::fail;
using ck::g_failures;
bool g_cuda_error = false;


// ---- a thread pool for the CPU references (kx::Exec) -------------------------------------------

struct RangeCtx {
  kx::RangeFn fn;
  void* ctx;
  int64_t n, grain, nchunks;
  std::atomic<int64_t> next{0};
};

void pool_for(void*, int64_t n, int64_t grain, kx::RangeFn fn, void* ctx) {
  if (grain < 1) grain = 1;
  const int64_t nchunks = (n + grain - 1) / grain;
  unsigned nt = std::thread::hardware_concurrency();
  if (nt < 1) nt = 1;
  if (nt > 32) nt = 32;
  if (nchunks <= 1 || nt == 1) {
    for (int64_t c = 0; c < nchunks; ++c)
      fn(ctx, c * grain, (c + 1) * grain < n ? (c + 1) * grain : n);
    return;
  }
  RangeCtx rc;
  rc.fn = fn, rc.ctx = ctx, rc.n = n, rc.grain = grain, rc.nchunks = nchunks;
  auto work = [&rc]() {
    for (;;) {
      const int64_t c = rc.next.fetch_add(1);
      if (c >= rc.nchunks) return;
      const int64_t b = c * rc.grain, e = b + rc.grain < rc.n ? b + rc.grain : rc.n;
      rc.fn(rc.ctx, b, e);
    }
  };
  const unsigned extra = (unsigned)(nchunks - 1 < (int64_t)nt - 1 ? nchunks - 1 : nt - 1);
  std::thread* th = new std::thread[extra];
  for (unsigned t = 0; t < extra; ++t) th[t] = std::thread(work);
  work();
  for (unsigned t = 0; t < extra; ++t) th[t].join();
  delete[] th;
}

const kx::Exec g_exec = {pool_for, nullptr};

// ---- random numbers, test matrices ----------------------------------------------------------------

using ck::splitmix64;
using ck::unif;
double gauss(uint64_t* s) { return (unif(s) + unif(s) + unif(s) + unif(s) - 2.0) * 1.7320508075688772; }

// M <- H M H for the Householder reflection H = I - 2 v v^T / v^T v (M symmetric, n x n); the
// update is symmetric entry by entry, so M stays exactly symmetric.
void reflect(int64_t n, const double* v, double* M, double* w) {
  double vv = 0;
  for (int64_t i = 0; i < n; ++i) vv += v[i] * v[i];
  if (vv == 0) return;
  const double beta = 2 / vv;
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    const double* row = M + i * n;
    for (int64_t j = 0; j < n; ++j) s += row[j] * v[j];
    w[i] = s;
  }
  double g = 0;
  for (int64_t i = 0; i < n; ++i) g += v[i] * w[i];
  const double b2g = beta * beta * g;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      M[i * n + j] += -beta * (v[i] * w[j] + w[i] * v[j]) + b2g * (v[i] * v[j]);
}

// A = Q diag(lambda) Q^T (and S = Q diag(f(lambda)) Q^T when S != null), Q = H1 H2 H3.
struct Spec {
  double cond = 10;      // lambda in [scale / cond, scale], log-spaced
  int negatives = 0;     // that many of the eigenvalues negated
  bool repeated = false; // eigenvalues in a few clusters of exact repeats
};

void make_sym(int64_t n, const Spec& sp, uint64_t* rng, double* A, double* S, double* lam_out,
              bool sqrt_inverse = false) {
  double* lam = (double*)malloc(sizeof(double) * n);
  double* v = (double*)malloc(sizeof(double) * n * 3);
  double* w = (double*)malloc(sizeof(double) * n);
  const double scale = exp(gauss(rng));
  for (int64_t i = 0; i < n; ++i) {
    const double t = n > 1 ? (double)i / (double)(n - 1) : 0.0;
    lam[i] = scale * pow(sp.cond, -t);
    if (sp.repeated) lam[i] = scale * (double)(1 + (i % 3));
  }
  for (int64_t i = n - 1; i > 0; --i) {  // shuffle
    const int64_t j = (int64_t)(unif(rng) * (double)(i + 1)) % (i + 1);
    const double t = lam[i];
    lam[i] = lam[j], lam[j] = t;
  }
  for (int k = 0; k < sp.negatives && k < n; ++k) lam[k] = -lam[k];
  for (int64_t i = 0; i < n * 3; ++i) v[i] = gauss(rng);
  for (int pass = 0; pass < 2; ++pass) {
    double* M = pass == 0 ? A : S;
    if (M == nullptr) continue;
    for (int64_t i = 0; i < n * n; ++i) M[i] = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double l = lam[i];
      M[i * n + i] = pass == 0 ? l : sqrt_inverse ? 1 / sqrt(l) : sqrt(l);
    }
    for (int r = 0; r < 3; ++r) reflect(n, v + r * n, M, w);
  }
  if (lam_out != nullptr) memcpy(lam_out, lam, sizeof(double) * n);
  free(lam), free(v), free(w);
}

template <class T>
void to_t(int64_t n, const double* a, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (T)a[i];
}
template <class T>
void to_d(int64_t n, const T* a, double* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (double)a[i];
}

double frob(int64_t m, const double* a) {
  double s = 0;
  for (int64_t i = 0; i < m; ++i) s += a[i] * a[i];
  return sqrt(s);
}

template <class T>
const char* tname();
template <>
const char* tname<double>() { return "f64"; }
template <>
const char* tname<float>() { return "f32"; }
template <class T>
double unit();
template <>
double unit<double>() { return 0x1p-53; }
template <>
double unit<float>() { return 0x1p-24; }

// ---- the implementations under test ----------------------------------------------------------

struct Api {
  const char* name;
  Status (*ns64)(int64_t, int64_t, const double*, double*, bool, double, int32_t, int32_t*, double*,
                 char*, size_t);
  Status (*ns32)(int64_t, int64_t, const float*, float*, bool, double, int32_t, int32_t*, double*,
                 char*, size_t);
  Status (*chol64)(int64_t, int64_t, const double*, double*, int64_t*, char*, size_t);
  Status (*chol32)(int64_t, int64_t, const float*, float*, int64_t*, char*, size_t);
  Status (*eigh64)(int64_t, int64_t, const double*, double*, double*, char*, size_t);
  Status (*eigh32)(int64_t, int64_t, const float*, float*, float*, char*, size_t);
};

const Api kGpu = {"cuda",
                  kc::sqrtm_newton_schulz_f64,
                  kc::sqrtm_newton_schulz_f32,
                  kc::cholesky_batched_f64,
                  kc::cholesky_batched_f32,
                  kc::eigh_batched_f64,
                  kc::eigh_batched_f32};
const Api kEmu = {"emu",
                  kc::emu::sqrtm_newton_schulz_f64,
                  kc::emu::sqrtm_newton_schulz_f32,
                  kc::emu::cholesky_batched_f64,
                  kc::emu::cholesky_batched_f32,
                  kc::emu::eigh_batched_f64,
                  kc::emu::eigh_batched_f32};

Status ns(const Api& api, int64_t count, int64_t n, const double* a, double* x, bool inv,
          double tol, int32_t maxit, int32_t* it, double* res, char* err, size_t el) {
  return api.ns64(count, n, a, x, inv, tol, maxit, it, res, err, el);
}
Status ns(const Api& api, int64_t count, int64_t n, const float* a, float* x, bool inv, double tol,
          int32_t maxit, int32_t* it, double* res, char* err, size_t el) {
  return api.ns32(count, n, a, x, inv, tol, maxit, it, res, err, el);
}
Status chol(const Api& api, int64_t count, int64_t n, const double* a, double* L, int64_t* f,
            char* err, size_t el) {
  return api.chol64(count, n, a, L, f, err, el);
}
Status chol(const Api& api, int64_t count, int64_t n, const float* a, float* L, int64_t* f,
            char* err, size_t el) {
  return api.chol32(count, n, a, L, f, err, el);
}
Status eigh(const Api& api, int64_t count, int64_t n, const double* a, double* w, double* v,
            char* err, size_t el) {
  return api.eigh64(count, n, a, w, v, err, el);
}
Status eigh(const Api& api, int64_t count, int64_t n, const float* a, float* w, float* v,
            char* err, size_t el) {
  return api.eigh32(count, n, a, w, v, err, el);
}

// ---- Newton-Schulz ---------------------------------------------------------------------------

// ||X X - A||_F / ||A||_F (inverse: ||X A X - I||_F / sqrt(n)) in float64.
double residual_of(int64_t n, const double* X, const double* A, bool inverse, double* w1,
                   double* w2) {
  if (inverse) {
    kx::gemm_f64(&g_exec, n, n, n, X, n, false, A, n, false, w1, n, 1.0, 0.0);
    kx::gemm_f64(&g_exec, n, n, n, w1, n, false, X, n, false, w2, n, 1.0, 0.0);
    for (int64_t i = 0; i < n; ++i) w2[i * n + i] -= 1;
    return frob(n * n, w2) / sqrt((double)n);
  }
  kx::gemm_f64(&g_exec, n, n, n, X, n, false, X, n, false, w2, n, 1.0, 0.0);
  for (int64_t i = 0; i < n * n; ++i) w2[i] -= A[i];
  return frob(n * n, w2) / frob(n * n, A);
}

template <class T>
void test_ns(const Api& api, uint64_t* rng, int64_t n, int64_t count, double cond, bool inverse) {
  const bool f32 = sizeof(T) == 4;
  const bool bad = cond > 1e4;
  // float32 residuals grow like n u (u = 2^-24; measured on an H200: 2.9e-5, 7.9e-5 and 1.7e-4 at
  // n = 1024, 2048, 4096), so above n = 256 the bound is max(5e-5, 1e-7 n).
  const double tol = f32 ? (bad ? 1e-4 : n <= 256 ? 1e-5 : std::max(5e-5, 1e-7 * (double)n)) : (bad ? 1e-10 : 1e-12);
  const double tol_x = f32 ? (bad ? 1e-2 : 1e-4) : (bad ? 1e-6 : 1e-10);
  const int64_t nn = n * n;
  double* A = (double*)malloc(sizeof(double) * nn * count);
  double* S = (double*)malloc(sizeof(double) * nn * count);
  T* a = (T*)malloc(sizeof(T) * nn * count);
  T* x = (T*)malloc(sizeof(T) * nn * count);
  double* X = (double*)malloc(sizeof(double) * nn);
  double* w1 = (double*)malloc(sizeof(double) * nn);
  double* w2 = (double*)malloc(sizeof(double) * nn);
  int32_t* it = (int32_t*)malloc(sizeof(int32_t) * count);
  double* res = (double*)malloc(sizeof(double) * count);
  Spec sp;
  sp.cond = cond;
  for (int64_t m = 0; m < count; ++m)
    make_sym(n, sp, rng, A + m * nn, S + m * nn, nullptr, inverse);
  to_t(nn * count, A, a);
  to_d(nn * count, a, A);  // the reference uses the rounded input
  char err[512] = {0};
  const Status s = ns(api, count, n, a, x, inverse, tol, 100, it, res, err, sizeof err);
  printf("  %s sqrtm%s %s n=%lld count=%lld cond=%.0e tol=%.0e: %s", api.name,
         inverse ? "^-1" : "", tname<T>(), (long long)n, (long long)count, cond, tol,
         kx::status_name(s));
  if (s != kx::OK) {
    printf("\n");
    fail("%s", err);
  } else {
    double max_res = 0, max_res_here = 0, max_ex = 0, max_cpu = -1;
    int32_t it_lo = 1 << 30, it_hi = 0, cpu_it = -1;
    for (int64_t m = 0; m < count; ++m) {
      to_d(nn, x + m * nn, X);
      const double r = residual_of(n, X, A + m * nn, inverse, w1, w2);
      double d = 0;
      for (int64_t i = 0; i < nn; ++i) d += (X[i] - S[m * nn + i]) * (X[i] - S[m * nn + i]);
      const double ex = sqrt(d) / frob(nn, S + m * nn);
      if (res[m] > max_res) max_res = res[m];
      if (r > max_res_here) max_res_here = r;
      if (ex > max_ex) max_ex = ex;
      if (it[m] < it_lo) it_lo = it[m];
      if (it[m] > it_hi) it_hi = it[m];
      if (!(res[m] < tol)) fail("matrix %lld: residual %.3g >= tol %.3g", (long long)m, res[m], tol);
      const double rtol = 2 * tol + (f32 ? 1e-6 : 0);
      if (!(r < rtol))
        fail("matrix %lld: residual recomputed in float64 %.3g >= %.3g", (long long)m, r, rtol);
      if (!(ex <= tol_x))
        fail("matrix %lld: ||X - sqrt(A)|| / ||sqrt(A)|| = %.3g > %.3g", (long long)m, ex, tol_x);
      if (m < 3 && n <= 256) {  // the CPU kernels on the first few matrices
        int32_t ci = 0;
        double cr = 0;
        Status cs = kx::sqrtm_f64(&g_exec, n, A + m * nn, w1, kx::SQRTM_EIGH, inverse, tol, 1, &ci,
                                  &cr);
        if (cs == kx::OK) {
          double dd = 0, ss = 0;
          for (int64_t i = 0; i < nn; ++i) dd += (X[i] - w1[i]) * (X[i] - w1[i]), ss += w1[i] * w1[i];
          const double e = sqrt(dd / ss);
          if (e > max_cpu) max_cpu = e;
          if (!(e <= tol_x))
            fail("matrix %lld: ||X - sqrtm_f64(eigh)|| relative %.3g > %.3g", (long long)m, e, tol_x);
        } else {
          fail("matrix %lld: kx::sqrtm_f64 (eigh) returned %s", (long long)m, kx::status_name(cs));
        }
        if (m == 0) {
          cs = kx::sqrtm_f64(&g_exec, n, A, w1, kx::SQRTM_NEWTON_SCHULZ, inverse, tol, 100, &ci, &cr);
          cpu_it = cs == kx::OK ? ci : -1;
        }
      }
    }
    printf(", residual <= %.2e (float64 recomputed %.2e), err vs exact %.2e", max_res,
           max_res_here, max_ex);
    if (max_cpu >= 0) printf(", vs cpu eigh %.2e", max_cpu);
    printf(", iterations %d..%d", it_lo, it_hi);
    if (cpu_it >= 0) printf(" (cpu newton-schulz %d)", cpu_it);
    printf("\n");
  }
  free(A), free(S), free(a), free(x), free(X), free(w1), free(w2), free(it), free(res);
}

// Errors and special cases of the Newton-Schulz driver.
template <class T>
void test_ns_errors(const Api& api, uint64_t* rng) {
  printf("  %s sqrtm %s: error paths\n", api.name, tname<T>());
  const int64_t n = 9, nn = n * n, count = 4;
  double* A = (double*)malloc(sizeof(double) * nn * count);
  T* a = (T*)malloc(sizeof(T) * nn * count);
  T* x = (T*)malloc(sizeof(T) * nn * count);
  int32_t it[count];
  double res[count];
  char err[512];
  Spec sp;
  for (int64_t m = 0; m < count; ++m) make_sym(n, sp, rng, A + m * nn, nullptr, nullptr);
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  auto expect = [&](Status got, Status want, const char* what) {
    if (got != want) fail("%s: got %s, want %s (%s)", what, kx::status_name(got), kx::status_name(want), err);
    else printf("    %-52s %s%s%s\n", what, kx::status_name(got), got != kx::OK ? ": " : "",
                got != kx::OK ? err : "");
  };
  // A non-finite entry in matrix 2.
  to_t(nn * count, A, a);
  a[2 * nn + 5] = (T)NAN;
  err[0] = 0;
  expect(ns(api, count, n, a, x, false, tol, 100, it, res, err, sizeof err), kx::E_RANGE,
         "NaN entry");
  a[2 * nn + 5] = (T)INFINITY;
  err[0] = 0;
  expect(ns(api, count, n, a, x, true, tol, 100, it, res, err, sizeof err), kx::E_RANGE,
         "inf entry (inverse)");
  // A = 0 in matrix 1: X = 0, 0 iterations; inverse: E_NOT_SPD.
  to_t(nn * count, A, a);
  for (int64_t i = 0; i < nn; ++i) a[nn + i] = 0;
  for (int64_t i = 0; i < nn * count; ++i) x[i] = (T)7;
  err[0] = 0;
  Status s = ns(api, count, n, a, x, false, tol, 100, it, res, err, sizeof err);
  expect(s, kx::OK, "A = 0 in a batch");
  bool zero = true;
  for (int64_t i = 0; i < nn; ++i) zero = zero && x[nn + i] == 0;
  if (s == kx::OK && (!zero || it[1] != 0 || res[1] != 0))
    fail("A = 0: X zero %d, iterations %d, residual %g", (int)zero, it[1], res[1]);
  if (s == kx::OK && !(res[0] < tol && res[2] < tol && res[3] < tol))
    fail("A = 0: the other matrices' residuals %g %g %g", res[0], res[2], res[3]);
  err[0] = 0;
  expect(ns(api, count, n, a, x, true, tol, 100, it, res, err, sizeof err), kx::E_NOT_SPD,
         "A = 0, inverse");
  // A negative eigenvalue in matrix 3: E_NO_CONVERGENCE, the others converge.
  Spec neg;
  neg.negatives = 1;
  make_sym(n, neg, rng, A + 3 * nn, nullptr, nullptr);
  to_t(nn * count, A, a);
  err[0] = 0;
  s = ns(api, count, n, a, x, false, tol, 100, it, res, err, sizeof err);
  expect(s, kx::E_NO_CONVERGENCE, "a negative eigenvalue (matrix 3)");
  if (s == kx::E_NO_CONVERGENCE && (!(res[0] < tol && res[1] < tol && res[2] < tol) ||
                                   strstr(err, "matrix 3") == nullptr))
    fail("negative eigenvalue: residuals of the others %g %g %g, message '%s'", res[0], res[1],
         res[2], err);
  err[0] = 0;
  expect(ns(api, count, n, a, x, true, tol, 100, it, res, err, sizeof err), kx::E_NO_CONVERGENCE,
         "a negative eigenvalue, inverse");
  // Too few iterations.
  err[0] = 0;
  expect(ns(api, 1, n, a, x, false, tol, 2, it, res, err, sizeof err), kx::E_NO_CONVERGENCE,
         "max_iterations = 2");
  err[0] = 0;
  expect(ns(api, 1, n, a, x, false, 0.0, 100, it, res, err, sizeof err), kx::E_RANGE, "tol = 0");
  err[0] = 0;
  expect(ns(api, 1, n, a, x, false, tol, 0, it, res, err, sizeof err), kx::E_RANGE,
         "max_iterations = 0");
  err[0] = 0;
  expect(ns(api, 1, n, (const T*)nullptr, x, false, tol, 100, it, res, err, sizeof err), kx::E_INTERNAL,
         "a = null");
  err[0] = 0;
  expect(ns(api, -1, n, a, x, false, tol, 100, it, res, err, sizeof err), kx::E_SHAPE,
         "count = -1");
  err[0] = 0;
  it[0] = 5;
  expect(ns(api, 2, 0, (const T*)nullptr, (T*)nullptr, false, tol, 100, it, res, err, sizeof err), kx::OK,
         "n = 0");
  if (it[0] != 0) fail("n = 0: iterations %d", it[0]);
  err[0] = 0;
  expect(ns(api, 0, n, (const T*)nullptr, (T*)nullptr, false, tol, 100, nullptr, nullptr, err, sizeof err),
         kx::OK, "count = 0");
  free(A), free(a), free(x);
}

// ---- batched Cholesky ------------------------------------------------------------------------

template <class T>
void test_chol(const Api& api, uint64_t* rng, int64_t n, int64_t count, double cond) {
  const int64_t nn = n * n;
  double* A = (double*)malloc(sizeof(double) * nn * count);
  T* a = (T*)malloc(sizeof(T) * nn * count);
  T* L = (T*)malloc(sizeof(T) * nn * count);
  double* Lc = (double*)malloc(sizeof(double) * nn);
  int64_t* fa = (int64_t*)malloc(sizeof(int64_t) * count);
  Spec sp;
  sp.cond = cond;
  int planted = 0;
  for (int64_t m = 0; m < count; ++m) {
    make_sym(n, sp, rng, A + m * nn, nullptr, nullptr);
    if (m % 5 == 3) {  // a clearly negative pivot at k
      const int64_t k = (int64_t)(unif(rng) * (double)n) % n;
      A[m * nn + k * n + k] = -1e3 * fabs(A[m * nn]) - 1;
      ++planted;
    }
    if (m == 7 % count && count > 1 && n > 1) A[m * nn + (n - 1) * n] = NAN;  // lower triangle
    for (int64_t i = 0; i < n; ++i)  // garbage above the diagonal: must not be read
      for (int64_t j = i + 1; j < n; ++j) A[m * nn + i * n + j] = (m + i + j) % 2 ? 1e30 : -1e30;
  }
  to_t(nn * count, A, a);
  to_d(nn * count, a, A);
  char err[512] = {0};
  const Status s = chol(api, count, n, a, L, fa, err, sizeof err);
  printf("  %s cholesky %s n=%lld count=%lld cond=%.0e (%d planted failures): %s", api.name,
         tname<T>(), (long long)n, (long long)count, cond, planted, kx::status_name(s));
  if (s != kx::OK) {
    printf("\n");
    fail("%s", err);
  } else {
    const double tolL = 8.0 * (double)n * unit<T>() * (cond > 1 ? sqrt(cond) : 1.0);
    double worst = 0;
    int nfail = 0;
    for (int64_t m = 0; m < count; ++m) {
      int64_t cf = -1;
      const Status cs = kx::cholesky_f64(nullptr, n, A + m * nn, Lc, &cf);
      (void)cs;
      if (fa[m] != cf) {
        fail("matrix %lld: failed_at %lld, cpu %lld", (long long)m, (long long)fa[m],
             (long long)cf);
        continue;
      }
      if (cf >= 0) {
        ++nfail;
        for (int64_t i = 0; i < nn; ++i)
          if (L[m * nn + i] != 0) {
            fail("matrix %lld failed at %lld but L is not all zero", (long long)m, (long long)cf);
            break;
          }
        continue;
      }
      double mx = 0, d = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
          const double g = (double)L[m * nn + i * n + j], c = Lc[i * n + j];
          if (j > i && g != 0) {
            fail("matrix %lld: L[%lld][%lld] = %g above the diagonal", (long long)m, (long long)i,
                 (long long)j, g);
            i = n;
            break;
          }
          if (fabs(c) > mx) mx = fabs(c);
          if (fabs(g - c) > d) d = fabs(g - c);
        }
      const double rel = mx > 0 ? d / mx : d;
      if (rel > worst) worst = rel;
      if (!(rel <= tolL)) fail("matrix %lld: max |L - L_cpu| / max |L_cpu| = %.3g > %.3g",
                               (long long)m, rel, tolL);
    }
    printf(", %d failed as on the cpu, max rel err %.2e (<= %.2e)\n", nfail, worst, tolL);
  }
  free(A), free(a), free(L), free(Lc), free(fa);
}

// ---- batched eigh ------------------------------------------------------------------------------

template <class T>
void test_eigh(const Api& api, uint64_t* rng, int64_t n, int64_t count, double cond, bool vectors) {
  const int64_t nn = n * n;
  double* A = (double*)malloc(sizeof(double) * nn * count);
  T* a = (T*)malloc(sizeof(T) * nn * count);
  T* w = (T*)malloc(sizeof(T) * n * count);
  T* V = vectors ? (T*)malloc(sizeof(T) * nn * count) : nullptr;
  double* wc = (double*)malloc(sizeof(double) * n);
  double* Vc = (double*)malloc(sizeof(double) * nn);
  double* lam = (double*)malloc(sizeof(double) * n);
  for (int64_t m = 0; m < count; ++m) {
    Spec sp;
    sp.cond = cond;
    sp.negatives = m % 4 == 1 ? (int)(n / 2) : 0;  // indefinite
    sp.repeated = m % 4 == 2;                      // repeated eigenvalues
    make_sym(n, sp, rng, A + m * nn, nullptr, lam);
    for (int64_t i = 0; i < n; ++i)  // garbage above the diagonal: must not be read
      for (int64_t j = i + 1; j < n; ++j) A[m * nn + i * n + j] = 1e30;
  }
  to_t(nn * count, A, a);
  to_d(nn * count, a, A);
  for (int64_t m = 0; m < count; ++m)  // the symmetric matrices the lower triangles describe
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) A[m * nn + i * n + j] = A[m * nn + j * n + i];
  char err[512] = {0};
  const Status s = eigh(api, count, n, a, w, V, err, sizeof err);
  printf("  %s eigh %s n=%lld count=%lld cond=%.0e%s: %s", api.name, tname<T>(), (long long)n,
         (long long)count, cond, vectors ? "" : " (values only)", kx::status_name(s));
  if (s != kx::OK) {
    printf("\n");
    fail("%s", err);
  } else {
    const double u = unit<T>();
    double worst_w = 0, worst_r = 0, worst_o = 0;
    for (int64_t m = 0; m < count; ++m) {
      const Status cs = kx::syevd_f64(nullptr, n, A + m * nn, wc, Vc);
      if (cs != kx::OK) {
        fail("matrix %lld: kx::syevd_f64 returned %s", (long long)m, kx::status_name(cs));
        continue;
      }
      const double norm2 = fabs(wc[0]) > fabs(wc[n - 1]) ? fabs(wc[0]) : fabs(wc[n - 1]);
      const double tw = 16.0 * (double)n * u * norm2;
      double dw = 0;
      for (int64_t k = 0; k < n; ++k) {
        const double d = fabs((double)w[m * n + k] - wc[k]);
        if (d > dw) dw = d;
        if (k > 0 && !(w[m * n + k - 1] <= w[m * n + k]))
          fail("matrix %lld: values not ascending at %lld", (long long)m, (long long)k);
      }
      if (dw / norm2 > worst_w) worst_w = dw / norm2;
      if (!(dw <= tw)) fail("matrix %lld: max |w - w_cpu| = %.3g > %.3g", (long long)m, dw, tw);
      if (!vectors) continue;
      const T* Vm = V + m * nn;
      double r2 = 0, o = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < n; ++k) {
          double av = 0, vv = 0;
          for (int64_t j = 0; j < n; ++j) {
            av += A[m * nn + i * n + j] * (double)Vm[j * n + k];
            vv += (double)Vm[j * n + i] * (double)Vm[j * n + k];
          }
          const double rr = av - (double)Vm[i * n + k] * (double)w[m * n + k];
          r2 += rr * rr;
          const double oo = fabs(vv - (i == k ? 1.0 : 0.0));
          if (oo > o) o = oo;
        }
      const double r = sqrt(r2) / norm2;
      if (r > worst_r) worst_r = r;
      if (o > worst_o) worst_o = o;
      const double tr = 16.0 * (double)n * u * sqrt((double)n), to = 16.0 * (double)n * u;
      if (!(r <= tr)) fail("matrix %lld: ||A V - V diag(w)||_F / ||A||_2 = %.3g > %.3g",
                           (long long)m, r, tr);
      if (!(o <= to)) fail("matrix %lld: max |V^T V - I| = %.3g > %.3g", (long long)m, o, to);
    }
    printf(", max |w - w_cpu| / ||A|| %.2e", worst_w);
    if (vectors) printf(", residual %.2e, orthogonality %.2e", worst_r, worst_o);
    printf("\n");
  }
  free(A), free(a), free(w), free(V), free(wc), free(Vc), free(lam);
}

template <class T>
void test_batched_errors(const Api& api) {
  printf("  %s batched %s: error paths\n", api.name, tname<T>());
  const int64_t n = 5, nn = 25;
  T a[2 * nn], out[2 * nn], w[2 * n];
  int64_t fa[2];
  char err[512];
  for (int64_t i = 0; i < 2 * nn; ++i) a[i] = (i % nn) % (n + 1) == 0 ? T(2) : T(0.1);
  auto expect = [&](Status got, Status want, const char* what) {
    if (got != want) fail("%s: got %s, want %s (%s)", what, kx::status_name(got), kx::status_name(want), err);
    else printf("    %-52s %s%s%s\n", what, kx::status_name(got), got != kx::OK ? ": " : "",
                got != kx::OK ? err : "");
  };
  T big[1];
  err[0] = 0;
  expect(chol(api, 1, kc::kBatchedMaxN + 1, big, big, fa, err, sizeof err), kx::E_SHAPE,
         "cholesky n = kBatchedMaxN + 1");
  err[0] = 0;
  expect(eigh(api, 1, kc::kBatchedMaxN + 1, big, big, big, err, sizeof err), kx::E_SHAPE,
         "eigh n = kBatchedMaxN + 1");
  err[0] = 0;
  expect(chol(api, 2, n, (const T*)nullptr, out, fa, err, sizeof err), kx::E_INTERNAL, "cholesky a = null");
  err[0] = 0;
  expect(eigh(api, 2, n, a, nullptr, out, err, sizeof err), kx::E_INTERNAL, "eigh values = null");
  err[0] = 0;
  expect(chol(api, -1, n, a, out, fa, err, sizeof err), kx::E_SHAPE, "cholesky count = -1");
  err[0] = 0;
  expect(chol(api, 0, n, (const T*)nullptr, (T*)nullptr, nullptr, err, sizeof err), kx::OK, "cholesky count = 0");
  err[0] = 0;
  fa[0] = 5;
  expect(chol(api, 1, 0, (const T*)nullptr, (T*)nullptr, fa, err, sizeof err), kx::OK, "cholesky n = 0");
  if (fa[0] != -1) fail("cholesky n = 0: failed_at %lld", (long long)fa[0]);
  err[0] = 0;
  expect(chol(api, 2, n, a, out, nullptr, err, sizeof err), kx::OK, "cholesky failed_at = null");
  T b[2 * nn];
  memcpy(b, a, sizeof b);
  b[nn + 3 * n + 1] = (T)INFINITY;
  err[0] = 0;
  expect(eigh(api, 2, n, b, w, out, err, sizeof err), kx::E_RANGE, "eigh inf entry (matrix 1)");
  b[nn + 3 * n + 1] = (T)0.1;
  b[nn + 1 * n + 3] = (T)NAN;  // above the diagonal: not read
  err[0] = 0;
  expect(eigh(api, 2, n, b, w, nullptr, err, sizeof err), kx::OK, "eigh NaN above the diagonal");
}

// Every pair of 0 .. m-1 once per sweep; the pairs of one step disjoint.
void check_jacobi_order() {
  int bad = 0;
  for (int64_t m = 2; m <= kc::kBatchedMaxN; m += 2) {
    static int seen[64][64];
    memset(seen, 0, sizeof seen);
    for (int64_t s = 0; s < m - 1; ++s) {
      int used[64] = {0};
      for (int64_t k = 0; k < m / 2; ++k) {
        int64_t p = -1, q = -1;
        kc::jacobi_sweep_pair(m, s, k, &p, &q);
        if (p < 0 || q >= m || p >= q || used[p] || used[q]) {
          ++bad;
          continue;
        }
        used[p] = used[q] = 1;
        ++seen[p][q];
      }
    }
    for (int64_t p = 0; p < m; ++p)
      for (int64_t q = p + 1; q < m; ++q)
        if (seen[p][q] != 1) ++bad;
  }
  printf("jacobi round-robin order (m = 2 .. %lld): %s\n", (long long)kc::kBatchedMaxN,
         bad ? "WRONG" : "every pair once per sweep, disjoint per step");
  if (bad) fail("jacobi order: %d problems", bad);
}

// The host-memory API without a device: E_BACKEND with the reason.
void check_no_device() {
  char err[512] = {0};
  double a[4] = {2, 0, 0, 2}, x[4];
  int32_t it;
  double res;
  int64_t fa;
  Status s = kc::sqrtm_newton_schulz_f64(1, 2, a, x, false, 1e-12, 50, &it, &res, err, sizeof err);
  if (s != kx::E_BACKEND || strncmp(err, "no CUDA device", 14) != 0)
    fail("sqrtm without a device: %s '%s'", kx::status_name(s), err);
  s = kc::cholesky_batched_f64(1, 2, a, x, &fa, err, sizeof err);
  if (s != kx::E_BACKEND) fail("cholesky without a device: %s '%s'", kx::status_name(s), err);
  s = kc::eigh_batched_f64(1, 2, a, x, nullptr, err, sizeof err);
  if (s != kx::E_BACKEND) fail("eigh without a device: %s '%s'", kx::status_name(s), err);
  float af[4] = {2, 0, 0, 2}, xf[4];
  s = kc::sqrtm_newton_schulz_f32(1, 2, af, xf, true, 1e-5, 50, &it, &res, err, sizeof err);
  if (s != kx::E_BACKEND) fail("sqrtm f32 without a device: %s '%s'", kx::status_name(s), err);
  s = kc::cholesky_batched_f32(1, 2, af, xf, &fa, err, sizeof err);
  if (s != kx::E_BACKEND) fail("cholesky f32 without a device: %s '%s'", kx::status_name(s), err);
  s = kc::eigh_batched_f32(1, 2, af, xf, xf, err, sizeof err);
  if (s != kx::E_BACKEND) fail("eigh f32 without a device: %s '%s'", kx::status_name(s), err);
  printf("host-memory API without a device: E_BACKEND, '%s'\n", err);
}

template <class T>
void run_all(const Api& api, uint64_t* rng, bool gpu, int64_t max_n) {
  const int64_t bn[] = {1, 2, 7, 16, 32};
  for (int64_t n : bn) {
    const int64_t counts[] = {1, 37, gpu || n <= 16 ? 1000 : 200};
    for (int64_t c : counts) {
      test_chol<T>(api, rng, n, c, 10);
      test_eigh<T>(api, rng, n, c, 10, true);
    }
    test_chol<T>(api, rng, n, 20, sizeof(T) == 4 ? 1e4 : 1e10);
    test_eigh<T>(api, rng, n, 20, sizeof(T) == 4 ? 1e4 : 1e10, true);
    test_eigh<T>(api, rng, n, 20, 10, false);
  }
  test_batched_errors<T>(api);
  // Newton-Schulz: small batches (one launch, grid.z = batch), edge tiles, then large n.
  const int64_t sn[] = {1, 2, 7, 16, 32, 65, 100};
  for (int64_t n : sn) {
    if (n > max_n) continue;
    const int64_t count = n <= 16 ? 50 : n <= 32 ? 10 : 2;
    test_ns<T>(api, rng, n, count, 1e2, false);
    test_ns<T>(api, rng, n, count, 1e2, true);
  }
  if (16 <= max_n) test_ns<T>(api, rng, 16, 8, sizeof(T) == 4 ? 1e6 : 1e8, false);
  if (gpu) {
    test_ns<T>(api, rng, 32, 1000, 1e2, false);
    const int64_t ln[] = {64, 256, 1024, 2048};
    for (int64_t n : ln) {
      if (n > max_n) continue;
      test_ns<T>(api, rng, n, n <= 256 ? 4 : 1, 1e2, false);
      test_ns<T>(api, rng, n, 1, 1e2, true);
    }
    if (256 <= max_n) test_ns<T>(api, rng, 256, 1, sizeof(T) == 4 ? 1e6 : 1e8, false);
  }
  test_ns_errors<T>(api, rng);
}

// Small cases through two implementations (the GPU and its emulation): max difference.
template <class T>
void compare_emu(uint64_t* rng) {
  const int64_t n = 23, count = 6, nn = n * n;
  double* A = (double*)malloc(sizeof(double) * nn * count);
  T* a = (T*)malloc(sizeof(T) * nn * count);
  T* x1 = (T*)malloc(sizeof(T) * nn * count);
  T* x2 = (T*)malloc(sizeof(T) * nn * count);
  T* w1 = (T*)malloc(sizeof(T) * n * count);
  T* w2 = (T*)malloc(sizeof(T) * n * count);
  int32_t i1[count], i2[count];
  double r1[count], r2[count];
  int64_t f1[count], f2[count];
  char err[512];
  Spec sp;
  for (int64_t m = 0; m < count; ++m) make_sym(n, sp, rng, A + m * nn, nullptr, nullptr);
  to_t(nn * count, A, a);
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  double dx = 0, dw = 0, dl = 0, dr = 0;
  int di = 0;
  if (kGpu.ns64 && ns(kGpu, count, n, a, x1, false, tol, 100, i1, r1, err, sizeof err) == kx::OK &&
      ns(kEmu, count, n, a, x2, false, tol, 100, i2, r2, err, sizeof err) == kx::OK) {
    for (int64_t i = 0; i < nn * count; ++i) dx = fmax(dx, fabs((double)x1[i] - (double)x2[i]));
    for (int64_t m = 0; m < count; ++m) di += i1[m] != i2[m], dr = fmax(dr, fabs(r1[m] - r2[m]));
  } else {
    fail("gpu vs emu sqrtm: %s", err);
  }
  if (chol(kGpu, count, n, a, x1, f1, err, sizeof err) == kx::OK &&
      chol(kEmu, count, n, a, x2, f2, err, sizeof err) == kx::OK) {
    for (int64_t i = 0; i < nn * count; ++i) dl = fmax(dl, fabs((double)x1[i] - (double)x2[i]));
  } else {
    fail("gpu vs emu cholesky: %s", err);
  }
  if (eigh(kGpu, count, n, a, w1, x1, err, sizeof err) == kx::OK &&
      eigh(kEmu, count, n, a, w2, x2, err, sizeof err) == kx::OK) {
    for (int64_t i = 0; i < n * count; ++i) dw = fmax(dw, fabs((double)w1[i] - (double)w2[i]));
  } else {
    fail("gpu vs emu eigh: %s", err);
  }
  printf("  gpu vs emu %s (n=%lld, %lld matrices): max |diff| sqrtm %.3g (residual %.3g, %d "
         "iteration counts differ), cholesky %.3g, eigh values %.3g%s\n",
         tname<T>(), (long long)n, (long long)count, dx, dr, di, dl, dw,
         dx == 0 && dl == 0 && dw == 0 && dr == 0 ? " (bit identical)" : "");
  if (di != 0) fail("gpu and emu iteration counts differ");
  free(A), free(a), free(x1), free(x2), free(w1), free(w2);
}

// ---- timings --------------------------------------------------------------------------------

Status dev_ns(int64_t count, int64_t n, const double* a, double* x, bool inv, double tol,
              int32_t* it, double* res, char* err, size_t el) {
  return kc::dev::sqrtm_newton_schulz_f64(count, n, a, x, inv, tol, 100, it, res, nullptr, err, el);
}
Status dev_ns(int64_t count, int64_t n, const float* a, float* x, bool inv, double tol,
              int32_t* it, double* res, char* err, size_t el) {
  return kc::dev::sqrtm_newton_schulz_f32(count, n, a, x, inv, tol, 100, it, res, nullptr, err, el);
}

template <class T>
int bench_ns(uint64_t* rng, int64_t n, int64_t count, int reps, bool inverse) {
  const int64_t nn = n * n;
  double* A = (double*)malloc(sizeof(double) * nn * count);
  T* a = (T*)malloc(sizeof(T) * nn * count);
  Spec sp;
  sp.cond = 1e2;
  for (int64_t m = 0; m < count; ++m) make_sym(n, sp, rng, A + m * nn, nullptr, nullptr);
  to_t(nn * count, A, a);
  T *da = nullptr, *dx = nullptr;
  CK(cudaMalloc(&da, sizeof(T) * nn * count));
  CK(cudaMalloc(&dx, sizeof(T) * nn * count));
  CK(cudaMemcpy(da, a, sizeof(T) * nn * count, cudaMemcpyHostToDevice));
  int32_t* it = (int32_t*)malloc(sizeof(int32_t) * count);
  double* res = (double*)malloc(sizeof(double) * count);
  const double tol = sizeof(T) == 4 ? (n <= 256 ? 1e-5 : std::max(5e-5, 1e-7 * (double)n)) : 1e-12;  // see above
  char err[512] = {0};
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  float best = 1e30f;
  Status s = kx::OK;
  for (int r = 0; r <= reps && s == kx::OK; ++r) {  // r = 0: warm-up
    CK(cudaEventRecord(e0, nullptr));
    s = dev_ns(count, n, da, dx, inverse, tol, it, res, err, sizeof err);
    CK(cudaEventRecord(e1, nullptr));
    CK(cudaEventSynchronize(e1));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, e0, e1));
    if (r > 0 && ms < best) best = ms;
  }
  if (s != kx::OK) {
    fail("bench sqrtm n=%lld: %s %s", (long long)n, kx::status_name(s), err);
  } else {
    double iters = 0;
    for (int64_t m = 0; m < count; ++m) iters += it[m];
    const double flops = iters * 3.0 * 2.0 * (double)n * (double)n * (double)n;
    printf("BENCH sqrtm%s %s n=%lld count=%lld iterations %.1f (mean) %.3f ms  %.1f GFLOP/s  "
           "%.0f matrices/s\n",
           inverse ? "^-1" : "", tname<T>(), (long long)n, (long long)count, iters / (double)count,
           best, flops / (best * 1e-3) / 1e9, (double)count / (best * 1e-3));
  }
  cudaEventDestroy(e0), cudaEventDestroy(e1);
  cudaFree(da), cudaFree(dx);
  free(A), free(a), free(it), free(res);
  return 0;
}

template <class T>
int bench_batched(uint64_t* rng, int64_t n, int64_t count, int reps) {
  const int64_t nn = n * n;
  double* A = (double*)malloc(sizeof(double) * nn * count);
  T* a = (T*)malloc(sizeof(T) * nn * count);
  Spec sp;
  for (int64_t m = 0; m < count; ++m) make_sym(n, sp, rng, A + m * nn, nullptr, nullptr);
  to_t(nn * count, A, a);
  T *da, *dl, *dw;
  int64_t* df;
  int32_t* di;
  CK(cudaMalloc(&da, sizeof(T) * nn * count));
  CK(cudaMalloc(&dl, sizeof(T) * nn * count));
  CK(cudaMalloc(&dw, sizeof(T) * n * count));
  CK(cudaMalloc(&df, sizeof(int64_t) * count));
  CK(cudaMalloc(&di, sizeof(int32_t) * count));
  CK(cudaMemcpy(da, a, sizeof(T) * nn * count, cudaMemcpyHostToDevice));
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  char err[512] = {0};
  for (int which = 0; which < 2; ++which) {
    float best = 1e30f;
    for (int r = 0; r <= reps; ++r) {
      CK(cudaEventRecord(e0, nullptr));
      Status s;
      if (which == 0)
        s = sizeof(T) == 8 ? kc::dev::cholesky_batched_f64(count, n, (const double*)da, (double*)dl,
                                                           df, nullptr, err, sizeof err)
                           : kc::dev::cholesky_batched_f32(count, n, (const float*)da, (float*)dl,
                                                           df, nullptr, err, sizeof err);
      else
        s = sizeof(T) == 8 ? kc::dev::eigh_batched_f64(count, n, (const double*)da, (double*)dw,
                                                       (double*)dl, di, nullptr, err, sizeof err)
                           : kc::dev::eigh_batched_f32(count, n, (const float*)da, (float*)dw,
                                                       (float*)dl, di, nullptr, err, sizeof err);
      if (s != kx::OK) {
        fail("bench %s: %s %s", which ? "eigh" : "cholesky", kx::status_name(s), err);
        break;
      }
      CK(cudaEventRecord(e1, nullptr));
      CK(cudaEventSynchronize(e1));
      float ms = 0;
      CK(cudaEventElapsedTime(&ms, e0, e1));
      if (r > 0 && ms < best) best = ms;
    }
    printf("BENCH %s %s n=%lld count=%lld %.3f ms  %.3g matrices/s\n",
           which ? "eigh" : "cholesky", tname<T>(), (long long)n, (long long)count, best,
           (double)count / (best * 1e-3));
  }
  cudaEventDestroy(e0), cudaEventDestroy(e1);
  cudaFree(da), cudaFree(dl), cudaFree(dw), cudaFree(df), cudaFree(di);
  free(A), free(a);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CheckArgs args;
  args.reps = 5;
  args.max_n = 2048;
  if (!parse_check_args(argc, argv, &args)) return 2;
  const uint64_t seed = args.seed;
  const int reps = args.reps;
  const int64_t max_n = args.max_n;
  const bool do_bench = args.do_bench, do_emu = args.do_emu;
  printf("kexue CUDA linear algebra check, seed %llu (rerun with --seed %llu)\n",
         (unsigned long long)seed, (unsigned long long)seed);
  uint64_t rng = seed;
  check_jacobi_order();
  char reason[256] = {0};
  const int ndev = kc::device_count(reason, sizeof reason);
  if (ndev == 0) check_no_device();
  if (do_emu) {
    printf("the kernels' block code on the CPU (emu) against the CPU kernels:\n");
    run_all<double>(kEmu, &rng, false, max_n < 100 ? max_n : 100);
    run_all<float>(kEmu, &rng, false, max_n < 100 ? max_n : 100);
    // Chunking: one matrix per chunk gives the same results.
    const int64_t prev = kc::set_linalg_chunk_bytes(1);
    test_ns<double>(kEmu, &rng, 7, 5, 1e2, false);
    test_chol<float>(kEmu, &rng, 7, 11, 10);
    test_eigh<double>(kEmu, &rng, 7, 11, 10, true);
    kc::set_linalg_chunk_bytes(prev);
  }
  if (ndev == 0) {
    if (g_failures > 0) {
      printf("FAILED: %d check(s) in the CPU emulation\n", g_failures);
      return 1;
    }
    printf("no CUDA device: %s\n", reason);
    return 0;
  }
  char err[256] = {0}, name[256] = {0};
  const int dev = kc::default_device(err, sizeof err);
  int major = 0, minor = 0, rt = 0, drv = 0;
  size_t mem = 0;
  kc::versions(&rt, &drv);
  if (dev < 0 || kc::device_info(dev, name, sizeof name, &major, &minor, &mem, err, sizeof err) !=
                     kx::OK) {
    printf("CUDA error: %s\n", err);
    return 2;
  }
  printf("device %d: %s, compute capability %d.%d, %.1f GiB, runtime %d, driver %d\n", dev, name,
         major, minor, (double)mem / (1 << 30), rt, drv);
  printf("the CUDA kernels against the CPU kernels:\n");
  run_all<double>(kGpu, &rng, true, max_n);
  run_all<float>(kGpu, &rng, true, max_n);
  {
    const int64_t prev = kc::set_linalg_chunk_bytes(1);
    printf("  (one matrix per chunk)\n");
    test_ns<double>(kGpu, &rng, 40, 5, 1e2, true);
    test_chol<float>(kGpu, &rng, 7, 11, 10);
    test_eigh<double>(kGpu, &rng, 7, 11, 10, true);
    kc::set_linalg_chunk_bytes(prev);
  }
  if (do_emu) {
    compare_emu<double>(&rng);
    compare_emu<float>(&rng);
  }
  if (do_bench) {
    CK(cudaSetDevice(dev));
    int rc = 0;
    const int64_t big[] = {256, 1024, 2048, 4096};
    for (int64_t n : big) {
      if ((rc = bench_ns<float>(&rng, n, 1, reps, false)) != 0) return rc;
      if ((rc = bench_ns<double>(&rng, n, 1, reps, false)) != 0) return rc;
    }
    if ((rc = bench_ns<float>(&rng, 1024, 1, reps, true)) != 0) return rc;
    if ((rc = bench_ns<float>(&rng, 16, 10000, reps, false)) != 0) return rc;
    if ((rc = bench_ns<double>(&rng, 32, 1000, reps, false)) != 0) return rc;
    const int64_t sm[] = {4, 16, 32};
    for (int64_t n : sm) {
      if ((rc = bench_batched<float>(&rng, n, 100000, reps)) != 0) return rc;
      if ((rc = bench_batched<double>(&rng, n, 100000, reps)) != 0) return rc;
    }
  }
  if (g_failures > 0 || g_cuda_error) {
    printf("FAILED: %d check(s)\n", g_failures);
    return 1;
  }
  printf("all linear algebra checks passed\n");
  return 0;
}
