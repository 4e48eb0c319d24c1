// The project's one float64 GEMM (linalg.h): C = alpha op(A) op(B) + beta C, and its lower-triangle
// variant, for every dense product of the Gaussian route (Cholesky's trailing update, the W2 trace,
// the sqrtm iterations, eigenvector back-transformation, feature statistics) and for small batched
// matrices. Our own code, not a BLAS: the CPU addon (g++) and the wasm module (clang, SIMD128)
// compile this same file, so there is no BLAS to find, link or ship per platform, and both backends
// run the same algorithm with the same determinism rules.
//
// Algorithm: Goto / BLIS packed GEMM. Steps: for each column panel (<= NC columns of C), each k
// block (<= KC) and each row block (<= MB rows), ONE parallel_for over (mc x tn) tiles of C:
//  - packing: op(A) goes into MR-row slivers (kc x MR, p-major) and op(B) into NR-column slivers
//    (kc x NR), zero-padded, in 64-byte aligned scratch shared by all tasks of the step. Nobody packs
//    up front: the first task that needs A block ti (its mc rows) or B group tj (its tn columns)
//    claims it with an atomic flag and packs it; a task that needs a block someone else is packing
//    packs other unclaimed blocks of the step meanwhile, then waits (the packer never waits, so this
//    always ends). One barrier per step instead of a pack phase plus a compute phase.
//  - compute: a tile walks its NR slivers of B (each kc x NR = 16 KiB, kept in L1) and, for each,
//    its MR slivers of A (the mc x kc block, <= 288 KiB, kept in L2), calling the micro-kernel,
//    which holds an MR x NR block of C in registers over the whole k block and then updates C in
//    place (alpha, beta applied there; edge tiles go through a small buffer).
// Micro-kernels: on x86-64 with AVX2+FMA (chosen at run time with __builtin_cpu_supports; the
// file itself is built for baseline x86-64) a 6 x 8 kernel: 12 ymm accumulators + 2 B vectors + 1
// broadcast of the 16 registers, 12 FMAs per 2 loads + 6 broadcasts, which keeps both FMA pipes
// busy (AVX2 transposing packers too). Elsewhere (SSE2-only x86, wasm SIMD128, other CPUs) a
// portable vector-extension 4 x 4 kernel on 2-wide f64 vectors: 8 accumulators, 2 B vectors, a
// broadcast and a product temporary fit the 15 xmm registers V8 gives SIMD128 (measured in node:
// 4x4 ~15 GFLOP/s; 6x4, 4x6, 4x8, 5x4, 3x6 spill and run at 7-13).
// Blocking: KC = 256 (a B sliver is 16 KiB, half of a 32 KiB L1d); MC = 144 (an A block is
// 288 KiB of a 512 KiB L2); tn gives >= ~32 tiles per step (load balance for any thread count)
// with >= 4 B slivers per tile; NC = MB = 2048 (packed panels of <= 4 MiB each, in L3, and
// scratch bounded for any m, n). k blocks are balanced (k = 300 gives 150 + 150, not 256 + 44), as
// are row blocks. Products with m n k < 96^3 run serially (a thread hand-off costs more), and
// m n k <= 512 take a plain loop with no packing or scratch (batched tiny matrices).
// Determinism: each element of C gets its k blocks in order, and inside a block one accumulator
// sums p = 0..kc-1 in order; the k blocking depends only on k, and the tiling of m and n never
// changes an element's arithmetic (edge tiles do the same operations in scalar code). So the
// result is bitwise the same for any thread count and any chunk-to-thread assignment; only the
// micro-kernel the CPU gets (FMA or not) changes bits.
// alpha == 0 or k == 0: C = beta C without reading A or B (beta == 0 writes zeros), as in BLAS.
#include "linalg.h"

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(__wasm__)
#define KX_GEMM_AVX2 1
#include <immintrin.h>
#endif

