// Dense float64 kernels of the Gaussian route (linalg.h): blocked Cholesky (right-looking, the
// trailing update on the project's GEMM), the W2 trace, blocked LU and solves, the matrix square
// root (eigh, Newton-Schulz, Denman-Beavers on the GEMM) and feature statistics. Our own code so that the CPU addon and
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

// M = L^T S2 L (lower triangle) with L lower triangular, in 4/3 n^3 flops instead of 4 n^3:
// T = S2 L column block by column block (T[:, J] = S2[:, j0:] L[j0:, J]), then row block I of M
// from L[i0:, I]^T T[i0:, 0:i1]. Blocks of W2_NB; zero parts of L inside a block are multiplied
// as zeros (exact).
constexpr int64_t W2_NB = 128;

Status lt_s_l(const Exec* ex, int64_t n, const double* L, const double* S2, double* T, double* M) {
  for (int64_t j0 = 0; j0 < n; j0 += W2_NB) {
    const int64_t jb = n - j0 < W2_NB ? n - j0 : W2_NB;
    const Status s = gemm_f64(ex, n, jb, n - j0, S2 + j0, n, false, L + j0 * n + j0, n, false, T + j0, n, 1.0, 0.0);
    if (s != OK) return s;
  }
  for (int64_t i0 = 0; i0 < n; i0 += W2_NB) {
    const int64_t ib = n - i0 < W2_NB ? n - i0 : W2_NB;
    const Status s = gemm_f64(ex, ib, i0 + ib, n - i0, L + i0 * n + i0, n, true, T + i0 * n, n, false, M + i0 * n, n, 1.0, 0.0);
    if (s != OK) return s;
  }
  return OK;
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
  if (s == OK) s = lt_s_l(ex, n, L, s2, T, M);  // lower triangle of M = L^T S2 L
  if (s == OK) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j)
        if (!isfinite(M[i * n + j])) s = E_RANGE;
    if (s == OK) s = syevals_f64(ex, n, M, lam);
  }
  if (s == OK) {
    double acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += sqrt(lam[i] > 0 ? lam[i] : 0);
    *trace = acc;
  }
  release(buf);
  return s;
}

// ---- LU with partial pivoting ---------------------------------------------------------------------

namespace {

constexpr int64_t LU_NB = 64;

bool all_finite(const double* a, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (!isfinite(a[i])) return false;
  return true;
}

void swap_rows(double* a, int64_t n, int64_t r1, int64_t r2, int64_t cols) {
  if (r1 == r2) return;
  double* x = a + r1 * n;
  double* y = a + r2 * n;
  for (int64_t c = 0; c < cols; ++c) {
    const double t = x[c];
    x[c] = y[c];
    y[c] = t;
  }
}

}  // namespace

// Right-looking blocked LU (LAPACK dgetrf's order): an unblocked panel of LU_NB columns with row
// swaps applied to whole rows, the block row of U by a unit-lower triangular solve, and the
// trailing update on the GEMM.
Status lu_factor_f64(const Exec* ex, int64_t n, double* a, int64_t* piv) {
  if (n < 0) return E_SHAPE;
  if (!all_finite(a, n * n)) return E_RANGE;
  for (int64_t j0 = 0; j0 < n; j0 += LU_NB) {
    const int64_t j1 = n - j0 < LU_NB ? n : j0 + LU_NB;
    for (int64_t j = j0; j < j1; ++j) {
      int64_t p = j;
      double best = fabs(a[j * n + j]);
      for (int64_t i = j + 1; i < n; ++i) {
        const double v = fabs(a[i * n + j]);
        if (v > best) best = v, p = i;
      }
      piv[j] = p;
      if (best == 0) return E_RANGE;  // exactly singular
      swap_rows(a, n, j, p, n);
      const double* rj = a + j * n;
      const double inv = 1.0 / rj[j];
      for (int64_t i = j + 1; i < n; ++i) {
        double* ri = a + i * n;
        const double l = ri[j] * inv;
        ri[j] = l;
        for (int64_t c = j + 1; c < j1; ++c) ri[c] -= l * rj[c];
      }
    }
    if (j1 == n) break;
    // U12 = L11^-1 A12 (rows j0..j1, columns j1..n)
    for (int64_t i = j0 + 1; i < j1; ++i) {
      double* ri = a + i * n;
      for (int64_t k = j0; k < i; ++k) {
        const double l = ri[k];
        const double* rk = a + k * n;
        for (int64_t c = j1; c < n; ++c) ri[c] -= l * rk[c];
      }
    }
    // A22 -= L21 U12
    const Status s = gemm_f64(ex, n - j1, n - j1, j1 - j0, a + j1 * n + j0, n, false, a + j0 * n + j1, n, false,
                              a + j1 * n + j1, n, -1.0, 1.0);
    if (s != OK) return s;
  }
  return OK;
}

