// Symmetric eigenvalues (syevals_f64) and eigenvectors (syevd_f64), linalg.h.
// syevd_f64:
//   1. Householder tridiagonalisation A = Q T Q^T, blocked as LAPACK dsytrd/dlatrd (panels of
//      TRD_NB columns, trailing rank-2 TRD_NB updates on gemm_f64_lower), the last TRD_NX columns
//      by a fused unblocked pass;
//   2. implicit QL on T (EISPACK tql2); for the vectors its rotations are recorded in batches and
//      applied to W (the eigenvectors of T, stored transposed in column panels, so a rotation
//      touches contiguous memory), vectorised and threaded across panels;
//   3. V = Q W by compact-WY blocks (I - Y T Y^T) of BT_NB reflectors on gemm_f64.
// syevals_f64 (no vectors): below SB_MIN_N the same steps 1 and 2 (so its values equal syevd's
// bit for bit there); from SB_MIN_N on a two-stage reduction, as LAPACK 3.7+ dsytrd_2stage /
// PLASMA / MAGMA: dense -> band of half-bandwidth SB_B (panel QR in compact WY, two-sided
// trailing updates all on the GEMM), band -> tridiagonal by Householder bulge chasing (small
// blocks kept in L1, two threads pipelined over the sweeps), then the QL of step 2 (with an
// inline hypot). The one-stage reduction spends most of its time in one memory-bound symmetric
// matrix-vector product per column; the two-stage one moves that work to the GEMM, so it is
// about twice as fast at n = 1024..2048; it is not used for the vectors, whose back-transformation
// through the band stage would cost more than it saves. Its values differ from syevd's by
// rounding (a few u sqrt(n) max|lambda|).
// Our own code, not LAPACK: the CPU addon and the wasm module share it with no BLAS/LAPACK
// dependency. Determinism: parallel_for chunks depend only on the sizes, and per-chunk partial
// sums are added in chunk order, so the thread count never changes a bit (gemm.cc promises the
// same); the bulge chasing's tasks run the same arithmetic whichever thread takes them.
#include "linalg.h"

#include <math.h>

namespace kx {

namespace {

typedef double v4d __attribute__((vector_size(32)));
#define KX_LOAD4(v, p) __builtin_memcpy(&(v), (p), sizeof(v4d))
#define KX_STORE4(p, v) __builtin_memcpy((p), &(v), sizeof(v4d))

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(__wasm__)
#define KX_EIGH_AVX2 1
#endif

bool lower_finite(int64_t n, const double* a) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j)
      if (!isfinite(a[i * n + j])) return false;
  return true;
}

// ---- tridiagonalisation -------------------------------------------------------------------------

