// The project's one float64 GEMM (linalg.h): a packed, cache-blocked Goto/BLIS-layout GEMM with a
// register micro-kernel (AVX2+FMA chosen at run time on x86-64; portable vector extensions elsewhere,
// which clang lowers to wasm SIMD128). Our own code so that the CPU addon and the wasm module share
// it without a BLAS dependency. Determinism: parallel_for chunks depend only on the sizes, and each
// output element is written by exactly one chunk in a fixed order, so the thread count never
// changes a bit.
#include "linalg.h"

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

}  // namespace

Status gemm_f64(const Exec* ex, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a,
                const double* b, int64_t ldb, bool trans_b, double* c, int64_t ldc, double alpha, double beta) {
  if (m < 0 || n < 0 || k < 0) return E_SHAPE;
  if (lda < (trans_a ? m : k) || ldb < (trans_b ? k : n) || ldc < n) return E_SHAPE;
  GemmJob g{m, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc, alpha, beta, false, 0, 0};
  return gemm_run(ex, g);
}

Status gemm_f64_lower(const Exec* ex, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a, const double* b,
                      int64_t ldb, bool trans_b, double* c, int64_t ldc, double alpha, double beta) {
  if (n < 0 || k < 0) return E_SHAPE;
  if (lda < (trans_a ? n : k) || ldb < (trans_b ? k : n) || ldc < n) return E_SHAPE;
  GemmJob g{n, n, k, a, lda, trans_a, b, ldb, trans_b, c, ldc, alpha, beta, true, 0, 0};
  return gemm_run(ex, g);
}

}  // namespace kx