// Blocked substitutions: the off-diagonal part of each block row of LU_NB rows on the GEMM, the
// diagonal block by row operations.
Status lu_solve_f64(const Exec* ex, int64_t n, int64_t m, const double* lu, const int64_t* piv, double* b) {
  if (n < 0 || m < 0) return E_SHAPE;
  for (int64_t i = 0; i < n; ++i) {
    if (piv[i] < i || piv[i] >= n) return E_RANGE;
    swap_rows(b, m, i, piv[i], m);
  }
  for (int64_t i0 = 0; i0 < n; i0 += LU_NB) {  // L y = P b (unit lower)
    const int64_t i1 = n - i0 < LU_NB ? n : i0 + LU_NB;
    if (i0 > 0) {
      const Status s = gemm_f64(ex, i1 - i0, m, i0, lu + i0 * n, n, false, b, m, false, b + i0 * m, m, -1.0, 1.0);
      if (s != OK) return s;
    }
    for (int64_t i = i0 + 1; i < i1; ++i)
      for (int64_t k = i0; k < i; ++k) {
        const double l = lu[i * n + k];
        for (int64_t c = 0; c < m; ++c) b[i * m + c] -= l * b[k * m + c];
      }
  }
  for (int64_t i1 = n; i1 > 0; i1 -= LU_NB) {  // U x = y
    const int64_t i0 = i1 - LU_NB > 0 ? i1 - LU_NB : 0;
    if (i1 < n) {
      const Status s = gemm_f64(ex, i1 - i0, m, n - i1, lu + i0 * n + i1, n, false, b + i1 * m, m, false, b + i0 * m, m, -1.0, 1.0);
      if (s != OK) return s;
    }
    for (int64_t i = i1 - 1; i >= i0; --i) {
      for (int64_t k = i + 1; k < i1; ++k) {
        const double u = lu[i * n + k];
        for (int64_t c = 0; c < m; ++c) b[i * m + c] -= u * b[k * m + c];
      }
      const double inv = 1.0 / lu[i * n + i];
      for (int64_t c = 0; c < m; ++c) b[i * m + c] *= inv;
    }
  }
  return OK;
}

// ---- sqrtm -----------------------------------------------------------------------------------------