// One fused pass of step k of the tridiagonalisation over the lower triangle of rows [k+1, n):
// applies the pending rank-2 update of step k-1 (A -= pv pw^T + pw pv^T on the block [k, n),
// indices relative to k), and in the same sweep forms A v for step k's vector v (relative to
// k+1). Only the lower triangle is stored, so row r of the chunk adds A[r][c] v[c] to its own p[r]
// and A[r][c] v[r] to p[c] (c < r): the second part goes to the chunk's own buffer q, which the
// caller adds up in chunk order. One read and one write of half the trailing block per step.
struct TridJob {
  double* A;
  int64_t n, ld, k, grain;
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
    double* __restrict row = t.A + (t.k + 1 + r) * t.ld + t.k + 1;
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

// Unblocked reduction of A (n x n at row stride ld), as tridiagonalize below.
Status tridiag_unblocked(const Exec* ex, int64_t n, double* A, int64_t ld, double* d, double* e, double* tau) {
  if (n == 1) {
    d[0] = A[0];
    e[0] = 0;
    return OK;
  }
  double* work = static_cast<double*>(alloc(sizeof(double) * (6 * n + 65 * n)));
  if (work == nullptr) return E_OOM;
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
    const double dk = A[k * ld + k] - 2 * pv[0] * pw[0];
    for (int64_t j = 0; j < m; ++j) x[j] = A[(k + 1 + j) * ld + k] - (pv[j + 1] * pw[0] + pw[j + 1] * pv[0]);
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
    if (tau != nullptr) {
      tau[k] = beta;
      for (int64_t j = 0; j < m; ++j) A[(k + 1 + j) * ld + k] = v[j];
    }
    const int64_t grain = rows_grain(m);
    TridJob t{A, n, ld, k, grain, pv, pw, v, w, q};
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
  const int64_t k = n - 2;
  d[k] = A[k * ld + k] - 2 * pv[0] * pw[0];
  e[k] = A[(k + 1) * ld + k] - (pv[1] * pw[0] + pw[1] * pv[0]);
  d[k + 1] = A[(k + 1) * ld + k + 1] - 2 * pv[1] * pw[1];
  e[n - 1] = 0;
  if (tau != nullptr) tau[k] = 0;
  release(work);
  return OK;
}

// Blocked reduction (LAPACK dsytrd / dlatrd, lower): a panel of TRD_NB columns is reduced with
// the trailing block left as it was, its updates kept as A - V W^T - W V^T (V the panel's
// Householder vectors, W the matching update vectors); one gemm_f64_lower of depth 2 TRD_NB then
// applies them to the trailing block. Each column still needs one product of the trailing block
// with its vector (symv_rows), but reading the lower triangle only, never writing it: half the
// memory traffic of the fused unblocked pass. The last TRD_NX columns go unblocked.
constexpr int64_t TRD_NB = 32, TRD_NX = 128;

// p = S v for the lower-stored symmetric S (m x m at A, row stride ld), rows [begin, end) of one
// chunk: p[r] gets row r's part up to the diagonal, the chunk's own buffer q gets the transposed
// part (the caller adds the buffers in chunk order). Two rows at a time share the v and q loads.
struct SymvJob {
  const double* A;
  int64_t ld, m, grain;
  const double* v;
  double* p;
  double* q;
};

__attribute__((always_inline)) inline void symv_rows(const SymvJob& t, int64_t begin, int64_t end) {
  const double* __restrict v = t.v;
  double* __restrict q = t.q + (begin / t.grain) * t.m;
  for (int64_t c = 0; c < end; ++c) q[c] = 0;
  int64_t r = begin;
  for (; r + 2 <= end; r += 2) {
    const double* __restrict a0 = t.A + r * t.ld;
    const double* __restrict a1 = a0 + t.ld;
    const double v0 = v[r], v1 = v[r + 1];
    v4d s0 = {0, 0, 0, 0}, s1 = s0;
    int64_t c = 0;
    for (; c + 4 <= r; c += 4) {
      v4d x0, x1, vv, qq;
      KX_LOAD4(x0, a0 + c);
      KX_LOAD4(x1, a1 + c);
      KX_LOAD4(vv, v + c);
      KX_LOAD4(qq, q + c);
      s0 += x0 * vv;
      s1 += x1 * vv;
      qq += x0 * v0 + x1 * v1;
      KX_STORE4(q + c, qq);
    }
    double t0 = (s0[0] + s0[1]) + (s0[2] + s0[3]), t1 = (s1[0] + s1[1]) + (s1[2] + s1[3]);
    for (; c < r; ++c) {
      t0 += a0[c] * v[c];
      t1 += a1[c] * v[c];
      q[c] += a0[c] * v0 + a1[c] * v1;
    }
    t1 += a1[r] * v0;
    q[r] += a1[r] * v1;
    t.p[r] = t0 + a0[r] * v0;
    t.p[r + 1] = t1 + a1[r + 1] * v1;
  }
  if (r < end) {
    const double* __restrict a0 = t.A + r * t.ld;
    const double v0 = v[r];
    v4d s0 = {0, 0, 0, 0};
    int64_t c = 0;
    for (; c + 4 <= r; c += 4) {
      v4d x0, vv, qq;
      KX_LOAD4(x0, a0 + c);
      KX_LOAD4(vv, v + c);
      KX_LOAD4(qq, q + c);
      s0 += x0 * vv;
      qq += x0 * v0;
      KX_STORE4(q + c, qq);
    }
    double t0 = (s0[0] + s0[1]) + (s0[2] + s0[3]);
    for (; c < r; ++c) {
      t0 += a0[c] * v[c];
      q[c] += a0[c] * v0;
    }
    t.p[r] = t0 + a0[r] * v0;
  }
}

void symv_portable(void* ctx, int64_t begin, int64_t end) { symv_rows(*static_cast<SymvJob*>(ctx), begin, end); }
#if defined(KX_EIGH_AVX2)
__attribute__((target("avx2,fma"))) void symv_avx2(void* ctx, int64_t begin, int64_t end) {
  symv_rows(*static_cast<SymvJob*>(ctx), begin, end);
}
#endif
RangeFn pick_symv() {
#if defined(KX_EIGH_AVX2)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return symv_avx2;
#endif
  return symv_portable;
}

// Chunks of the symv: even sizes (two-row steps), at least ~16K elements each, at most 64.
int64_t symv_grain(int64_t m) {
  int64_t g = 32768 / (m > 0 ? m : 1);
  const int64_t g64 = (m + 63) / 64;
  g = g > g64 ? g : g64;
  g += g & 1;
  return g < 2 ? 2 : g;
}

// Panel helpers (rows of 2 TRD_NB: V's columns, then W's; columns [iw, TRD_NB) of each half are
// ignored). panel_dot = sum_t vw[t] u[t] + vw[NB + t] u[NB + t] over t < iw, iw a multiple of 4.
inline double panel_dot(const double* __restrict vw, const double* __restrict u, int64_t iw) {
  v4d s = {0, 0, 0, 0};
  for (int64_t t = 0; t < iw; t += 4) {
    v4d a, b, c, d;
    KX_LOAD4(a, vw + t);
    KX_LOAD4(b, u + t);
    KX_LOAD4(c, vw + TRD_NB + t);
    KX_LOAD4(d, u + TRD_NB + t);
    s += a * b + c * d;
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// u[t] = sum_r vw_r[NB + t] v[r], u[NB + t] = sum_r vw_r[t] v[r] (t < iw; rows of 2 NB).
inline void panel_tvec(const double* __restrict vw, int64_t m, const double* __restrict v, int64_t iw,
                       double* __restrict u) {
  for (int64_t t = 0; t < iw; t += 4) {
    v4d sv = {0, 0, 0, 0}, sw = sv;
    for (int64_t r = 0; r < m; ++r) {
      v4d a, b;
      KX_LOAD4(a, vw + r * 2 * TRD_NB + t);
      KX_LOAD4(b, vw + r * 2 * TRD_NB + TRD_NB + t);
      sv += a * v[r];
      sw += b * v[r];
    }
    KX_STORE4(u + t, sw);
    KX_STORE4(u + TRD_NB + t, sv);
  }
}

// Reduces the symmetric A (n x n, row stride n, lower triangle used, overwritten) to tridiagonal
// T = Q^T A Q: d (n) its diagonal, e (n) its subdiagonal (e[i] couples d[i] and d[i+1],
// e[n-1] = 0). Q = H_0 H_1 ... H_{n-3}, H_k = I - tau[k] v_k v_k^T with v_k stored in column k of
// A, rows [k+1, n) (when tau is not null).
Status tridiagonalize(const Exec* ex, int64_t n, double* A, double* d, double* e, double* tau) {
  int64_t k0 = 0;
  if (n > TRD_NX) {
    constexpr int64_t NB = TRD_NB, NB2 = 2 * TRD_NB;
    double* buf = static_cast<double*>(alloc(sizeof(double) * (2 * n * NB2 + 3 * n + 65 * n + NB2)));
    if (buf == nullptr) return E_OOM;
    double* VW = buf;             // rows [k0, n) of the panel: V (NB columns), then W (NB)
    double* WV = VW + n * NB2;    // the same rows as W, then V: the trailing update's right factor
    double* col = WV + n * NB2;   // the current column, from its diagonal down
    double* v = col + n;
    double* p = v + n;
    double* q = p + n;            // symv chunk buffers
    double* u = q + 65 * n;       // V^T v, then W^T v
    static const RangeFn symv = pick_symv();
    for (; n - k0 > TRD_NX; k0 += NB) {
      const int64_t rows = n - k0;
      for (int64_t i = 0; i < rows * NB2; ++i) VW[i] = 0;
      for (int64_t i = 0; i < NB; ++i) {
        const int64_t j = k0 + i, m = n - j - 1;
        // Column j from the diagonal down, with the panel's earlier updates applied.
        // Columns [i, iw) of V and W are still zero, so every sum below may run over iw = i
        // rounded up to 4: whole vectors.
        const int64_t iw = (i + 3) & ~int64_t(3);
        const double* vwj = VW + i * NB2;
        for (int64_t t = 0; t < iw; ++t) u[t] = vwj[NB + t], u[NB + t] = vwj[t];
        for (int64_t r = 0; r <= m; ++r) col[r] = A[(j + r) * n + j] - panel_dot(VW + (i + r) * NB2, u, iw);
        d[j] = col[0];
        const double* x = col + 1;
        double scale = 0;
        for (int64_t r = 0; r < m; ++r) scale = fabs(x[r]) > scale ? fabs(x[r]) : scale;
        double beta = 0;
        if (scale == 0) {
          e[j] = 0;
          for (int64_t r = 0; r < m; ++r) v[r] = 0;
        } else {
          double ss = 0;
          for (int64_t r = 0; r < m; ++r) {
            v[r] = x[r] / scale;
            ss += v[r] * v[r];
          }
          const double sigma = sqrt(ss);
          const double x0 = v[0];
          const double alpha = x0 > 0 ? -sigma : sigma;
          e[j] = alpha * scale;
          v[0] = x0 - alpha;
          beta = 1 / (sigma * (sigma + fabs(x0)));
        }
        if (tau != nullptr) {
          tau[j] = beta;
          for (int64_t r = 0; r < m; ++r) A[(j + 1 + r) * n + j] = v[r];
        }
        double* vw1 = VW + (i + 1) * NB2;  // row j + 1
        for (int64_t r = 0; r < m; ++r) vw1[r * NB2 + i] = v[r];
        // p = A22 v, then the panel's corrections: p -= V (W^T v) + W (V^T v).
        const int64_t grain = symv_grain(m);
        SymvJob sj{A + (j + 1) * n + j + 1, n, m, grain, v, p, q};
        parallel_for(ex, m, grain, symv, &sj);
        const int64_t chunks = (m + grain - 1) / grain;
        for (int64_t ch = 0; ch < chunks; ++ch) {
          const int64_t end = (ch + 1) * grain < m ? (ch + 1) * grain : m;
          const double* qc = q + ch * m;
          for (int64_t c = 0; c < end; ++c) p[c] += qc[c];
        }
        if (i > 0) {
          // u = (W^T v, V^T v) (swapped, so that the correction is one dot per row). Column i of
          // V is set already: its u entry is zeroed, so it adds nothing.
          panel_tvec(vw1, m, v, iw, u);
          for (int64_t t = i; t < iw; ++t) u[t] = u[NB + t] = 0;
          for (int64_t r = 0; r < m; ++r) p[r] -= panel_dot(vw1 + r * NB2, u, iw);
        }
        // w = beta p - (beta^2 / 2)(v . p) v: A - v w^T - w v^T = H A H.
        double vp = 0;
        for (int64_t r = 0; r < m; ++r) {
          p[r] *= beta;
          vp += v[r] * p[r];
        }
        const double K = 0.5 * beta * vp;
        for (int64_t r = 0; r < m; ++r) vw1[r * NB2 + NB + i] = p[r] - K * v[r];
      }
      // Trailing block [k0 + NB, n): A -= V W^T + W V^T.
      const int64_t mt = rows - NB;
      const double* vwt = VW + NB * NB2;
      double* wvt = WV + NB * NB2;
      for (int64_t r = 0; r < mt; ++r)
        for (int64_t t = 0; t < NB; ++t) {
          wvt[r * NB2 + t] = vwt[r * NB2 + NB + t];
          wvt[r * NB2 + NB + t] = vwt[r * NB2 + t];
        }
      const Status st = gemm_f64_lower(ex, mt, NB2, vwt, NB2, false, wvt, NB2, true, A + (k0 + NB) * n + k0 + NB, n,
                                       -1.0, 1.0);
      if (st != OK) {
        release(buf);
        return st;
      }
    }
    release(buf);
  }
  return tridiag_unblocked(ex, n - k0, A + k0 * n + k0, n, d + k0, e + k0, tau != nullptr ? tau + k0 : nullptr);
}

// ---- QL -----------------------------------------------------------------------------------------

// Rotations of the QL sweeps, recorded in batches and applied to the eigenvector matrix in one
// pass per batch. Z holds the vectors transposed (row i = the current vector i), so rotation i
// mixes rows i and i+1, in panels of ROT_W columns (panel p = an n x ROT_W row-major block): a
// rotation touches two contiguous ROT_W-element pieces, a panel stays in cache across a batch's
// sweeps, and the panels are independent (parallel_for over them).
constexpr int64_t ROT_W = 8;  // columns per panel
struct RotBatch {
  const Exec* ex;
  double* Z;       // panels x n x ROT_W
  int64_t n;
  double* cs;      // (c, s) pairs, cap of them
  int64_t* sw;     // per sweep: l, m, offset of its first pair
  int64_t cap, max_sweeps, nrot, nsweeps;
};

#define KX_ROT_LOAD(h, p) KX_LOAD4(h##0, (p)), KX_LOAD4(h##1, (p) + 4)
#define KX_ROT_STORE(p, h) KX_STORE4((p), h##0), KX_STORE4((p) + 4, h##1)
// y = s x + c h (the new row i+1), h = c x - s h (row i, carried on).
#define KX_ROT(y, x, h, c, s) \
  y##0 = s * x##0 + c * h##0, y##1 = s * x##1 + c * h##1, h##0 = c * x##0 - s * h##0, h##1 = c * x##1 - s * h##1

// Applies the batch's sweeps to panels [p0, p1). A sweep (l, m) applies rotations i = m-1 .. l,
// rotation i mixing rows i and i+1 (tql2's vector update), carrying row i in registers. Two
// consecutive sweeps with the same m go through the panel together, the second one a row behind,
// so each row is loaded and stored once for both.
__attribute__((always_inline)) inline void rot_panels(const RotBatch& b, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    double* z = b.Z + p * b.n * ROT_W;
    for (int64_t k = 0; k < b.nsweeps;) {
      const int64_t l = b.sw[3 * k], m = b.sw[3 * k + 1];
      const double* cs = b.cs + 2 * b.sw[3 * k + 2];  // rotation i at cs[2 (m-1-i)]
      v4d hA0, hA1, x0, x1, y0, y1;
      KX_ROT_LOAD(hA, z + m * ROT_W);
      if (k + 1 < b.nsweeps && b.sw[3 * k + 4] == m && b.sw[3 * k + 3] >= l) {
        const int64_t lB = b.sw[3 * k + 3];
        const double* csB = b.cs + 2 * b.sw[3 * k + 5];  // B's rotation i at csB[2 (m-1-i)]
        v4d hB0, hB1, w0, w1;
        KX_ROT_LOAD(x, z + (m - 1) * ROT_W);
        KX_ROT(hB, x, hA, cs[0], cs[1]);  // A's rotation m-1; row m (done for A) starts B's carry
        cs += 2;
        const int64_t stop = lB - 1 > l ? lB - 1 : l;
        for (int64_t i = m - 2; i >= stop; --i, cs += 2, csB += 2) {
          KX_ROT_LOAD(x, z + i * ROT_W);
          KX_ROT(y, x, hA, cs[0], cs[1]);       // A's rotation i: row i+1 done for A
          KX_ROT(w, y, hB, csB[0], csB[1]);     // B's rotation i+1
          KX_ROT_STORE(z + (i + 2) * ROT_W, w);
        }
        if (lB > l) {
          KX_ROT_STORE(z + lB * ROT_W, hB);  // B's last row
          for (int64_t i = lB - 2; i >= l; --i, cs += 2) {
            KX_ROT_LOAD(x, z + i * ROT_W);
            KX_ROT(y, x, hA, cs[0], cs[1]);
            KX_ROT_STORE(z + (i + 1) * ROT_W, y);
          }
          KX_ROT_STORE(z + l * ROT_W, hA);
        } else {
          KX_ROT(w, hA, hB, csB[0], csB[1]);  // B's rotation l
          KX_ROT_STORE(z + (l + 1) * ROT_W, w);
          KX_ROT_STORE(z + l * ROT_W, hB);
        }
        k += 2;
      } else {
        for (int64_t i = m - 1; i >= l; --i, cs += 2) {
          KX_ROT_LOAD(x, z + i * ROT_W);
          KX_ROT(y, x, hA, cs[0], cs[1]);
          KX_ROT_STORE(z + (i + 1) * ROT_W, y);
        }
        KX_ROT_STORE(z + l * ROT_W, hA);
        k += 1;
      }
    }
  }
}

void rot_panels_portable(const RotBatch& b, int64_t p0, int64_t p1) { rot_panels(b, p0, p1); }

#if defined(KX_EIGH_AVX2)
__attribute__((target("avx2,fma"))) void rot_panels_avx2(const RotBatch& b, int64_t p0, int64_t p1) {
  rot_panels(b, p0, p1);
}
#endif

typedef void (*RotFn)(const RotBatch&, int64_t, int64_t);
RotFn pick_rot() {
#if defined(KX_EIGH_AVX2)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return rot_panels_avx2;
#endif
  return rot_panels_portable;
}

void rot_pass(void* ctx, int64_t p0, int64_t p1) {
  static const RotFn fn = pick_rot();
  fn(*static_cast<RotBatch*>(ctx), p0, p1);
}

void rot_flush(RotBatch* b) {
  if (b->nsweeps > 0) parallel_for(b->ex, (b->n + ROT_W - 1) / ROT_W, 1, rot_pass, b);
  b->nrot = 0;
  b->nsweeps = 0;
}

// sqrt(a^2 + b^2) without libm's hypot (a tenth of tql's time) where neither square can overflow
// or lose the larger value to underflow; hypot elsewhere. Within an ulp or so of hypot.
inline double fast_hypot(double a, double b) {
  const double x = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  if (x < 1e150 && x > 1e-150) return sqrt(a * a + b * b);
  return hypot(a, b);
}

// Implicit QL on the tridiagonal (d diagonal, e[i] couples d[i] and d[i+1], e[n-1] = 0), EISPACK
// tql2; the rotations go to rb when it is not null (the vectors), and d is left unsorted. Returns
// false when it does not converge. kFast (the two-stage eigenvalues) takes fast_hypot for hypot;
// syevd_f64 and the one-stage syevals_f64 keep hypot.
template <bool kFast>
bool tql_impl(double* d, double* e, int64_t n, RotBatch* rb) {
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
        double r = kFast ? fast_hypot(p, 1.0) : hypot(p, 1.0);
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
        double* cs = nullptr;
        if (rb != nullptr) {
          if (rb->nrot + (m - l) > rb->cap || rb->nsweeps == rb->max_sweeps) rot_flush(rb);
          rb->sw[3 * rb->nsweeps] = l;
          rb->sw[3 * rb->nsweeps + 1] = m;
          rb->sw[3 * rb->nsweeps + 2] = rb->nrot;
          cs = rb->cs + 2 * rb->nrot;
          rb->nsweeps += 1;
          rb->nrot += m - l;
        }
        for (int64_t i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = kFast ? fast_hypot(p, e[i]) : hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (cs != nullptr) {
            cs[0] = c;
            cs[1] = s;
            cs += 2;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (fabs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  if (rb != nullptr) rot_flush(rb);
  return true;
}
bool tql(double* d, double* e, int64_t n, RotBatch* rb) { return tql_impl<false>(d, e, n, rb); }

// Insertion sort of d ascending (n log n would do; n is at most a few thousand and this is
// O(n^2) worst case only on adversarial orders, far below the O(n^3) reduction).
void sort_values(double* d, int64_t n) {
  for (int64_t i = 1; i < n; ++i) {
    const double x = d[i];
    int64_t j = i - 1;
    while (j >= 0 && d[j] > x) {
      d[j + 1] = d[j];
      --j;
    }
    d[j + 1] = x;
  }
}

// The same order as indices: perm[k] = the position in d of the k-th smallest value (stable).
void sort_perm(const double* d, int64_t n, int64_t* perm) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t j = i - 1;
    while (j >= 0 && d[perm[j]] > d[i]) {
      perm[j + 1] = perm[j];
      --j;
    }
    perm[j + 1] = i;
  }
}

// ---- two-stage reduction for the eigenvalues only -----------------------------------------------

// Stage 1 (dense -> band of half-bandwidth SB_B, as LAPACK dsytrd_sy2sb, lower): for each panel
// of SB_B columns [k, k + SB_B), a Householder QR of the block below the band (rows [k + SB_B, n),
// m of them), kept as compact WY Q = I - V T V^T; R goes into the band and the trailing block
// A22 (rows and columns [k + SB_B, n)) becomes Q^T A22 Q = A22 - V W^T - W V^T with
// X = A22 V T, W = X - 1/2 V (T^T V^T X). Only A22's lower triangle is kept: A22 V by row blocks
// of two gemm_f64 calls each (symm_blocks; measured faster than mirroring the triangle for one
// GEMM, which costs a strided pass over A22 per panel), the rank-2 SB_B update on gemm_f64_lower.
// All the O(n^3) work (4/3 n^3 flops, as one-stage) is on the GEMM; the panel QR (O(n^2 SB_B) in
// all) is serial, on columns stored contiguously. SB_B = 32 measured best at n = 2048 (16: the
// GEMMs slow down; 48, 64: the bulge chasing, O(n^2 SB_B), grows more than the GEMMs gain).
// Stage 2 (band -> tridiagonal, as LAPACK dsytrd_sb2st / dsb2st_kernels, Haidar et al.): sweep i
// annihilates column i below the subdiagonal with one reflector of length <= SB_B, applies it on
// both sides of the diagonal block it spans, then chases the bulge: the reflector, applied from
// the right to the block of SB_B rows below, fills it; a new reflector annihilates that block's
// first column (applied from the left to its other columns, then on both sides of the next
// diagonal block), and so on down the band. The rest of each bulge is left for the next sweeps.
// O(n^2 SB_B) flops on blocks that stay in L1, in two pipelined tasks per sweep (band_chunk).
// Then tql on the tridiagonal.
constexpr int64_t SB_B = 32;          // half-bandwidth of the intermediate band
constexpr int64_t SB_MIN_N = 128;     // syevals_f64 takes the two-stage route from this n on (measured:
                                      // it is no slower from n ~ 96, 1.4x faster at 192, 2x at 1024)

// sum_i a[i] b[i] in four lanes (a fixed order for a given n), then the tail.
__attribute__((always_inline)) inline double dot4(const double* __restrict a, const double* __restrict b, int64_t n) {
  v4d s = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v4d x, y;
    KX_LOAD4(x, a + i);
    KX_LOAD4(y, b + i);
    s += x * y;
  }
  double t = (s[0] + s[1]) + (s[2] + s[3]);
  for (; i < n; ++i) t += a[i] * b[i];
  return t;
}

// The Householder reflector of x (length len, in v on entry): on return v holds the vector and
// *tau its factor (H = I - tau v v^T, H x = beta e_0), and beta is returned. len <= 1 or x = 0:
// tau = 0 (H = I).
__attribute__((always_inline)) inline double house(double* __restrict v, int64_t len, double* tau) {
  *tau = 0;
  if (len <= 0) return 0;
  if (len == 1) {
    return v[0];
  }
  double scale = 0;
  for (int64_t i = 0; i < len; ++i) scale = fabs(v[i]) > scale ? fabs(v[i]) : scale;
  if (scale == 0) return 0;
  const double inv = 1 / scale;
  for (int64_t i = 0; i < len; ++i) v[i] *= inv;
  const double sigma = sqrt(dot4(v, v, len));
  const double x0 = v[0];
  const double alpha = x0 > 0 ? -sigma : sigma;
  v[0] = x0 - alpha;  // no cancellation: x0 and -alpha have the same sign
  *tau = 1 / (sigma * (sigma + fabs(x0)));
  return alpha * scale;
}

// Panel QR of stage 1: P is the m x b block, column-major (column j at P + j m). Writes the
// vectors to V (m x b, row stride ldv, zero above the diagonal; V's other entries are already
// zero), tau[j], and R's upper triangle to P (R[i][j] at P[j m + i], i <= j).
__attribute__((always_inline)) inline void panel_qr(double* __restrict P, int64_t m, int64_t b, double* __restrict V,
                                                    int64_t ldv, double* __restrict tau, double* __restrict v) {
  for (int64_t j = 0; j < b; ++j) {
    const int64_t len = m - j;
    if (len <= 0) {
      tau[j] = 0;
      continue;
    }
    double* pj = P + j * m + j;
    for (int64_t i = 0; i < len; ++i) v[i] = pj[i];
    double t;
    pj[0] = house(v, len, &t);
    tau[j] = t;
    if (t == 0) continue;  // H = I (V's column j stays zero)
    for (int64_t i = 0; i < len; ++i) V[(j + i) * ldv + j] = v[i];
    for (int64_t c = j + 1; c < b; ++c) {
      double* pc = P + c * m + j;
      const double s = t * dot4(v, pc, len);
      for (int64_t i = 0; i < len; ++i) pc[i] -= s * v[i];
    }
  }
}

// D (L x L, lower triangle at row stride ld) = H D H, H = I - tau v v^T (LAPACK dlarfy): w = tau D v,
// w -= (tau/2)(w.v) v, D -= v w^T + w v^T. w is scratch (L).
__attribute__((always_inline)) inline void sym_two_sided(double* __restrict D, int64_t ld, int64_t L,
                                                         const double* __restrict v, double tau,
                                                         double* __restrict w) {
  for (int64_t r = 0; r < L; ++r) w[r] = 0;
  for (int64_t r = 0; r < L; ++r) {
    const double* __restrict d = D + r * ld;
    const double vr = v[r];
    w[r] += dot4(d, v, r) + d[r] * vr;
    for (int64_t c = 0; c < r; ++c) w[c] += d[c] * vr;
  }
  for (int64_t r = 0; r < L; ++r) w[r] *= tau;
  const double K = -0.5 * tau * dot4(w, v, L);
  for (int64_t r = 0; r < L; ++r) w[r] += K * v[r];
  for (int64_t r = 0; r < L; ++r) {
    double* __restrict d = D + r * ld;
    const double vr = v[r], wr = w[r];
    for (int64_t c = 0; c <= r; ++c) d[c] -= vr * w[c] + wr * v[c];
  }
}

// Stage 2 on the band S (entry (r, c), r - c <= 2 SB_B, at S[r ld + c]: row stride ld = 2 SB_B,
// so the band with its bulges is a dense matrix whose upper triangle and far lower part alias
// and are never touched). Sweep i = steps s = 0, 1, ...; step s touches rows and columns
// [i + 1 + (s - 1) SB_B, i + 1 + (s + 1) SB_B) only, so step s of sweep i conflicts with sweep
// i - 1 up to its step s + 2 and with no later step (nor with sweeps before i - 1 once that one
// has passed it). Each sweep is cut in two tasks (its first half of steps, then the rest: the
// top and bottom of the active band), run by the two chunks of one parallel_for. Serial order:
// (0, top), (0, bottom), (1, top), ...; a task is claimed once (a flag per task); a chunk takes
// the earliest unclaimed task in that order, except that while both chunks are active chunk 0
// takes the earliest unclaimed top and chunk 1 the earliest unclaimed bottom (so each thread keeps
// to its own rows: the bulge data stays in its cache). Step s of sweep i first waits until sweep
// i - 1 has done steps 0..s+2 (prog[i - 1] counts them; done sweeps store a huge value), and a
// bottom task waits for its top (which leaves it the reflector in hand). Every step does the same
// arithmetic on the same data whoever runs it, so the bits do not depend on the threads; with
// one thread (chunks run one after the other) the first chunk runs the tasks in serial order and
// never waits. Deadlock-free: a task waits only on tasks earlier in serial order; each is claimed
// (so running) or, if a chunk skipped it, the other chunk is active and takes it next.
struct BandJob {
  double* S;
  int64_t n, ld;
  int32_t* claim;   // per task (2 per sweep): 0 unclaimed, 1 claimed
  int64_t* active;  // chunks inside the loop
  int64_t* prog;    // per sweep: steps done
  double* handoff;  // per sweep: SB_B + 4 (the reflector, tau, st, ed) between its two tasks
  double* work;     // 4 SB_B per chunk
};
constexpr int64_t BAND_DONE = int64_t(1) << 62;

inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

__attribute__((always_inline)) inline void band_chunk(const BandJob& job, int64_t chunk) {
  constexpr int64_t B = SB_B;
  double* __restrict S = job.S;
  const int64_t n = job.n, ld = job.ld;
  double* v0 = job.work + chunk * 4 * B;
  double* __restrict w = v0 + 2 * B;
  double* __restrict x = v0 + 3 * B;
  const int64_t nsw = n - 2;  // sweeps
  int64_t pos[2] = {0, 0};    // per part: no unclaimed task before this sweep
  __atomic_fetch_add(job.active, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    for (int p = 0; p < 2; ++p)
      while (pos[p] < nsw && __atomic_load_n(job.claim + 2 * pos[p] + p, __ATOMIC_ACQUIRE) != 0) ++pos[p];
    if (pos[0] >= nsw && pos[1] >= nsw) break;
    int64_t part;
    if (pos[0] >= nsw) part = 1;
    else if (pos[1] >= nsw) part = 0;
    else if (__atomic_load_n(job.active, __ATOMIC_SEQ_CST) >= 2) part = chunk & 1;
    else part = 2 * pos[0] < 2 * pos[1] + 1 ? 0 : 1;
    const int64_t i = pos[part];
    int32_t expect = 0;
    if (!__atomic_compare_exchange_n(job.claim + 2 * i + part, &expect, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      continue;
    const int64_t* before = i > 0 ? job.prog + i - 1 : nullptr;
    int64_t* mine = job.prog + i;
    double* ho = job.handoff + i * (B + 4);
    // Steps of sweep i: s = 0 .. ns - 1 (step s >= 1 starts at row i + 1 + s B <= n - 1).
    const int64_t ns = 1 + (n - 2 - i) / B;
    const int64_t mid = ns / 2 > 1 ? ns / 2 : 1;
    double* v = v0;       // the current reflector
    double* vn = v0 + B;  // the next one
    double tau;
    int64_t st, ed, L, s;
    if (part == 0) {
      // Step 0: column i, rows [st, ed].
      if (before != nullptr)
        while (__atomic_load_n(before, __ATOMIC_ACQUIRE) < 3) spin_pause();
      st = i + 1, ed = i + B < n - 1 ? i + B : n - 1;
      L = ed - st + 1;
      for (int64_t r = 0; r < L; ++r) v[r] = S[(st + r) * ld + i];
      S[st * ld + i] = house(v, L, &tau);
      for (int64_t r = 1; r < L; ++r) S[(st + r) * ld + i] = 0;
      if (tau != 0) sym_two_sided(S + st * ld + st, ld, L, v, tau, w);
      s = 1;
    } else {
      if (mid >= ns) continue;  // nothing left: the top task marks the sweep done
      while (__atomic_load_n(mine, __ATOMIC_ACQUIRE) < mid) spin_pause();
      for (int64_t r = 0; r < B; ++r) v[r] = ho[r];
      tau = ho[B], st = int64_t(ho[B + 1]), ed = int64_t(ho[B + 2]);
      L = ed - st + 1;
      s = mid;
    }
    const int64_t s_end = part == 0 ? mid : ns;
    for (; s < s_end; ++s) {
      if (part == 0) __atomic_store_n(mine, s, __ATOMIC_RELEASE);
      const int64_t j1 = ed + 1, j2 = ed + B < n - 1 ? ed + B : n - 1;
      const int64_t LM = j2 - j1 + 1;
      if (before != nullptr)
        while (__atomic_load_n(before, __ATOMIC_ACQUIRE) < s + 3) spin_pause();
      double* E = S + j1 * ld + st;  // LM x L
      if (tau != 0) {
        for (int64_t p = 0; p < LM; ++p) {
          double* __restrict er = E + p * ld;
          const double sc = tau * dot4(er, v, L);
          for (int64_t q = 0; q < L; ++q) er[q] -= sc * v[q];
        }
      }
      // The new reflector from E's first column; applied from the left to E's other columns.
      for (int64_t p = 0; p < LM; ++p) vn[p] = E[p * ld];
      double tn;
      E[0] = house(vn, LM, &tn);
      for (int64_t p = 1; p < LM; ++p) E[p * ld] = 0;
      if (tn != 0) {
        const int64_t Lq = L - 1;
        for (int64_t q = 0; q < Lq; ++q) x[q] = 0;
        for (int64_t p = 0; p < LM; ++p) {
          const double* __restrict er = E + p * ld + 1;
          const double vp = vn[p];
          for (int64_t q = 0; q < Lq; ++q) x[q] += vp * er[q];
        }
        for (int64_t p = 0; p < LM; ++p) {
          double* __restrict er = E + p * ld + 1;
          const double sc = tn * vn[p];
          for (int64_t q = 0; q < Lq; ++q) er[q] -= sc * x[q];
        }
        sym_two_sided(S + j1 * ld + j1, ld, LM, vn, tn, w);
      }
      double* t = v;
      v = vn, vn = t;
      tau = tn, st = j1, ed = j2, L = LM;
      if (part == 1) __atomic_store_n(mine, s + 1, __ATOMIC_RELEASE);
    }
    if (part == 0) {
      for (int64_t r = 0; r < L; ++r) ho[r] = v[r];
      ho[B] = tau, ho[B + 1] = double(st), ho[B + 2] = double(ed);
      __atomic_store_n(mine, mid < ns ? mid : BAND_DONE, __ATOMIC_RELEASE);
    } else {
      __atomic_store_n(mine, BAND_DONE, __ATOMIC_RELEASE);
    }
  }
  __atomic_fetch_sub(job.active, 1, __ATOMIC_SEQ_CST);
}

void band_chunk_portable(void* ctx, int64_t begin, int64_t end) {
  for (int64_t c = begin; c < end; ++c) band_chunk(*static_cast<BandJob*>(ctx), c);
}
#if defined(KX_EIGH_AVX2)
__attribute__((target("avx2,fma"))) void band_chunk_avx2(void* ctx, int64_t begin, int64_t end) {
  for (int64_t c = begin; c < end; ++c) band_chunk(*static_cast<BandJob*>(ctx), c);
}
#endif
RangeFn pick_band() {
#if defined(KX_EIGH_AVX2)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return band_chunk_avx2;
#endif
  return band_chunk_portable;
}
constexpr int64_t BAND_CHUNKS = 2;  // chunks of the band stage's parallel_for (threads beyond: idle)

void panel_qr_portable(double* P, int64_t m, int64_t b, double* V, int64_t ldv, double* tau, double* v) {
  panel_qr(P, m, b, V, ldv, tau, v);
}
#if defined(KX_EIGH_AVX2)
__attribute__((target("avx2,fma"))) void panel_qr_avx2(double* P, int64_t m, int64_t b, double* V, int64_t ldv,
                                                       double* tau, double* v) {
  panel_qr(P, m, b, V, ldv, tau, v);
}
#endif
static bool use_avx2() {
#if defined(KX_EIGH_AVX2)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// Y = A22 V for the symmetric A22 (m x m at row stride ld, lower triangle stored; the upper one
// holds anything) and V (m x SB_B at row stride 2 SB_B), by row blocks of SYMM_BS: block I gets
// A22[I, 0:i1] V[0:i1] (its diagonal block first made symmetric in place) plus
// A22[i1:m, I]^T V[i1:m], two serial gemm_f64 calls per block, blocks spread by parallel_for.
// Each block of Y is computed by one chunk in a fixed order: the same bits for any thread count.
constexpr int64_t SYMM_BS = 64;
struct SymmJob {
  double* A;
  int64_t ld, m;
  const double* V;
  double* Y;
  Status* st;  // one per block
};
void symm_blocks(void* ctx, int64_t begin, int64_t end) {
  const SymmJob& j = *static_cast<SymmJob*>(ctx);
  constexpr int64_t B = SB_B, B2 = 2 * SB_B;
  for (int64_t i0 = begin; i0 < end; i0 += SYMM_BS) {
    const int64_t i1 = i0 + SYMM_BS < end ? i0 + SYMM_BS : end, h = i1 - i0;
    for (int64_t r = i0; r < i1; ++r)
      for (int64_t c = r + 1; c < i1; ++c) j.A[r * j.ld + c] = j.A[c * j.ld + r];
    Status s = gemm_f64(nullptr, h, B, i1, j.A + i0 * j.ld, j.ld, false, j.V, B2, false, j.Y + i0 * B, B, 1.0, 0.0);
    if (s == OK && i1 < j.m)
      s = gemm_f64(nullptr, h, B, j.m - i1, j.A + i1 * j.ld + i0, j.ld, true, j.V + i1 * B2, B2, false, j.Y + i0 * B,
                   B, 1.0, 1.0);
    j.st[i0 / SYMM_BS] = s;
  }
}

// Eigenvalues of the lower triangle of a (n x n, n > SB_B + 1) by the two-stage reduction, then
// tql: unsorted in d.
Status syevals_two_stage(const Exec* ex, int64_t n, const double* a, double* d) {
  constexpr int64_t B = SB_B, B2 = 2 * SB_B;
  const int64_t lds = B2;
  double* A = static_cast<double*>(alloc(sizeof(double) * n * n));
  const int64_t nblk = (n + SYMM_BS - 1) / SYMM_BS;
  double* buf = static_cast<double*>(alloc(sizeof(double) * (8 * B * n + 5 * B * B + n) + sizeof(Status) * nblk));
  if (A == nullptr || buf == nullptr) {
    release(A);
    release(buf);
    return E_OOM;
  }
  double* P = buf;              // the panel, column-major (m x B)
  double* VW = P + B * n;       // m x 2B: V, then W
  double* WV = VW + B2 * n;     // m x 2B: W, then V
  double* Y = WV + B2 * n;      // m x B: A22 V
  double* X = Y + B * n;        // m x B: A22 V T, then W
  double* T = X + B * n;        // B x B
  double* Sm = T + B * B;       // B x B: V^T V
  double* M = Sm + B * B;       // B x B: V^T X
  double* Z = M + B * B;        // B x B: T^T V^T X
  double* tau = Z + B * B;      // B
  double* vt = tau + B;         // n: reflector scratch
  Status* bst = reinterpret_cast<Status*>(vt + n);  // per-block status of the symmetric product
  const bool avx2 = use_avx2();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) A[i * n + j] = j <= i ? a[i * n + j] : 0.0;
  Status st = OK;
  int64_t k = 0;
  for (; n - k - B >= 2 && st == OK; k += B) {
    const int64_t m = n - k - B;
    const int64_t r0 = k + B;  // first row below the band
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < B; ++j) P[j * m + i] = A[(r0 + i) * n + k + j];
    for (int64_t i = 0; i < m * B2; ++i) VW[i] = 0;
#if defined(KX_EIGH_AVX2)
    if (avx2) panel_qr_avx2(P, m, B, VW, B2, tau, vt);
    else
#endif
      panel_qr_portable(P, m, B, VW, B2, tau, vt);
    for (int64_t j = 0; j < B; ++j)
      for (int64_t i = 0; i <= j && i < m; ++i) A[(r0 + i) * n + k + j] = P[j * m + i];
    // T (forward, columnwise): T[c][c] = tau_c, T[0:c, c] = -tau_c T[0:c, 0:c] (V^T v_c)[0:c].
    st = gemm_f64(ex, B, B, m, VW, B2, true, VW, B2, false, Sm, B, 1.0, 0.0);
    if (st != OK) break;
    for (int64_t c = 0; c < B; ++c) {
      const double tc = tau[c];
      for (int64_t i = 0; i < c; ++i) {
        double s = 0;
        for (int64_t j = i; j < c; ++j) s += T[i * B + j] * Sm[j * B + c];
        T[i * B + c] = -tc * s;
      }
      T[c * B + c] = tc;
      for (int64_t i = c + 1; i < B; ++i) T[i * B + c] = 0;
    }
    double* A22 = A + r0 * n + r0;
    {
      SymmJob sj{A22, n, m, VW, Y, bst};
      parallel_for(ex, m, SYMM_BS, symm_blocks, &sj);
      for (int64_t b = 0; b * SYMM_BS < m; ++b)
        if (bst[b] != OK) st = bst[b];
    }
    if (st == OK) st = gemm_f64(ex, m, B, B, Y, B, false, T, B, false, X, B, 1.0, 0.0);
    if (st == OK) st = gemm_f64(ex, B, B, m, VW, B2, true, X, B, false, M, B, 1.0, 0.0);
    if (st == OK) st = gemm_f64(nullptr, B, B, B, T, B, true, M, B, false, Z, B, 1.0, 0.0);
    if (st == OK) st = gemm_f64(ex, m, B, B, VW, B2, false, Z, B, false, X, B, -0.5, 1.0);
    if (st != OK) break;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < B; ++j) {
        VW[i * B2 + B + j] = X[i * B + j];
        WV[i * B2 + j] = X[i * B + j];
        WV[i * B2 + B + j] = VW[i * B2 + j];
      }
    st = gemm_f64_lower(ex, m, B2, VW, B2, false, WV, B2, true, A22, n, -1.0, 1.0);
    if (st != OK) break;
  }
  if (st != OK) {
    release(A);
    release(buf);
    return st;
  }
  release(buf);
  // The band (with room for the bulges) from A's lower triangle.
  double* S = static_cast<double*>(
      alloc(sizeof(double) * (n * lds + n + BAND_CHUNKS * 4 * B + n + n * (B + 4)) + sizeof(int64_t) * (n + 1) + sizeof(int32_t) * 2 * n));
  if (S == nullptr) {
    release(A);
    return E_OOM;
  }
  double* work = S + n * lds + n;  // BAND_CHUNKS x 4 B (S's last entry is at (n - 1) lds + n - 1)
  double* e = work + BAND_CHUNKS * 4 * B;  // n
  double* handoff = e + n;  // n x (B + 4)
  int64_t* prog = reinterpret_cast<int64_t*>(handoff + n * (B + 4));  // n, then the active count
  int32_t* claim = reinterpret_cast<int32_t*>(prog + n + 1);            // 2 n
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = r - B2 + 1 > 0 ? r - B2 + 1 : 0; c <= r; ++c) S[r * lds + c] = r - c <= B ? A[r * n + c] : 0.0;
  release(A);
  for (int64_t i = 0; i <= n; ++i) prog[i] = 0;
  for (int64_t i = 0; i < 2 * n; ++i) claim[i] = 0;
  {
    static const RangeFn band = pick_band();
    BandJob bj{S, n, lds, claim, prog + n, prog, handoff, work};
    parallel_for(ex, BAND_CHUNKS, 1, band, &bj);
  }
  for (int64_t j = 0; j < n; ++j) {
    d[j] = S[j * lds + j];
    e[j] = j + 1 < n ? S[(j + 1) * lds + j] : 0;
  }
  if (!tql_impl<true>(d, e, n, nullptr)) st = E_INTERNAL;
  release(S);
  return st;
}

// ---- back-transformation ------------------------------------------------------------------------

constexpr int64_t BT_NB = 64;  // reflectors per compact-WY block

// W (n x n) = Q W with Q = H_0 ... H_{nref-1} stored in A's columns (tridiagonalize), applied as
// blocks Q_b = I - Y T Y^T from the last block to the first.
Status back_transform(const Exec* ex, int64_t n, const double* A, const double* tau, int64_t nref, double* W) {
  if (nref <= 0) return OK;
  double* buf = static_cast<double*>(alloc(sizeof(double) * (n * BT_NB + 2 * BT_NB * BT_NB + 2 * BT_NB * n)));
  if (buf == nullptr) return E_OOM;
  double* Y = buf;                  // m x kb
  double* S = Y + n * BT_NB;        // kb x kb: Y^T Y
  double* T = S + BT_NB * BT_NB;    // kb x kb upper triangular
  double* X = T + BT_NB * BT_NB;    // kb x n
  double* X2 = X + BT_NB * n;       // kb x n
  Status st = OK;
  const int64_t blocks = (nref + BT_NB - 1) / BT_NB;
  for (int64_t bi = blocks - 1; bi >= 0 && st == OK; --bi) {
    const int64_t j0 = bi * BT_NB;
    const int64_t kb = nref - j0 < BT_NB ? nref - j0 : BT_NB;
    const int64_t r0 = j0 + 1, m = n - r0;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t c = 0; c < kb; ++c) Y[i * kb + c] = i >= c ? A[(r0 + i) * n + j0 + c] : 0.0;
    // T (forward, columnwise): T[c][c] = tau_c, T[0:c, c] = -tau_c T[0:c, 0:c] (Y^T y_c)[0:c].
    st = gemm_f64(nullptr, kb, kb, m, Y, kb, true, Y, kb, false, S, kb, 1.0, 0.0);
    if (st != OK) break;
    for (int64_t c = 0; c < kb; ++c) {
      const double tc = tau[j0 + c];
      for (int64_t i = 0; i < c; ++i) {
        double s = 0;
        for (int64_t j = i; j < c; ++j) s += T[i * kb + j] * S[j * kb + c];
        T[i * kb + c] = -tc * s;
      }
      T[c * kb + c] = tc;
      for (int64_t i = c + 1; i < kb; ++i) T[i * kb + c] = 0;
    }
    double* Wr = W + r0 * n;
    st = gemm_f64(ex, kb, n, m, Y, kb, true, Wr, n, false, X, n, 1.0, 0.0);
    if (st == OK) st = gemm_f64(ex, kb, n, kb, T, kb, false, X, n, false, X2, n, 1.0, 0.0);
    if (st == OK) st = gemm_f64(ex, m, n, kb, Y, kb, false, X2, n, false, Wr, n, -1.0, 1.0);
  }
  release(buf);
  return st;
}

}  // namespace

