// Symmetric eigenvalues (linalg.h): Householder tridiagonalisation + implicit QL (EISPACK tql2).
// Our own code so that the CPU addon and the wasm module share it without LAPACK. Determinism:
// parallel_for chunks depend only on the sizes, and per-chunk partial sums are added in chunk
// order, so the thread count never changes a bit.
#include "linalg.h"

#include <math.h>

namespace kx {

namespace {

typedef double v4d __attribute__((vector_size(32)));
#define KX_LOAD4(v, p) __builtin_memcpy(&(v), (p), sizeof(v4d))
#define KX_STORE4(p, v) __builtin_memcpy((p), &(v), sizeof(v4d))

// ---- eigenvalues --------------------------------------------------------------------------------

// One fused pass of step k of the tridiagonalisation over the lower triangle of rows [k+1, n):
// applies the pending rank-2 update of step k-1 (A -= pv pw^T + pw pv^T on the block [k, n),
// indices relative to k), and in the same sweep forms A v for step k's vector v (relative to
// k+1). Only the lower triangle is stored, so row r of the chunk adds A[r][c] v[c] to its own p[r]
// and A[r][c] v[r] to p[c] (c < r): the second part goes to the chunk's own buffer q, which the
// caller adds up in chunk order. One read and one write of half the trailing block per step.
struct TridJob {
  double* A;
  int64_t n, k, grain;
  const double *pv, *pw;  // pending update, length n - k
  const double* v;        // step k's Householder vector, length n - k - 1
  double* p;              // own-row parts
  double* q;              // per-chunk scatter parts, (m / grain + 1) x m
};

void trid_pass(void* ctx, int64_t begin, int64_t end) {
  const TridJob& t = *static_cast<TridJob*>(ctx);
  const int64_t m = t.n - t.k - 1;
  const double* __restrict pv = t.pv + 1;
  const double* __restrict pw = t.pw + 1;
  const double* __restrict v = t.v;
  double* __restrict q = t.q + (begin / t.grain) * m;
  for (int64_t c = 0; c < end; ++c) q[c] = 0;
  for (int64_t r = begin; r < end; ++r) {
    double* __restrict row = t.A + (t.k + 1 + r) * t.n + t.k + 1;
    const double vi = pv[r], wi = pw[r], vr = v[r];
    // Four-lane partial sums (a fixed order that depends on r only), then the tail.
    v4d s4 = {0, 0, 0, 0};
    int64_t c = 0;
    for (; c + 4 <= r; c += 4) {
      v4d x, a, b, vv, qq;
      KX_LOAD4(x, row + c);
      KX_LOAD4(a, pw + c);
      KX_LOAD4(b, pv + c);
      KX_LOAD4(vv, v + c);
      KX_LOAD4(qq, q + c);
      x = x - (vi * a + wi * b);
      KX_STORE4(row + c, x);
      s4 += x * vv;
      qq += x * vr;
      KX_STORE4(q + c, qq);
    }
    double s = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    for (; c < r; ++c) {
      const double x = row[c] - (vi * pw[c] + wi * pv[c]);
      row[c] = x;
      s += x * v[c];
      q[c] += x * vr;
    }
    const double x = row[r] - (vi * wi + wi * vi);
    row[r] = x;
    t.p[r] = s + x * vr;
  }
}

int64_t rows_grain(int64_t m) {
  int64_t g = 32768 / (m > 0 ? m : 1);
  const int64_t g64 = (m + 63) / 64;  // at most 64 chunks: bounds the scatter buffers
  g = g > g64 ? g : g64;
  return g < 1 ? 1 : g;
}

// Implicit QL on the tridiagonal (d diagonal, e[i] couples d[i] and d[i+1], e[n-1] = 0), EISPACK
// tql2 without vectors; then sorts d ascending. Returns false when it does not converge.
bool tql(double* d, double* e, int64_t n) {
  double f = 0, tst1 = 0;
  const double eps = 2.220446049250313e-16;
  for (int64_t l = 0; l < n; ++l) {
    const double t = fabs(d[l]) + fabs(e[l]);
    tst1 = t > tst1 ? t : tst1;
    int64_t m = l;
    while (m < n) {
      if (fabs(e[m]) <= eps * tst1) break;
      ++m;
    }
    if (m > l) {
      int iter = 0;
      do {
        if (++iter > 60) return false;
        double g = d[l];
        double p = (d[l + 1] - g) / (2 * e[l]);
        double r = hypot(p, 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (int64_t i = l + 2; i < n; ++i) d[i] -= h;
        f += h;
        p = d[m];
        double c = 1, c2 = c, c3 = c;
        const double el1 = e[l + 1];
        double s = 0, s2 = 0;
        for (int64_t i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (fabs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // Insertion sort (n log n would do; n is at most a few thousand and this is O(n^2) worst case
  // only on adversarial orders, far below the O(n^3) reduction).
  for (int64_t i = 1; i < n; ++i) {
    const double x = d[i];
    int64_t j = i - 1;
    while (j >= 0 && d[j] > x) {
      d[j + 1] = d[j];
      --j;
    }
    d[j + 1] = x;
  }
  return true;
}

}  // namespace

Status syevals_f64(const Exec* ex, int64_t n, const double* a, double* values) {
  if (n < 0) return E_SHAPE;
  if (n == 0) return OK;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j)
      if (!isfinite(a[i * n + j])) return E_RANGE;
  double* A = static_cast<double*>(alloc(sizeof(double) * n * n));
  double* work = static_cast<double*>(alloc(sizeof(double) * (6 * n + 65 * n)));
  if (A == nullptr || work == nullptr) {
    release(A);
    release(work);
    return E_OOM;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) A[i * n + j] = a[i * n + j];  // lower triangle only
  double* d = values;
  double* e = work;
  double* x = work + n;
  double* bufs = work + 2 * n;  // two (v, w) pairs, swapped each step
  double* q = work + 6 * n;     // up to 65 chunk buffers of length n
  double *pv = bufs, *pw = bufs + n, *v = bufs + 2 * n, *w = bufs + 3 * n;
  for (int64_t i = 0; i < n; ++i) pv[i] = pw[i] = 0;
  // Householder: step k zeroes column k below the subdiagonal; the trailing block [k+1, n) gets
  // H A H with H = I - beta v v^T, as A -= v w^T + w v^T, w = p - (beta/2)(v.p) v, p = beta A v.
  // That update stays pending (pv, pw) until the next step's fused pass (trid_pass).
  for (int64_t k = 0; k + 2 < n; ++k) {
    const int64_t m = n - k - 1;
    // Column k from the diagonal down, with the pending update applied (never stored back: it is
    // not read again).
    const double dk = A[k * n + k] - 2 * pv[0] * pw[0];
    for (int64_t j = 0; j < m; ++j) x[j] = A[(k + 1 + j) * n + k] - (pv[j + 1] * pw[0] + pw[j + 1] * pv[0]);
    d[k] = dk;
    double scale = 0;
    for (int64_t i = 0; i < m; ++i) scale = fabs(x[i]) > scale ? fabs(x[i]) : scale;
    double beta = 0;
    if (scale == 0) {
      e[k] = 0;
      for (int64_t i = 0; i < m; ++i) v[i] = 0;
    } else {
      double ss = 0;
      for (int64_t i = 0; i < m; ++i) {
        v[i] = x[i] / scale;
        ss += v[i] * v[i];
      }
      const double sigma = sqrt(ss);
      const double x0 = v[0];
      const double alpha = x0 > 0 ? -sigma : sigma;
      e[k] = alpha * scale;
      v[0] = x0 - alpha;  // no cancellation: x0 and -alpha have the same sign
      beta = 1 / (sigma * (sigma + fabs(x0)));
    }
    const int64_t grain = rows_grain(m);
    TridJob t{A, n, k, grain, pv, pw, v, w, q};
    parallel_for(ex, m, grain, trid_pass, &t);
    const int64_t chunks = (m + grain - 1) / grain;
    for (int64_t ch = 0; ch < chunks; ++ch) {
      const int64_t end = (ch + 1) * grain < m ? (ch + 1) * grain : m;
      const double* qc = q + ch * m;
      for (int64_t c = 0; c < end; ++c) w[c] += qc[c];
    }
    double vp = 0;
    for (int64_t i = 0; i < m; ++i) {
      w[i] *= beta;
      vp += v[i] * w[i];
    }
    const double K = 0.5 * beta * vp;
    for (int64_t i = 0; i < m; ++i) w[i] -= K * v[i];
    double* t0 = pv;
    double* t1 = pw;
    pv = v, pw = w, v = t0, w = t1;
  }
  if (n >= 2) {
    const int64_t k = n - 2;
    d[k] = A[k * n + k] - 2 * pv[0] * pw[0];
    e[k] = A[(k + 1) * n + k] - (pv[1] * pw[0] + pw[1] * pv[0]);
    d[k + 1] = A[(k + 1) * n + k + 1] - 2 * pv[1] * pw[1];
  } else {
    d[0] = A[0];
  }
  e[n - 1] = 0;
  const bool ok = tql(d, e, n);
  release(A);
  release(work);
  return ok ? OK : E_INTERNAL;
}

}  // namespace kx
