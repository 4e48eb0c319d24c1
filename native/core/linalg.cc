// Dense float64 kernels of the W2 route (linalg.h). Our own code so that the CPU addon and the wasm
// module share it; the algorithms are the textbook ones: a packed, cache-blocked GEMM with a
// register micro-kernel (Goto/BLIS layout), right-looking blocked Cholesky whose trailing update is
// that GEMM, and Householder tridiagonalisation + implicit QL (EISPACK tql2 without vectors).
// Determinism: parallel_for chunks depend only on the sizes, and each output element is written by
// exactly one chunk in a fixed order, so the thread count never changes a bit.
#include "linalg.h"

#include <math.h>

namespace kx {

namespace {

constexpr int64_t MR = 4, NR = 8;            // register tile
constexpr int64_t MC = 64, NC = 128, KC = 256;  // cache tiles (A pack 128 KiB, B pack 256 KiB)

struct GemmJob {
  int64_t m, n, k;
  const double* a;
  int64_t lda;
  bool ta;
  const double* b;
  int64_t ldb;
  bool tb;
  double* c;
  int64_t ldc;
  double alpha, beta;
  bool lower_only;  // skip tiles strictly above the diagonal (entries above it are unspecified)
  int64_t tiles_n;
  int oom;
};

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(__wasm__)
#define KX_LINALG_AVX2 1
#endif

// acc[MR][NR] = sum_p A[p][0..MR) x B[p][0..NR) over packed panels (A: MR per p, B: NR per p).
// Vector-extension types: gcc and clang split them into whatever the target has (SSE2, simd128).
typedef double v4d __attribute__((vector_size(32)));
static_assert(MR == 4 && NR == 8, "the micro-kernels are written for 4 x 8");

#define KX_LOAD4(v, p) __builtin_memcpy(&(v), (p), sizeof(v4d))
#define KX_STORE4(p, v) __builtin_memcpy((p), &(v), sizeof(v4d))

void micro_portable(int64_t kc, const double* __restrict A, const double* __restrict B, double* __restrict acc) {
  v4d c00 = {0, 0, 0, 0}, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int64_t p = 0; p < kc; ++p) {
    const double* ap = A + p * MR;
    v4d b0, b1;
    KX_LOAD4(b0, B + p * NR);
    KX_LOAD4(b1, B + p * NR + 4);
    c00 += ap[0] * b0, c01 += ap[0] * b1;
    c10 += ap[1] * b0, c11 += ap[1] * b1;
    c20 += ap[2] * b0, c21 += ap[2] * b1;
    c30 += ap[3] * b0, c31 += ap[3] * b1;
  }
  KX_STORE4(acc, c00), KX_STORE4(acc + 4, c01), KX_STORE4(acc + 8, c10), KX_STORE4(acc + 12, c11);
  KX_STORE4(acc + 16, c20), KX_STORE4(acc + 20, c21), KX_STORE4(acc + 24, c30), KX_STORE4(acc + 28, c31);
}

#if defined(KX_LINALG_AVX2)
}  // namespace
}  // namespace kx
#include <immintrin.h>
namespace kx {
namespace {
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const double* __restrict A, const double* __restrict B,
                                                    double* __restrict acc) {
  __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int64_t p = 0; p < kc; ++p) {
    const double* ap = A + p * MR;
    const __m256d b0 = _mm256_loadu_pd(B + p * NR), b1 = _mm256_loadu_pd(B + p * NR + 4);
    __m256d a = _mm256_broadcast_sd(ap);
    c00 = _mm256_fmadd_pd(a, b0, c00), c01 = _mm256_fmadd_pd(a, b1, c01);
    a = _mm256_broadcast_sd(ap + 1);
    c10 = _mm256_fmadd_pd(a, b0, c10), c11 = _mm256_fmadd_pd(a, b1, c11);
    a = _mm256_broadcast_sd(ap + 2);
    c20 = _mm256_fmadd_pd(a, b0, c20), c21 = _mm256_fmadd_pd(a, b1, c21);
    a = _mm256_broadcast_sd(ap + 3);
    c30 = _mm256_fmadd_pd(a, b0, c30), c31 = _mm256_fmadd_pd(a, b1, c31);
  }
  _mm256_storeu_pd(acc, c00), _mm256_storeu_pd(acc + 4, c01), _mm256_storeu_pd(acc + 8, c10);
  _mm256_storeu_pd(acc + 12, c11), _mm256_storeu_pd(acc + 16, c20), _mm256_storeu_pd(acc + 20, c21);
  _mm256_storeu_pd(acc + 24, c30), _mm256_storeu_pd(acc + 28, c31);
}
#endif

typedef void (*MicroFn)(int64_t, const double*, const double*, double*);

MicroFn pick_micro() {
#if defined(KX_LINALG_AVX2)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return micro_avx2;
#endif
  return micro_portable;
}