namespace kx {

namespace {

constexpr int64_t KC = 256;   // k block
constexpr int64_t MC = 144;   // rows per compute tile (A block in L2)
constexpr int64_t NC = 2048;  // columns per packed B panel
constexpr int64_t MB = 2048;  // rows per packed A panel
constexpr int64_t kMaxTilesM = (MB + MC - 1) / MC + 1, kMaxTilesN = 32;
constexpr int64_t kSerialWork = 96 * 96 * 96;  // m n k below this: no threads (dispatch costs more)
constexpr int64_t kTinyWork = 512;             // m n k up to this: gemm_tiny
constexpr int64_t kStackDoubles = 640;         // pack scratch up to this many doubles on the stack

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return cdiv(a, b) * b; }

// How the micro-kernel combines its block of alpha A B with C: the first k block overwrites
// (beta == 0) or scales C, later blocks add.
enum Mode : int { SET = 0, SCALE_ADD = 1, ADD = 2 };

// kc-long micro-kernel: C[0..MR)[0..NR) (row stride ldc) op= alpha * sum_p A[p][i] B[p][j], with A
// packed MR per p and B packed NR per p (both 64-byte aligned).
typedef void (*KernelFn)(int64_t kc, const double* A, const double* B, double* C, int64_t ldc, double alpha,
                         double beta, int mode);

struct Job {
  // the problem
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
  bool lower;
  KernelFn kernel;
  // the current step: k block [kk, kk + kc), column panel [j0, j0 + nc), row block [i0, i0 + mb)
  int64_t kk, kc, j0, nc, i0, mb;
  int mode;
  double* Ap;  // mb rounded up to MR, times kc: A block ti (rows ti mc ..) at Ap + ti mc kc
  double* Bp;  // nc rounded up to NR, times kc: B sliver s (columns s NR ..) at Bp + s NR kc
  int64_t mc, tiles_m, tn, tiles_n;
  // Packing state of A block ti (a_state[ti]) and B column group tj (b_state[tj]): 0 not packed,
  // 1 being packed by one task, 2 ready. Reset before each step's parallel_for.
  int32_t a_state[kMaxTilesM], b_state[kMaxTilesN];
};

// ---- packing -----------------------------------------------------------------------------------

#if defined(KX_GEMM_AVX2)
// Transposing packers for the AVX2 path (MR = 6, NR = 8): whole slivers whose source is strided
// (op(A) rows of a non-transposed A, op(B) columns of a transposed B), 4 x 4 transposes per 4 p.
__attribute__((target("avx2,fma"))) inline void transpose4(__m256d r0, __m256d r1, __m256d r2, __m256d r3,
                                                           __m256d* c0, __m256d* c1, __m256d* c2, __m256d* c3) {
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  *c0 = _mm256_permute2f128_pd(t0, t2, 0x20), *c1 = _mm256_permute2f128_pd(t1, t3, 0x20);
  *c2 = _mm256_permute2f128_pd(t0, t2, 0x31), *c3 = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// dst[p * 6 + i] = src[i * ld + p], i < 6, p < kc.
__attribute__((target("avx2,fma"))) void pack_rows6_avx2(const double* src, int64_t ld, int64_t kc, double* dst) {
  const double *s0 = src, *s1 = src + ld, *s2 = src + 2 * ld, *s3 = src + 3 * ld, *s4 = src + 4 * ld,
               *s5 = src + 5 * ld;
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4, dst += 24) {
    __m256d c0, c1, c2, c3;
    transpose4(_mm256_loadu_pd(s0 + p), _mm256_loadu_pd(s1 + p), _mm256_loadu_pd(s2 + p), _mm256_loadu_pd(s3 + p),
               &c0, &c1, &c2, &c3);
    const __m256d r4 = _mm256_loadu_pd(s4 + p), r5 = _mm256_loadu_pd(s5 + p);
    const __m256d u0 = _mm256_unpacklo_pd(r4, r5), u1 = _mm256_unpackhi_pd(r4, r5);
    _mm256_storeu_pd(dst, c0), _mm_storeu_pd(dst + 4, _mm256_castpd256_pd128(u0));
    _mm256_storeu_pd(dst + 6, c1), _mm_storeu_pd(dst + 10, _mm256_castpd256_pd128(u1));
    _mm256_storeu_pd(dst + 12, c2), _mm_storeu_pd(dst + 16, _mm256_extractf128_pd(u0, 1));
    _mm256_storeu_pd(dst + 18, c3), _mm_storeu_pd(dst + 22, _mm256_extractf128_pd(u1, 1));
  }
  for (; p < kc; ++p, dst += 6) dst[0] = s0[p], dst[1] = s1[p], dst[2] = s2[p], dst[3] = s3[p], dst[4] = s4[p], dst[5] = s5[p];
}

// dst[p * 8 + j] = src[j * ld + p], j < 8, p < kc (dst 32-byte aligned).
__attribute__((target("avx2,fma"))) void pack_rows8_avx2(const double* src, int64_t ld, int64_t kc, double* dst) {
  const double* s[8];
  for (int j = 0; j < 8; ++j) s[j] = src + j * ld;
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4, dst += 32) {
    __m256d c0, c1, c2, c3, d0, d1, d2, d3;
    transpose4(_mm256_loadu_pd(s[0] + p), _mm256_loadu_pd(s[1] + p), _mm256_loadu_pd(s[2] + p),
               _mm256_loadu_pd(s[3] + p), &c0, &c1, &c2, &c3);
    transpose4(_mm256_loadu_pd(s[4] + p), _mm256_loadu_pd(s[5] + p), _mm256_loadu_pd(s[6] + p),
               _mm256_loadu_pd(s[7] + p), &d0, &d1, &d2, &d3);
    _mm256_store_pd(dst, c0), _mm256_store_pd(dst + 4, d0), _mm256_store_pd(dst + 8, c1), _mm256_store_pd(dst + 12, d1);
    _mm256_store_pd(dst + 16, c2), _mm256_store_pd(dst + 20, d2), _mm256_store_pd(dst + 24, c3),
        _mm256_store_pd(dst + 28, d3);
  }
  for (; p < kc; ++p, dst += 8)
    for (int j = 0; j < 8; ++j) dst[j] = s[j][p];
}
#endif