namespace {

double frob(const double* a, int64_t count) {
  // Scaled sum of squares in a fixed order (no overflow for huge entries).
  double scale = 0, ssq = 1;
  for (int64_t i = 0; i < count; ++i) {
    const double v = fabs(a[i]);
    if (v == 0) continue;
    if (scale < v) {
      ssq = 1 + ssq * (scale / v) * (scale / v);
      scale = v;
    } else {
      ssq += (v / scale) * (v / scale);
    }
  }
  return scale * sqrt(ssq);
}

// ||X X - A||_F / ||A||_F, or for inverse ||X A X - I||_F / sqrt(n). w: 2 n^2 scratch.
Status residual_of(const Exec* ex, int64_t n, const double* x, const double* a, bool inverse, double* w, double* out) {
  const int64_t nn = n * n;
  Status s;
  if (inverse) {
    s = gemm_f64(ex, n, n, n, x, n, false, a, n, false, w + nn, n, 1.0, 0.0);
    if (s == OK) s = gemm_f64(ex, n, n, n, w + nn, n, false, x, n, false, w, n, 1.0, 0.0);
    if (s != OK) return s;
    for (int64_t i = 0; i < n; ++i) w[i * n + i] -= 1;
    *out = frob(w, nn) / sqrt((double)(n > 0 ? n : 1));
    return OK;
  }
  s = gemm_f64(ex, n, n, n, x, n, false, x, n, false, w, n, 1.0, 0.0);
  if (s != OK) return s;
  for (int64_t i = 0; i < nn; ++i) w[i] -= a[i];
  const double na = frob(a, nn);
  *out = frob(w, nn) / (na > 0 ? na : 1);
  return OK;
}

Status sqrtm_eigh(const Exec* ex, int64_t n, const double* a, double* x, bool inverse, double* w) {
  const int64_t nn = n * n;
  double* values = w;  // n
  double* V = w + n;   // n x n (then W: n x n)
  Status s = syevd_f64(ex, n, a, values, V);
  if (s != OK) return s;
  const double big = fabs(values[0]) > fabs(values[n - 1]) ? fabs(values[0]) : fabs(values[n - 1]);
  const double tiny = (double)n * 2.220446049250313e-16 * big;
  for (int64_t k = 0; k < n; ++k) {
    if (values[k] < -tiny) return E_NOT_SPD;
    const double lam = values[k] > 0 ? values[k] : 0;
    if (inverse && !(lam > tiny)) return E_NOT_SPD;
    values[k] = inverse ? 1 / sqrt(lam) : sqrt(lam);
  }
  // X = (V diag(f)) V^T, then (X + X^T) / 2: exactly symmetric, and exact where V is (diagonal A).
  double* W = w + n + nn;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k) W[i * n + k] = V[i * n + k] * values[k];
  s = gemm_f64(ex, n, n, n, W, n, false, V, n, true, x, n, 1.0, 0.0);
  if (s != OK) return s;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) x[i * n + j] = x[j * n + i] = 0.5 * (x[i * n + j] + x[j * n + i]);
  return OK;
}

// Stopping rule of both iterations: stop at once when the residual is below
// stop_tol = min(tol, max(10 n eps, 1e-14)) (rounding level); stop when it stalls (after 10
// iterations, no 0.1% gain) or grows tenfold, or at max_iterations, keeping the best iterate: it
// is the answer when its residual is below tol, else E_NO_CONVERGENCE.
struct Tracker {
  double tol, stop_tol, best;
  int32_t best_it;
  double* xbest;
  int64_t nn;
  // Returns 1 to stop with success, -1 to stop with failure, 0 to go on.
  int see(int32_t it, const double* x, double res, bool last) {
    const double prev = best;
    if (res < best) {
      best = res, best_it = it;
      for (int64_t i = 0; i < nn; ++i) xbest[i] = x[i];
    }
    const bool stop = res < stop_tol || last || (it > 10 && res > 0.999 * prev) || res > 10 * prev || !isfinite(res);
    if (!stop) return 0;
    return best < tol ? 1 : -1;
  }
};

double stop_tol_of(int64_t n, double tol) {
  double r = 10.0 * (double)n * 2.220446049250313e-16;
  r = r > 1e-14 ? r : 1e-14;
  return r < tol ? r : tol;
}