Status syevals_f64(const Exec* ex, int64_t n, const double* a, double* values) {
  if (n < 0) return E_SHAPE;
  if (n == 0) return OK;
  if (!lower_finite(n, a)) return E_RANGE;
  if (n >= SB_MIN_N) {
    const Status st = syevals_two_stage(ex, n, a, values);
    if (st == OK) sort_values(values, n);
    return st;
  }
  double* A = static_cast<double*>(alloc(sizeof(double) * n * n));
  double* e = static_cast<double*>(alloc(sizeof(double) * n));
  if (A == nullptr || e == nullptr) {
    release(A);
    release(e);
    return E_OOM;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) A[i * n + j] = a[i * n + j];  // lower triangle only
  Status st = tridiagonalize(ex, n, A, values, e, nullptr);
  release(A);
  if (st == OK) {
    if (!tql(values, e, n, nullptr)) st = E_INTERNAL;
    else sort_values(values, n);
  }
  release(e);
  return st;
}

Status syevd_f64(const Exec* ex, int64_t n, const double* a, double* values, double* vectors) {
  if (n < 0) return E_SHAPE;
  if (n == 0) return OK;
  if (!lower_finite(n, a)) return E_RANGE;
  if (n == 1) {
    values[0] = a[0];
    vectors[0] = 1;
    return OK;
  }
  const int64_t cap = 64 * n;  // rotations per batch
  const int64_t max_sweeps = 256;
  double* A = static_cast<double*>(alloc(sizeof(double) * n * n));
  const int64_t panels = (n + ROT_W - 1) / ROT_W;
  double* Z = static_cast<double*>(alloc(sizeof(double) * panels * n * ROT_W));
  double* work = static_cast<double*>(alloc(sizeof(double) * (2 * n + 2 * cap)));
  int64_t* iw = static_cast<int64_t*>(alloc(sizeof(int64_t) * (n + 3 * max_sweeps)));
  if (A == nullptr || Z == nullptr || work == nullptr || iw == nullptr) {
    release(A);
    release(Z);
    release(work);
    release(iw);
    return E_OOM;
  }
  double* e = work;
  double* tau = work + n;
  double* cs = work + 2 * n;
  int64_t* perm = iw;
  int64_t* sw = iw + n;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) A[i * n + j] = a[i * n + j];  // lower triangle only
  Status st = tridiagonalize(ex, n, A, values, e, tau);
  if (st == OK) {
    for (int64_t i = 0; i < panels * n * ROT_W; ++i) Z[i] = 0;
    for (int64_t i = 0; i < n; ++i) Z[(i / ROT_W) * n * ROT_W + i * ROT_W + i % ROT_W] = 1;
    RotBatch rb{ex, Z, n, cs, sw, cap, max_sweeps, 0, 0};
    if (!tql(values, e, n, &rb)) st = E_INTERNAL;
  }
  if (st == OK) {
    sort_perm(values, n, perm);
    for (int64_t k = 0; k < n; ++k) e[k] = values[perm[k]];
    for (int64_t k = 0; k < n; ++k) values[k] = e[k];
    // vectors = W, W[r][k] = Z[perm[k]][r]: panel p holds W's rows [p ROT_W, (p+1) ROT_W).
    for (int64_t p = 0; p < panels; ++p) {
      const double* zp = Z + p * n * ROT_W;
      const int64_t r0 = p * ROT_W, r1 = r0 + ROT_W < n ? r0 + ROT_W : n;
      for (int64_t r = r0; r < r1; ++r) {
        double* vr = vectors + r * n;
        const double* zr = zp + (r - r0);
        for (int64_t k = 0; k < n; ++k) vr[k] = zr[perm[k] * ROT_W];
      }
    }
    st = back_transform(ex, n, A, tau, n - 2, vectors);
  }
  release(A);
  release(Z);
  release(work);
  release(iw);
  return st;
}

}  // namespace kx