// Rows [r, r + rows) of op(A), k range [kk, kk + kc), into dst[p * MR + i]; rows >= rows are 0.
template <int MR>
void pack_a(const Job& g, int64_t r, int64_t rows, double* __restrict dst) {
  const int64_t kc = g.kc, kk = g.kk, lda = g.lda;
  if (rows == MR) {
    if (!g.ta) {
      const double* src = g.a + r * lda + kk;
#if defined(KX_GEMM_AVX2)
      if (MR == 6) return pack_rows6_avx2(src, lda, kc, dst);
#endif
      for (int64_t p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) dst[p * MR + i] = src[i * lda + p];
    } else {
      const double* src = g.a + kk * lda + r;
      for (int64_t p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) dst[p * MR + i] = src[p * lda + i];
    }
    return;
  }
  for (int64_t p = 0; p < kc; ++p)
    for (int i = 0; i < MR; ++i)
      dst[p * MR + i] = i < rows ? (g.ta ? g.a[(kk + p) * lda + r + i] : g.a[(r + i) * lda + kk + p]) : 0.0;
}

// Columns [col, col + cols) of op(B), k range [kk, kk + kc), into dst[p * NR + j]; cols >= cols: 0.
template <int NR>
void pack_b(const Job& g, int64_t col, int64_t cols, double* __restrict dst) {
  const int64_t kc = g.kc, kk = g.kk, ldb = g.ldb;
  if (cols == NR) {
    if (!g.tb) {
      const double* src = g.b + kk * ldb + col;
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[p * ldb + j];
    } else {
      const double* src = g.b + col * ldb + kk;
#if defined(KX_GEMM_AVX2)
      if (NR == 8) return pack_rows8_avx2(src, ldb, kc, dst);
#endif
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[j * ldb + p];
    }
    return;
  }
  for (int64_t p = 0; p < kc; ++p)
    for (int j = 0; j < NR; ++j)
      dst[p * NR + j] = j < cols ? (g.tb ? g.b[(col + j) * ldb + kk + p] : g.b[(kk + p) * ldb + col + j]) : 0.0;
}