// Coupled Newton-Schulz: Y0 = A / c, Z0 = I (c = ||A||_F); T = (3I - Z Y) / 2, Y <- Y T, Z <- T Z.
// ||I - Z Y||_F comes free each step; the true residual (one more GEMM) is computed once it is
// below 1e-2, i.e. only in the last, quadratically converging steps.
Status sqrtm_ns(const Exec* ex, int64_t n, const double* a, double* x, bool inverse, double tol, int32_t max_it,
                int32_t* iterations, double* residual, double* w) {
  const int64_t nn = n * n;
  const double c = frob(a, nn);
  if (c == 0) {
    if (inverse) return E_NOT_SPD;
    for (int64_t i = 0; i < nn; ++i) x[i] = 0;
    *iterations = 0;
    *residual = 0;
    return OK;
  }
  double *Y = w, *Z = w + nn, *T = w + 2 * nn, *U = w + 3 * nn, *R = w + 4 * nn;  // R: 2 n^2
  for (int64_t i = 0; i < nn; ++i) Y[i] = a[i] / c, Z[i] = 0;
  for (int64_t i = 0; i < n; ++i) Z[i * n + i] = 1;
  const double sc = sqrt(c);
  Tracker tr{tol, stop_tol_of(n, tol), INFINITY, 0, w + 6 * nn, nn};
  double best_proxy = INFINITY;
  for (int32_t it = 1; it <= max_it; ++it) {
    Status s = gemm_f64(ex, n, n, n, Z, n, false, Y, n, false, T, n, -0.5, 0.0);
    if (s != OK) return s;
    double proxy = 0;
    {
      for (int64_t i = 0; i < n; ++i) T[i * n + i] += 0.5;  // T = (I - Z Y) / 2 now
      proxy = 2 * frob(T, nn);
      for (int64_t i = 0; i < n; ++i) T[i * n + i] += 1.0;  // T = (3I - Z Y) / 2
    }
    if (!isfinite(proxy) || proxy > 1e6) break;
    s = gemm_f64(ex, n, n, n, Y, n, false, T, n, false, U, n, 1.0, 0.0);
    if (s == OK) s = gemm_f64(ex, n, n, n, T, n, false, Z, n, false, Y, n, 1.0, 0.0);
    if (s != OK) return s;
    double* t = Z;  // Y <- U (= Y T), Z <- Y (= T Z)
    Z = Y;
    Y = U;
    U = t;
    if (proxy < 1e-2) {
      for (int64_t i = 0; i < nn; ++i) x[i] = inverse ? Z[i] / sc : Y[i] * sc;
      double res;
      s = residual_of(ex, n, x, a, inverse, R, &res);
      if (s != OK) return s;
      const int r = tr.see(it, x, res, it == max_it);
      if (r != 0) {
        for (int64_t i = 0; i < nn; ++i) x[i] = tr.xbest[i];
        *iterations = tr.best_it;
        *residual = tr.best;
        return r > 0 ? OK : E_NO_CONVERGENCE;
      }
    } else if (it > 10 && proxy > 0.999 * best_proxy) {
      break;
    }
    best_proxy = proxy < best_proxy ? proxy : best_proxy;
  }
  *iterations = max_it;
  *residual = tr.best;
  return E_NO_CONVERGENCE;
}

// inv = M^-1 through LU; lu: n^2 scratch, piv: n.
Status invert(const Exec* ex, int64_t n, const double* M, double* inv, double* lu, int64_t* piv) {
  for (int64_t i = 0; i < n * n; ++i) lu[i] = M[i], inv[i] = 0;
  for (int64_t i = 0; i < n; ++i) inv[i * n + i] = 1;
  Status s = lu_factor_f64(ex, n, lu, piv);
  if (s == E_RANGE) return E_NO_CONVERGENCE;  // a singular iterate
  if (s == OK) s = lu_solve_f64(ex, n, n, lu, piv, inv);
  return s;
}