void gemm_tiles(void* ctx, int64_t t0, int64_t t1) {
  GemmJob& g = *static_cast<GemmJob*>(ctx);
  double* Ap = static_cast<double*>(alloc(sizeof(double) * MC * KC));
  double* Bp = static_cast<double*>(alloc(sizeof(double) * KC * NC));
  if (Ap == nullptr || Bp == nullptr) {
    __atomic_store_n(&g.oom, 1, __ATOMIC_RELAXED);
    release(Ap);
    release(Bp);
    return;
  }
  static const MicroFn micro = pick_micro();
  double acc[MR * NR];
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t i0 = (t / g.tiles_n) * MC, j0 = (t % g.tiles_n) * NC;
    const int64_t mc = g.m - i0 < MC ? g.m - i0 : MC, nc = g.n - j0 < NC ? g.n - j0 : NC;
    if (g.lower_only && j0 > i0 + mc - 1) continue;
    for (int64_t kk = 0; kk < g.k; kk += KC) {
      const int64_t kc = g.k - kk < KC ? g.k - kk : KC;
      const bool first = kk == 0;
      for (int64_t ir = 0; ir < mc; ir += MR)
        for (int64_t i = 0; i < MR; ++i) {
          double* dst = Ap + ir * kc + i;
          if (ir + i < mc) {
            const int64_t row = i0 + ir + i;
            if (!g.ta) {
              const double* src = g.a + row * g.lda + kk;
              for (int64_t p = 0; p < kc; ++p) dst[p * MR] = src[p];
            } else {
              for (int64_t p = 0; p < kc; ++p) dst[p * MR] = g.a[(kk + p) * g.lda + row];
            }
          } else {
            for (int64_t p = 0; p < kc; ++p) dst[p * MR] = 0;
          }
        }
      for (int64_t jr = 0; jr < nc; jr += NR) {
        double* dst = Bp + jr * kc;
        const int64_t nr = nc - jr < NR ? nc - jr : NR;
        if (!g.tb) {
          for (int64_t p = 0; p < kc; ++p) {
            const double* src = g.b + (kk + p) * g.ldb + j0 + jr;
            for (int64_t j = 0; j < nr; ++j) dst[p * NR + j] = src[j];
            for (int64_t j = nr; j < NR; ++j) dst[p * NR + j] = 0;
          }
        } else {
          for (int64_t j = 0; j < NR; ++j) {
            if (j < nr) {
              const double* src = g.b + (j0 + jr + j) * g.ldb + kk;
              for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p];
            } else {
              for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = 0;
            }
          }
        }
      }
      for (int64_t jr = 0; jr < nc; jr += NR) {
        const int64_t nr = nc - jr < NR ? nc - jr : NR;
        for (int64_t ir = 0; ir < mc; ir += MR) {
          if (g.lower_only && j0 + jr > i0 + ir + MR - 1) continue;
          const int64_t mr = mc - ir < MR ? mc - ir : MR;
          micro(kc, Ap + ir * kc, Bp + jr * kc, acc);
          for (int64_t i = 0; i < mr; ++i) {
            double* crow = g.c + (i0 + ir + i) * g.ldc + j0 + jr;
            const double* arow = acc + i * NR;
            if (first) {
              if (g.beta == 0)
                for (int64_t j = 0; j < nr; ++j) crow[j] = g.alpha * arow[j];
              else
                for (int64_t j = 0; j < nr; ++j) crow[j] = g.beta * crow[j] + g.alpha * arow[j];
            } else {
              for (int64_t j = 0; j < nr; ++j) crow[j] += g.alpha * arow[j];
            }
          }
        }
      }
    }
  }
  release(Ap);
  release(Bp);
}

Status gemm_run(const Exec* ex, GemmJob g) {
  if (g.m == 0 || g.n == 0) return OK;
  if (g.k == 0) {
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        double* cij = g.c + i * g.ldc + j;
        *cij = g.beta == 0 ? 0 : g.beta * *cij;
      }
    return OK;
  }
  const int64_t tiles_m = (g.m + MC - 1) / MC;
  g.tiles_n = (g.n + NC - 1) / NC;
  g.oom = 0;
  parallel_for(ex, tiles_m * g.tiles_n, 1, gemm_tiles, &g);
  return g.oom ? E_OOM : OK;
}

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

Status gemm_f64(const Exec* ex, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a,
                const double* b, int64_t ldb, bool trans_b, double* c, int64_t ldc, double alpha, double beta) {
  if (m < 0 || n < 0 || k < 0) return E_SHAPE;
  if (lda < (trans_a ? m : k) || ldb < (trans_b ? k : n) || ldc < n) return E_SHAPE;
  GemmJob g{m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc, alpha, beta, false, 0, 0};
  return gemm_run(ex, g);
}

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
    GemmJob g{rest, rest, jb, L + r0 * n + j0, n, false, L + r0 * n + j0, n, true, L + r0 * n + r0, n, -1.0, 1.0, true, 0, 0};
    const Status s = gemm_run(ex, g);
    if (s != OK) return s;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) L[i * n + j] = 0;
  return OK;
}

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