// Packs rows [r0, r1) of the row block into their MR slivers.
template <int MR>
void pack_a_block(const Job& g, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r += MR) pack_a<MR>(g, g.i0 + r, min64(MR, r1 - r), g.Ap + r * g.kc);
}

// Packs columns [c0, c1) of the panel into their NR slivers.
template <int NR>
void pack_b_group(const Job& g, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; c += NR) pack_b<NR>(g, g.j0 + c, min64(NR, c1 - c), g.Bp + c * g.kc);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Claims an unpacked block (0 -> 1); the claimer packs it and publishes 2.
inline bool claim(int32_t* st) {
  int32_t expected = 0;
  return __atomic_load_n(st, __ATOMIC_ACQUIRE) == 0 &&
         __atomic_compare_exchange_n(st, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
inline void publish(int32_t* st) { __atomic_store_n(st, 2, __ATOMIC_RELEASE); }

// ---- compute -----------------------------------------------------------------------------------

// An edge micro-tile: the kernel writes its sums to tmp (alpha 1, SET: exact copies), and the same
// operations as the kernel's update are done here in scalar code (so every element of C gets the
// same arithmetic whether or not it lies in an edge tile).
template <int MR, int NR>
void edge_tile(const Job& g, int64_t kc, const double* A, const double* B, double* C, int64_t rows, int64_t cols) {
  alignas(64) double tmp[MR * NR];
  g.kernel(kc, A, B, tmp, NR, 1.0, 0.0, SET);
  const double alpha = g.alpha, beta = g.beta;
  for (int64_t i = 0; i < rows; ++i) {
    double* crow = C + i * g.ldc;
    const double* t = tmp + i * NR;
    if (g.mode == SET)
      for (int64_t j = 0; j < cols; ++j) crow[j] = alpha * t[j];
    else if (g.mode == SCALE_ADD)
      for (int64_t j = 0; j < cols; ++j) crow[j] = beta * crow[j] + alpha * t[j];
    else
      for (int64_t j = 0; j < cols; ++j) crow[j] = crow[j] + alpha * t[j];
  }
}

// Packs A block ti / B column group tj of the step and marks it ready.
template <int MR>
void pack_a_tile(Job& g, int64_t ti) {
  const int64_t r0 = ti * g.mc;
  pack_a_block<MR>(g, r0, min64(r0 + g.mc, g.mb));
  publish(&g.a_state[ti]);
}
template <int NR>
void pack_b_tile(Job& g, int64_t tj) {
  const int64_t c0 = tj * g.tn;
  pack_b_group<NR>(g, c0, min64(c0 + g.tn, g.nc));
  publish(&g.b_state[tj]);
}

// Waits for a block another task is packing (that task never waits on anything, so this ends);
// meanwhile packs other unclaimed blocks of the step (every block is needed by some tile).
template <int MR, int NR>
void wait_ready(Job& g, const int32_t* st) {
  while (__atomic_load_n(st, __ATOMIC_ACQUIRE) != 2) {
    bool helped = false;
    for (int64_t t = 0; t < g.tiles_m && !helped; ++t)
      if (claim(&g.a_state[t])) pack_a_tile<MR>(g, t), helped = true;
    for (int64_t t = 0; t < g.tiles_n && !helped; ++t)
      if (claim(&g.b_state[t])) pack_b_tile<NR>(g, t), helped = true;
    if (!helped) cpu_relax();
  }
}

template <int MR, int NR>
void compute_tiles(void* ctx, int64_t t0, int64_t t1) {
  const Job& g = *static_cast<const Job*>(ctx);
  const int64_t kc = g.kc;
  for (int64_t t = t0; t < t1; ++t) {
    // Tile (ti, tj): rows [r0, r1) of the row block, columns [c0, c1) of the panel.
    // Lower: bottom row blocks first (they have the most tiles below the diagonal), so the
    // dynamic chunk order ends on small tasks.
    const int64_t ti = g.lower ? g.tiles_m - 1 - t / g.tiles_n : t / g.tiles_n, tj = t % g.tiles_n;
    const int64_t r0 = ti * g.mc, r1 = min64(r0 + g.mc, g.mb);
    const int64_t c0 = tj * g.tn, c1 = min64(c0 + g.tn, g.nc);
    if (g.lower && g.j0 + c0 > g.i0 + r1 - 1) continue;  // strictly above the diagonal
    // The first task to need a block packs it (into the shared panel); others wait for it.
    Job& gm = *static_cast<Job*>(ctx);
    if (claim(&gm.b_state[tj])) pack_b_tile<NR>(gm, tj);
    if (claim(&gm.a_state[ti])) pack_a_tile<MR>(gm, ti);
    wait_ready<MR, NR>(gm, &gm.b_state[tj]);
    wait_ready<MR, NR>(gm, &gm.a_state[ti]);
    for (int64_t jr = c0; jr < c1; jr += NR) {
      const int64_t cols = min64(NR, c1 - jr), col = g.j0 + jr;
      const double* B = g.Bp + jr * kc;
      int64_t ir = r0;
      if (g.lower) {  // skip micro-tiles strictly above the diagonal: first row >= col - MR + 1
        const int64_t need = col - (g.i0 + r0) - (MR - 1);
        if (need > 0) ir += cdiv(need, MR) * MR;
      }
      for (; ir < r1; ir += MR) {
        const int64_t rows = min64(MR, r1 - ir);
        double* C = g.c + (g.i0 + ir) * g.ldc + col;
        if (rows == MR && cols == NR)
          g.kernel(kc, g.Ap + ir * kc, B, C, g.ldc, g.alpha, g.beta, g.mode);
        else
          edge_tile<MR, NR>(g, kc, g.Ap + ir * kc, B, C, rows, cols);
      }
    }
  }
}

// ---- micro-kernels -----------------------------------------------------------------------------

// Portable: MR x NR with NR / 2 two-wide vectors per row (SSE2 / wasm SIMD128 registers).
typedef double v2d __attribute__((vector_size(16)));
constexpr int PMR = 4, PNR = 4;

void kernel_portable(int64_t kc, const double* __restrict A, const double* __restrict B, double* C, int64_t ldc,
                     double alpha, double beta, int mode) {
  constexpr int V = PNR / 2;
  v2d acc[PMR][V];
  for (int i = 0; i < PMR; ++i)
    for (int v = 0; v < V; ++v) acc[i][v] = v2d{0, 0};
  for (int64_t p = 0; p < kc; ++p) {
    v2d b[V];
    for (int v = 0; v < V; ++v) __builtin_memcpy(&b[v], B + p * PNR + 2 * v, sizeof(v2d));
    for (int i = 0; i < PMR; ++i) {
      const double ai = A[p * PMR + i];
      const v2d a = {ai, ai};
      for (int v = 0; v < V; ++v) acc[i][v] += a * b[v];
    }
  }
  const v2d va = {alpha, alpha}, vb = {beta, beta};
  for (int i = 0; i < PMR; ++i)
    for (int v = 0; v < V; ++v) {
      double* cp = C + i * ldc + 2 * v;
      v2d x = va * acc[i][v], old;
      if (mode != SET) {
        __builtin_memcpy(&old, cp, sizeof(v2d));
        x = mode == SCALE_ADD ? vb * old + x : old + x;
      }
      __builtin_memcpy(cp, &x, sizeof(v2d));
    }
}

#if defined(KX_GEMM_AVX2)
constexpr int XMR = 6, XNR = 8;

__attribute__((target("avx2,fma"))) void kernel_avx2(int64_t kc, const double* __restrict A,
                                                     const double* __restrict B, double* C, int64_t ldc,
                                                     double alpha, double beta, int mode) {
  __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256d c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int i = 0; i < XMR; ++i) {
    _mm_prefetch((const char*)(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char*)(C + i * ldc + XNR - 1), _MM_HINT_T0);
  }
#define KX_STEP(q)                                                                                \
  {                                                                                               \
    const __m256d b0 = _mm256_load_pd(B + (q) * XNR), b1 = _mm256_load_pd(B + (q) * XNR + 4);     \
    __m256d a = _mm256_broadcast_sd(A + (q) * XMR + 0);                                           \
    c00 = _mm256_fmadd_pd(a, b0, c00), c01 = _mm256_fmadd_pd(a, b1, c01);                         \
    a = _mm256_broadcast_sd(A + (q) * XMR + 1);                                                   \
    c10 = _mm256_fmadd_pd(a, b0, c10), c11 = _mm256_fmadd_pd(a, b1, c11);                         \
    a = _mm256_broadcast_sd(A + (q) * XMR + 2);                                                   \
    c20 = _mm256_fmadd_pd(a, b0, c20), c21 = _mm256_fmadd_pd(a, b1, c21);                         \
    a = _mm256_broadcast_sd(A + (q) * XMR + 3);                                                   \
    c30 = _mm256_fmadd_pd(a, b0, c30), c31 = _mm256_fmadd_pd(a, b1, c31);                         \
    a = _mm256_broadcast_sd(A + (q) * XMR + 4);                                                   \
    c40 = _mm256_fmadd_pd(a, b0, c40), c41 = _mm256_fmadd_pd(a, b1, c41);                         \
    a = _mm256_broadcast_sd(A + (q) * XMR + 5);                                                   \
    c50 = _mm256_fmadd_pd(a, b0, c50), c51 = _mm256_fmadd_pd(a, b1, c51);                         \
  }
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    _mm_prefetch((const char*)(A + 16 * XMR), _MM_HINT_T0);
    KX_STEP(0) KX_STEP(1) KX_STEP(2) KX_STEP(3)
    A += 4 * XMR, B += 4 * XNR;
  }
  for (; p < kc; ++p) {
    KX_STEP(0)
    A += XMR, B += XNR;
  }
#undef KX_STEP
  const __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
  // Separate multiplies and adds (no FMA), the same operations as edge_tile's scalar code.
#define KX_ROW(i, x0, x1)                                                                          \
  {                                                                                                \
    double* cp = C + (i) * ldc;                                                                    \
    __m256d y0 = _mm256_mul_pd(va, x0), y1 = _mm256_mul_pd(va, x1);                                \
    if (mode == SCALE_ADD) {                                                                       \
      y0 = _mm256_add_pd(_mm256_mul_pd(vb, _mm256_loadu_pd(cp)), y0);                              \
      y1 = _mm256_add_pd(_mm256_mul_pd(vb, _mm256_loadu_pd(cp + 4)), y1);                          \
    } else if (mode == ADD) {                                                                      \
      y0 = _mm256_add_pd(_mm256_loadu_pd(cp), y0);                                                 \
      y1 = _mm256_add_pd(_mm256_loadu_pd(cp + 4), y1);                                             \
    }                                                                                              \
    _mm256_storeu_pd(cp, y0), _mm256_storeu_pd(cp + 4, y1);                                        \
  }
  KX_ROW(0, c00, c01) KX_ROW(1, c10, c11) KX_ROW(2, c20, c21)
  KX_ROW(3, c30, c31) KX_ROW(4, c40, c41) KX_ROW(5, c50, c51)
#undef KX_ROW
}
#endif