// Denman-Beavers: Y0 = A, Z0 = I; Y <- (Y + Z^-1) / 2, Z <- (Z + Y^-1) / 2.
Status sqrtm_db(const Exec* ex, int64_t n, const double* a, double* x, bool inverse, double tol, int32_t max_it,
                int32_t* iterations, double* residual, double* w, int64_t* piv) {
  const int64_t nn = n * n;
  double *Y = w, *Z = w + nn, *Yi = w + 2 * nn, *Zi = w + 3 * nn, *LU = w + 4 * nn, *R = w + 5 * nn;  // R: 2 n^2
  for (int64_t i = 0; i < nn; ++i) Y[i] = a[i], Z[i] = 0;
  for (int64_t i = 0; i < n; ++i) Z[i * n + i] = 1;
  Tracker tr{tol, stop_tol_of(n, tol), INFINITY, 0, w + 7 * nn, nn};
  for (int32_t it = 1; it <= max_it; ++it) {
    Status s = invert(ex, n, Y, Yi, LU, piv);
    if (s == OK) s = invert(ex, n, Z, Zi, LU, piv);
    if (s == E_NO_CONVERGENCE) break;
    if (s != OK) return s;
    for (int64_t i = 0; i < nn; ++i) {
      Y[i] = 0.5 * (Y[i] + Zi[i]);
      Z[i] = 0.5 * (Z[i] + Yi[i]);
    }
    const double* X = inverse ? Z : Y;
    for (int64_t i = 0; i < nn; ++i) x[i] = X[i];
    double res;
    s = residual_of(ex, n, x, a, inverse, R, &res);
    if (s != OK) return s;
    const int r = tr.see(it, x, res, it == max_it);
    if (r != 0) {
      for (int64_t i = 0; i < nn; ++i) x[i] = tr.xbest[i];
      *iterations = tr.best_it;
      *residual = tr.best;
      return r > 0 ? OK : E_NO_CONVERGENCE;
    }
  }
  *residual = tr.best;
  return E_NO_CONVERGENCE;
}

}  // namespace

Status sqrtm_f64(const Exec* ex, int64_t n, const double* a, double* x, int32_t method, bool inverse, double tol,
                 int32_t max_iterations, int32_t* iterations, double* residual) {
  *iterations = 0;
  *residual = 0;
  if (n < 0) return E_SHAPE;
  if (method < SQRTM_EIGH || method > SQRTM_DENMAN_BEAVERS || !(tol > 0) || max_iterations < 1) return E_RANGE;
  if (n == 0) return OK;
  const int64_t nn = n * n;
  if (method == SQRTM_EIGH) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j)
        if (!isfinite(a[i * n + j])) return E_RANGE;
  } else if (!all_finite(a, nn)) {
    return E_RANGE;
  }
  double* w = static_cast<double*>(alloc(sizeof(double) * (8 * nn + n)));
  int64_t* piv = static_cast<int64_t*>(alloc(sizeof(int64_t) * n));
  if (w == nullptr || piv == nullptr) {
    release(w);
    release(piv);
    return E_OOM;
  }
  Status s;
  if (method == SQRTM_EIGH) {
    s = sqrtm_eigh(ex, n, a, x, inverse, w);
    if (s == OK) {
      // the residual against the symmetric matrix the lower triangle describes
      double* A = w + 2 * nn;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j <= i; ++j) A[i * n + j] = A[j * n + i] = a[i * n + j];
      s = residual_of(ex, n, x, A, inverse, w + 3 * nn, residual);
    }
  } else if (method == SQRTM_NEWTON_SCHULZ) {
    s = sqrtm_ns(ex, n, a, x, inverse, tol, max_iterations, iterations, residual, w);
  } else {
    s = sqrtm_db(ex, n, a, x, inverse, tol, max_iterations, iterations, residual, w, piv);
  }
  release(w);
  release(piv);
  return s;
}

// ---- feature statistics ------------------------------------------------------------------------------

