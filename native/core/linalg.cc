// Dense float64 kernels of the Gaussian route (linalg.h): blocked Cholesky (right-looking, the
// trailing update on the project's GEMM) and the W2 trace. Our own code so that the CPU addon and
// the wasm module share it without LAPACK. Determinism: parallel_for chunks depend only on the
// sizes, and each output element is written by exactly one chunk in a fixed order, so the thread
// count never changes a bit.
#include "linalg.h"

#include <math.h>

namespace kx {

namespace {

// ---- Cholesky -----------------------------------------------------------------------------------

constexpr int64_t CHOL_NB = 128;

struct PanelJob {
  double* L;
  int64_t n, j0, jb, r0;
};

// Rows [r0 + begin, r0 + end) of the panel below the diagonal block: L21 = A21 L11^-T.
void chol_panel(void* ctx, int64_t begin, int64_t end) {
  const PanelJob& p = *static_cast<PanelJob*>(ctx);
  for (int64_t i = p.r0 + begin; i < p.r0 + end; ++i) {
    double* li = p.L + i * p.n;
    for (int64_t j = p.j0; j < p.j0 + p.jb; ++j) {
      const double* lj = p.L + j * p.n;
      double s = li[j];
      for (int64_t k = p.j0; k < j; ++k) s -= li[k] * lj[k];
      li[j] = s / lj[j];
    }
  }
}

}  // namespace

Status cholesky_f64(const Exec* ex, int64_t n, const double* a, double* L, int64_t* failed_at) {
  if (failed_at != nullptr) *failed_at = -1;
  if (n < 0) return E_SHAPE;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) L[i * n + j] = j <= i ? a[i * n + j] : 0;
  for (int64_t j0 = 0; j0 < n; j0 += CHOL_NB) {
    const int64_t jb = n - j0 < CHOL_NB ? n - j0 : CHOL_NB;
    // The diagonal block, unblocked (earlier blocks' contributions are already subtracted).
    for (int64_t j = j0; j < j0 + jb; ++j) {
      double* lj = L + j * n;
      double d = lj[j];
      for (int64_t k = j0; k < j; ++k) d -= lj[k] * lj[k];
      if (!(d > 0)) {
        if (failed_at != nullptr) *failed_at = j;
        for (int64_t i = 0; i < n * n; ++i) L[i] = 0;
        return E_RANGE;
      }
      lj[j] = sqrt(d);
      for (int64_t i = j + 1; i < j0 + jb; ++i) {
        double* li = L + i * n;
        double s = li[j];
        for (int64_t k = j0; k < j; ++k) s -= li[k] * lj[k];
        li[j] = s / lj[j];
      }
    }
    const int64_t r0 = j0 + jb, rest = n - r0;
    if (rest == 0) break;
    PanelJob pj{L, n, j0, jb, r0};
    parallel_for(ex, rest, 16, chol_panel, &pj);
    // Trailing update of the lower triangle: A22 -= L21 L21^T.
    const Status s = gemm_f64_lower(ex, rest, jb, L + r0 * n + j0, n, false, L + r0 * n + j0, n, true, L + r0 * n + r0, n, -1.0, 1.0);
    if (s != OK) return s;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) L[i * n + j] = 0;
  return OK;
}

Status w2_trace_f64(const Exec* ex, int64_t n, const double* s1, const double* s2, double* trace, int64_t* failed_at) {
  if (failed_at != nullptr) *failed_at = -1;
  *trace = 0;
  if (n < 0) return E_SHAPE;
  if (n == 0) return OK;
  double* buf = static_cast<double*>(alloc(sizeof(double) * (3 * n * n + n)));
  if (buf == nullptr) return E_OOM;
  double* L = buf;
  double* T = buf + n * n;
  double* M = buf + 2 * n * n;
  double* lam = buf + 3 * n * n;
  Status s = cholesky_f64(ex, n, s1, L, failed_at);
  if (s == OK) s = gemm_f64(ex, n, n, n, L, n, true, s2, n, false, T, n, 1.0, 0.0);  // T = L^T S2
  if (s == OK) s = gemm_f64(ex, n, n, n, T, n, false, L, n, false, M, n, 1.0, 0.0);  // M = T L
  if (s == OK) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < i; ++j) M[i * n + j] = M[j * n + i] = 0.5 * (M[i * n + j] + M[j * n + i]);
    s = syevals_f64(ex, n, M, lam);
  }
  if (s == OK) {
    double acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += sqrt(lam[i] > 0 ? lam[i] : 0);
    *trace = acc;
  }
  release(buf);
  return s;
}

}  // namespace kx