// ---- driver ------------------------------------------------------------------------------------

void scale_c(const Job& g) {  // C = beta C (lower: the lower triangle), for alpha == 0 or k == 0
  for (int64_t i = 0; i < g.m; ++i) {
    double* crow = g.c + i * g.ldc;
    const int64_t cols = g.lower ? min64(i + 1, g.n) : g.n;
    if (g.beta == 0)
      for (int64_t j = 0; j < cols; ++j) crow[j] = 0;
    else
      for (int64_t j = 0; j < cols; ++j) crow[j] = g.beta * crow[j];
  }
}

// Tiny products: a plain loop (the packed path's set-up costs more than the arithmetic). Each
// element sums p = 0..k-1 in order, then gets the same update as the micro-kernels'.
void gemm_tiny(const Job& g) {
  const int64_t m = g.m, n = g.n, k = g.k, lda = g.lda, ldb = g.ldb, ldc = g.ldc;
  const double *__restrict A = g.a, *__restrict B = g.b;
  const double alpha = g.alpha, beta = g.beta;
  // Strides of op(A) (row i, step p) and op(B) (step p, column j).
  const int64_t ai = g.ta ? 1 : lda, ap = g.ta ? lda : 1, bp = g.tb ? 1 : ldb, bj = g.tb ? ldb : 1;
  for (int64_t i = 0; i < m; ++i) {
    const int64_t cols = g.lower ? min64(i + 1, n) : n;
    double* __restrict crow = g.c + i * ldc;
    const double* arow = A + i * ai;
    for (int64_t j0 = 0; j0 < cols; j0 += 4) {
      const int64_t w = min64(4, cols - j0);
      double s[4] = {0, 0, 0, 0};
      const double* bcol = B + j0 * bj;
      if (w == 4) {
        for (int64_t p = 0; p < k; ++p) {
          const double a = arow[p * ap];
          const double* bq = bcol + p * bp;
          s[0] += a * bq[0], s[1] += a * bq[bj], s[2] += a * bq[2 * bj], s[3] += a * bq[3 * bj];
        }
      } else {
        for (int64_t p = 0; p < k; ++p) {
          const double a = arow[p * ap];
          for (int64_t q = 0; q < w; ++q) s[q] += a * bcol[p * bp + q * bj];
        }
      }
      for (int64_t q = 0; q < w; ++q)
        crow[j0 + q] = beta == 0 ? alpha * s[q] : beta * crow[j0 + q] + alpha * s[q];
    }
  }
}