namespace {

constexpr int64_t STATS_ROWS = 512;  // rows centred and multiplied per GEMM call

struct ColSumJob {
  const void* x;
  bool f32;
  int64_t m, n;
  double* out;  // n
};

// Column sums over all rows, for columns [begin, end): each column's order is fixed (row order).
void col_sums(void* ctx, int64_t begin, int64_t end) {
  const ColSumJob& j = *static_cast<ColSumJob*>(ctx);
  for (int64_t c = begin; c < end; ++c) j.out[c] = 0;
  for (int64_t r = 0; r < j.m; ++r) {
    if (j.f32) {
      const float* row = static_cast<const float*>(j.x) + r * j.n;
      for (int64_t c = begin; c < end; ++c) j.out[c] += (double)row[c];
    } else {
      const double* row = static_cast<const double*>(j.x) + r * j.n;
      for (int64_t c = begin; c < end; ++c) j.out[c] += row[c];
    }
  }
}

struct CentreJob {
  const void* x;
  bool f32;
  int64_t r0, n;
  const double* mean;
  double* B;
};

// B[r] = x[r0 + r] - mean for rows [begin, end) of the block.
void centre_rows(void* ctx, int64_t begin, int64_t end) {
  const CentreJob& j = *static_cast<CentreJob*>(ctx);
  for (int64_t r = begin; r < end; ++r) {
    double* b = j.B + r * j.n;
    if (j.f32) {
      const float* row = static_cast<const float*>(j.x) + (j.r0 + r) * j.n;
      for (int64_t c = 0; c < j.n; ++c) b[c] = (double)row[c] - j.mean[c];
    } else {
      const double* row = static_cast<const double*>(j.x) + (j.r0 + r) * j.n;
      for (int64_t c = 0; c < j.n; ++c) b[c] = row[c] - j.mean[c];
    }
  }
}

Status feature_stats_update(const Exec* ex, int64_t m, int64_t n, const void* x, bool f32, double* count, double* mean,
                            double* comoment) {
  if (m < 0 || n < 0 || !(*count >= 0)) return E_SHAPE;
  if (m == 0 || n == 0) return OK;
  double* buf = static_cast<double*>(alloc(sizeof(double) * (2 * n + (m < STATS_ROWS ? m : STATS_ROWS) * n)));
  if (buf == nullptr) return E_OOM;
  double* mc = buf;         // the chunk's mean
  double* delta = buf + n;  // mc - mean
  double* B = buf + 2 * n;  // centred rows
  ColSumJob cj{x, f32, m, n, mc};
  parallel_for(ex, n, 64, col_sums, &cj);
  for (int64_t c = 0; c < n; ++c) {
    if (!isfinite(mc[c])) {  // a NaN or an infinity anywhere in column c reaches its sum
      release(buf);
      return E_RANGE;
    }
    mc[c] /= (double)m;
  }
  // comoment += sum_r (x_r - mc)(x_r - mc)^T, lower triangle, block row by block row
  Status s = OK;
  for (int64_t r0 = 0; r0 < m && s == OK; r0 += STATS_ROWS) {
    const int64_t rb = m - r0 < STATS_ROWS ? m - r0 : STATS_ROWS;
    CentreJob tj{x, f32, r0, n, mc, B};
    parallel_for(ex, rb, 16, centre_rows, &tj);
    s = gemm_f64_lower(ex, n, rb, B, n, true, B, n, false, comoment, n, 1.0, 1.0);
  }
  if (s == OK) {
    const double na = *count, nb = (double)m, tot = na + nb, f = na * nb / tot;
    for (int64_t c = 0; c < n; ++c) delta[c] = mc[c] - mean[c];
    for (int64_t i = 0; i < n; ++i) {
      double* row = comoment + i * n;
      const double di = delta[i] * f;
      for (int64_t j = 0; j <= i; ++j) row[j] += di * delta[j];
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < i; ++j) comoment[j * n + i] = comoment[i * n + j];
    for (int64_t c = 0; c < n; ++c) mean[c] += delta[c] * (nb / tot);
    *count = tot;
  }
  release(buf);
  return s;
}

}  // namespace

Status feature_stats_update_f64(const Exec* ex, int64_t m, int64_t n, const double* x, double* count, double* mean,
                                double* comoment) {
  return feature_stats_update(ex, m, n, x, false, count, mean, comoment);
}

Status feature_stats_update_f32(const Exec* ex, int64_t m, int64_t n, const float* x, double* count, double* mean,
                                double* comoment) {
  return feature_stats_update(ex, m, n, x, true, count, mean, comoment);
}

}  // namespace kx