template <int MR, int NR>
Status run(const Exec* ex, Job& g) {
  if ((double)g.m * g.n * g.k < kSerialWork) ex = nullptr;  // (double: no overflow)
  // Balanced blocking: k blocks (these fix each element's summation order: sizes only), column
  // panels (multiples of NR) and row blocks (multiples of MR).
  const int64_t kblocks = cdiv(g.k, KC), kc_max = cdiv(g.k, kblocks);
  const int64_t npanels = cdiv(g.n, NC), nc_max = round_up(cdiv(g.n, npanels), NR);
  const int64_t mblocks = cdiv(g.m, MB), mb_max = round_up(cdiv(g.m, mblocks), MR);
  const int64_t a_doubles = round_up(min64(mb_max, round_up(g.m, MR)), MR) * kc_max;
  const int64_t b_doubles = round_up(min64(nc_max, round_up(g.n, NR)), NR) * kc_max;
  const int64_t need = a_doubles + b_doubles + 16;  // + 16: room to align both to 64 bytes
  alignas(64) double stack_buf[kStackDoubles];
  void* heap = nullptr;
  double* base = stack_buf;
  if (need > kStackDoubles) {
    heap = alloc(sizeof(double) * need);
    if (heap == nullptr) return E_OOM;
    base = reinterpret_cast<double*>((reinterpret_cast<uintptr_t>(heap) + 63) & ~uintptr_t(63));
  }
  g.Ap = base;  // Bp: rounded up to 64 bytes, inside the slack
  g.Bp = reinterpret_cast<double*>((reinterpret_cast<uintptr_t>(base + a_doubles) + 63) & ~uintptr_t(63));

  for (int64_t j0 = 0; j0 < g.n; j0 += nc_max) {
    g.j0 = j0;
    g.nc = min64(nc_max, g.n - j0);
    for (int64_t kb = 0; kb < kblocks; ++kb) {
      g.kk = kb * kc_max;
      g.kc = min64(kc_max, g.k - g.kk);
      g.mode = kb > 0 ? ADD : (g.beta == 0 ? SET : SCALE_ADD);
      // Lower: rows above the panel's first column only touch entries above the diagonal.
      const int64_t row_start = g.lower ? j0 / MR * MR : 0;
      for (int64_t i0 = row_start; i0 < g.m; i0 += mb_max) {
        g.i0 = i0;
        g.mb = min64(mb_max, g.m - i0);
        // Tiles: MC rows (balanced, a multiple of MR) by TN columns, TN chosen to give >= ~32
        // tiles when there is enough work, but at least 4 slivers of B per tile.
        g.tiles_m = cdiv(g.mb, MC);
        g.mc = round_up(cdiv(g.mb, g.tiles_m), MR);
        g.tiles_m = cdiv(g.mb, g.mc);
        const int64_t nslivers = cdiv(g.nc, NR);
        int64_t tiles_n = min64(min64(cdiv(32, g.tiles_m), cdiv(nslivers, 4)), kMaxTilesN);
        if (tiles_n < 1) tiles_n = 1;
        g.tn = cdiv(nslivers, tiles_n) * NR;
        g.tiles_n = cdiv(g.nc, g.tn);
        // A is re-packed for every row block; B once per (panel, k block) when there is one row
        // block, else again per row block (with MB = 2048 that is only for m > 2048).
        for (int64_t t = 0; t < g.tiles_m; ++t) g.a_state[t] = 0;
        for (int64_t t = 0; t < g.tiles_n; ++t) g.b_state[t] = 0;
        parallel_for(ex, g.tiles_m * g.tiles_n, 1, compute_tiles<MR, NR>, &g);
      }
    }
  }
  release(heap);
  return OK;
}

Status gemm_run(const Exec* ex, Job& g) {
  if (g.m == 0 || g.n == 0) return OK;
  if (g.k == 0 || g.alpha == 0) {
    scale_c(g);
    return OK;
  }
  if ((double)g.m * g.n * g.k <= kTinyWork) {
    gemm_tiny(g);
    return OK;
  }
#if defined(KX_GEMM_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) {
    g.kernel = kernel_avx2;
    return run<XMR, XNR>(ex, g);
  }
#endif
  g.kernel = kernel_portable;
  return run<PMR, PNR>(ex, g);
}

}  // namespace

Status gemm_f64(const Exec* ex, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a,
                const double* b, int64_t ldb, bool trans_b, double* c, int64_t ldc, double alpha, double beta) {
  if (m < 0 || n < 0 || k < 0) return E_SHAPE;
  if (lda < (trans_a ? m : k) || ldb < (trans_b ? k : n) || ldc < n) return E_SHAPE;
  Job g;  // not Job g{}: zeroing the state arrays costs more than a tiny product
  g.m = m, g.n = n, g.k = k, g.a = a, g.lda = lda, g.ta = trans_a, g.b = b, g.ldb = ldb, g.tb = trans_b;
  g.c = c, g.ldc = ldc, g.alpha = alpha, g.beta = beta, g.lower = false;
  return gemm_run(ex, g);
}

Status gemm_f64_lower(const Exec* ex, int64_t n, int64_t k, const double* a, int64_t lda, bool trans_a, const double* b,
                      int64_t ldb, bool trans_b, double* c, int64_t ldc, double alpha, double beta) {
  if (n < 0 || k < 0) return E_SHAPE;
  if (lda < (trans_a ? n : k) || ldb < (trans_b ? k : n) || ldc < n) return E_SHAPE;
  Job g;  // not Job g{}: zeroing the state arrays costs more than a tiny product
  g.m = n, g.n = n, g.k = k, g.a = a, g.lda = lda, g.ta = trans_a, g.b = b, g.ldb = ldb, g.tb = trans_b;
  g.c = c, g.ldc = ldc, g.alpha = alpha, g.beta = beta, g.lower = true;
  return gemm_run(ex, g);
}

}  // namespace kx
