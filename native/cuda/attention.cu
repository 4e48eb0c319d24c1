// CUDA flash-attention forward: the semantics of kx::attention_f32 (native/core/attention.h) on
// the GPU, for float32, float16 and bfloat16 inputs (float32 accumulation and outputs).
//
// Two kernels, both "flash" style: one thread block per (batch, head, 64-query tile), a loop over
// 64-key tiles with an online softmax (running max m and sum l per row, in base 2: log2(e) is
// folded into the query scale and the bias, as the CPU kernel does), P never stored, tiles the
// mask hides entirely skipped (the key range [lo, hi) of the query tile, as in the CPU kernel's
// key_range: causal does about half the work), a second pass over the keys only when the
// probabilities are asked for.
//
//   f32 kernel  256 threads as 16 x 16; each thread owns a 4 x 4 block of the score tile (rows
//               ty*4.., keys tx*4..) and 4 rows x DVC/16 columns of the output. Q and K are staged
//               through shared memory 16 head-dim columns at a time (transposed, so every inner
//               step is two float4 loads and 16 FMAs), P goes through shared memory (transposed)
//               for P V, V 16 keys at a time. Row reductions are xor shuffles over the 16 threads
//               of a row (a half warp). Any D; Dv in chunks of DVC = 64 or 128 columns (grid
//               dimension; the scores are recomputed per chunk, so Dv > 128 costs more). Also the
//               fallback for half / bfloat16 inputs (converted to float when loaded) where the
//               tensor-core kernel does not apply.
//   tc kernel   128 threads = 4 warps, 16 query rows per warp, mma.sync m16n8k16 (f16 or bf16 in,
//               f32 accumulate; sm_80+) for S = Q K^T and O += P V. The S accumulator layout is
//               the A-operand layout of the next mma, so P goes from registers straight into P V
//               (rounded to the input type, as FlashAttention and PyTorch do). O lives in
//               registers (DVN n-tiles of 8 columns), so Dv <= 256 and D <= 256 here.
//
// Both kernels are written once as "block programs" over an execution policy X: DevX runs them
// on the GPU (one thread's state in registers, __syncthreads, __shfl_xor_sync, mma.sync); HostX
// runs the very same code on the CPU for a whole block at a time (an array of per-thread states,
// phases in thread order, the shuffles and the mma.sync done by their documented lane layouts).
// That is kx::cuda::emu: the check program verifies the kernels' index arithmetic, masks, dropout
// words, chunking and fragment layouts against the CPU kernel on machines without a GPU.
//
// Host-memory API: the work is split into chunks of (batch, key/value head) pairs and, when one
// pair is too big, of query rows, so device memory stays within half the free memory; the mask
// and bias are copied only over the index range their strides reach for the chunk. The numbers
// do not depend on the chunking (every block reads the same inputs).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>

#include "cuda_util.h"
#include "kx_cuda.h"

namespace kx {
namespace cuda {

namespace {

constexpr int kBR = 64;  // queries per block
constexpr int kBC = 64;  // keys per tile
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2 = 0.693147180559945309f;
constexpr int64_t kDefaultHostBudget = int64_t(1) << 30;  // emu: bytes of "device" buffers
std::atomic<int64_t> g_chunk_bytes{0};                    // 0: half the free device memory
std::atomic<bool> g_allow_tc{true};

enum InKind { IN_F32 = 0, IN_F16 = 1, IN_BF16 = 2 };
enum Where { ON_DEVICE, ON_HOST };

using util::cuda_fail;
using util::put;

#define KX_AHD __host__ __device__ __forceinline__

// ---- element conversions (host: bit arithmetic, round to nearest even; device: intrinsics) ---

#if !(defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800)
KX_AHD uint32_t f32_bits(float f) {
  union {
    float f;
    uint32_t u;
  } v;
  v.f = f;
  return v.u;
}
#endif
KX_AHD float bits_f32(uint32_t u) {
  union {
    uint32_t u;
    float f;
  } v;
  v.u = u;
  return v.f;
}

KX_AHD float half_to_float(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));
#else
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {
    const float v = (float)m * 5.9604644775390625e-08f;  // m * 2^-24, exact
    return bits_f32(f32_bits(v) | sign);
  }
  if (e == 31) return bits_f32(sign | 0x7f800000u | (m << 13));
  return bits_f32(sign | ((e + 112u) << 23) | (m << 13));
#endif
}

KX_AHD float bf16_to_float(uint16_t h) { return bits_f32((uint32_t)h << 16); }

#if !(defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800)  // the device uses cvt.rn on sm_80+
// float -> IEEE half, round to nearest even (overflow to inf, NaN stays NaN).
KX_AHD uint16_t float_to_half(float f) {
  const uint32_t x = f32_bits(f);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u;
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to inf
  if (ax >= 0x38800000u) {                       // normal: |f| >= 2^-14
    uint32_t r = ax - 0x38000000u;               // exponent rebiased by 127 - 15
    r += 0xfffu + ((r >> 13) & 1u);
    return sign | (uint16_t)(r >> 13);
  }
  if (ax <= 0x33000000u) return sign;  // <= 2^-25 rounds to (signed) zero
  const uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;  // 14 .. 24
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
  if (rem > halfway || (rem == halfway && (q & 1u))) ++q;
  return sign | (uint16_t)q;
}

KX_AHD uint16_t float_to_bf16(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
#endif

template <int KIND>
KX_AHD float load_in(const void* p, int64_t i) {
  if (KIND == IN_F32) return ((const float*)p)[i];
  if (KIND == IN_F16) return half_to_float(((const uint16_t*)p)[i]);
  return bf16_to_float(((const uint16_t*)p)[i]);
}

// Two P values as the 16-bit A-operand pair of mma.sync (lo in the low half).
template <int KIND>
KX_AHD uint32_t pack_p(float lo, float hi) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if (KIND == IN_BF16) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *(const uint32_t*)&h;
  }
  const __half2 h = __floats2half2_rn(lo, hi);
  return *(const uint32_t*)&h;
#else
  if (KIND == IN_BF16) return (uint32_t)float_to_bf16(lo) | ((uint32_t)float_to_bf16(hi) << 16);
  return (uint32_t)float_to_half(lo) | ((uint32_t)float_to_half(hi) << 16);
#endif
}

template <int KIND>
KX_AHD float unpack16(uint32_t bits) {
  return KIND == IN_BF16 ? bf16_to_float((uint16_t)bits) : half_to_float((uint16_t)bits);
}

KX_AHD void ld4(const float* p, float v[4]) {
#if defined(__CUDA_ARCH__)
  const float4 t = *(const float4*)p;
  v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
#else
  v[0] = p[0], v[1] = p[1], v[2] = p[2], v[3] = p[3];
#endif
}

KX_AHD void st4(float* p, float a, float b, float c, float d) {
#if defined(__CUDA_ARCH__)
  *(float4*)p = make_float4(a, b, c, d);
#else
  p[0] = a, p[1] = b, p[2] = c, p[3] = d;
#endif
}

KX_AHD uint32_t ld32(const uint16_t* p) {  // p 4-byte aligned
#if defined(__CUDA_ARCH__)
  return *(const uint32_t*)p;
#else
  return (uint32_t)p[0] | ((uint32_t)p[1] << 16);
#endif
}

// ---- what one launch sees ----------------------------------------------------------------------

// Buffers hold a chunk: units [u0, u0 + units) of (b, hk) pairs (unit u = b * Hkv + hk; its query
// heads are h = hk * G + g), queries [q0, q0 + nq). Local layouts: q [units * G][nq][D],
// k [units][Nk][D], v [units][Nk][Dv], out [units * G][nq][Dv], lse [units * G][nq],
// probs [units * G][nq][Nk]. Mask and bias are read at index off + b s0 + h s1 + i s2 + j s3 with
// global (b, h, i, j). With u0 = q0 = 0, nq = Nq, units = B * Hkv these are the caller's layouts.
struct Launch {
  int64_t B, H, Hkv, G, Nq, Nk, D, Dv;
  int64_t u0, units, q0, nq;
  const void* q;
  const void* k;
  const void* v;
  const int32_t* head_kind;    // [H]
  const int32_t* key_lengths;  // [B] or null
  const uint8_t* mask;
  int64_t mask_off, ms[4];
  const float* bias;
  int64_t bias_off, bs[4];
  float scale2;  // scale * log2(e)
  bool dropout;
  Rng rng;
  uint32_t threshold;
  float keep;  // dropout scale
  float* out;
  float* lse;
  float* probs;
  int64_t nqt;      // query tiles in the chunk
  int64_t ndc;      // Dv column chunks (f32 kernel; 1 for tc)
  int64_t blk0;     // first block of this launch (grids over 2^31 - 1 blocks are split)
};

// Block-uniform facts about the block's (b, h, query tile).
struct RowCtx {
  int64_t b, h, uu, i0, iend, rows, key_len, off, lo, hi, prow, lq0;
  int32_t kind;
};


KX_AHD void row_ctx(const Launch& L, int64_t bhl, int64_t qt, RowCtx* c) {
  c->uu = bhl / L.G;
  const int64_t g = bhl % L.G, u = L.u0 + c->uu;
  c->b = u / L.Hkv;
  c->h = (u % L.Hkv) * L.G + g;
  c->i0 = L.q0 + qt * kBR;
  c->iend = L.q0 + L.nq;
  c->rows = c->iend - c->i0 < kBR ? c->iend - c->i0 : kBR;
  c->kind = L.head_kind[c->h];
  int64_t kl = L.key_lengths != nullptr ? (int64_t)L.key_lengths[c->b] : L.Nk;
  c->key_len = kl < 0 ? 0 : kl > L.Nk ? L.Nk : kl;
  c->off = L.Nk - L.Nq;
  c->prow = (c->b * L.H + c->h) * L.Nq;
  c->lq0 = bhl * L.nq - L.q0;
  // Keys any row of the tile may see (the CPU kernel's key_range); empty when none.
  int64_t a = 0, e = c->key_len;
  const int64_t last = c->i0 + c->rows - 1;
  if (c->kind == MASK_CAUSAL) e = e < last + c->off + 1 ? e : last + c->off + 1;
  if (c->kind == MASK_CAUSAL_NO_SELF) e = e < last + c->off ? e : last + c->off;
  if (c->kind == MASK_ANTICAUSAL) a = c->i0 + c->off > 0 ? c->i0 + c->off : 0;
  if (a >= e) a = e = 0;
  c->lo = a;
  c->hi = e;
}

// Whether some key of tile [j0, j0 + kBC) is hidden from some valid row of the block.
KX_AHD bool tile_needs_mask(const Launch& L, const RowCtx& c, int64_t j0) {
  if (L.mask != nullptr || j0 + kBC > c.key_len) return true;
  const int64_t dlo = c.i0 + c.off, dhi = c.i0 + c.rows - 1 + c.off, jhi = j0 + kBC - 1;
  switch (c.kind) {
    case MASK_CAUSAL: return jhi > dlo;
    case MASK_CAUSAL_NO_SELF: return jhi >= dlo;
    case MASK_ANTICAUSAL: return j0 < dhi;
    case MASK_NO_SELF: return !(dhi < j0 || dlo > jhi);
    default: return false;
  }
}

KX_AHD bool visible(const Launch& L, const RowCtx& c, int64_t i, int64_t j) {
  if (i >= c.iend || j >= c.key_len || !mask_kind_allows(c.kind, i, j, c.off)) return false;
  if (L.mask != nullptr &&
      L.mask[L.mask_off + c.b * L.ms[0] + c.h * L.ms[1] + i * L.ms[2] + j * L.ms[3]] == 0)
    return false;
  return true;
}

// Score (base 2, scale applied) -> with bias, -inf where hidden (bit e of vis clear).
KX_AHD float finish_score(const Launch& L, const RowCtx& c, int64_t i, int64_t j, float s,
                          uint32_t vis, int e) {
  if (((vis >> e) & 1u) == 0) return -INFINITY;
  if (L.bias != nullptr && i < c.iend && j < L.Nk)
    s += L.bias[L.bias_off + c.b * L.bs[0] + c.h * L.bs[1] + i * L.bs[2] + j * L.bs[3]] * kLog2e;
  return s;
}

// Bit e (< n) set when element e of the thread's tile part is visible; elem(e, &i, &j) maps it.
// A loop that is not unrolled: small code and few registers; the values are applied unrolled.
template <class Elem>
KX_AHD uint32_t visible_bits(const Launch& L, const RowCtx& c, int n, bool need, Elem elem) {
  uint32_t bits = n >= 32 ? 0xffffffffu : (1u << n) - 1u;
  if (!need) return bits;
#pragma unroll 1
  for (int e = 0; e < n; ++e) {
    int64_t i, j;
    elem(e, &i, &j);
    if (!visible(L, c, i, j)) bits &= ~(1u << e);
  }
  return bits;
}

// Dropout factor of probability (row i, key j): word ((b H + h) Nq + i) Nk + j of the stream.
struct WordCache {
  uint64_t block = ~uint64_t(0);
  uint32_t w[4];
};
KX_AHD bool kept(const Launch& L, const RowCtx& c, int64_t i, int64_t j, WordCache* wc) {
  const uint64_t idx = (uint64_t)((c.prow + i) * L.Nk + j);
  if ((idx >> 2) != wc->block) {
    wc->block = idx >> 2;
    philox_block(L.rng, wc->block, wc->w);
  }
  const uint32_t k = (uint32_t)idx & 3u;  // no dynamic register indexing (local memory)
  const uint32_t w = k == 0 ? wc->w[0] : k == 1 ? wc->w[1] : k == 2 ? wc->w[2] : wc->w[3];
  return (w >> 8) >= L.threshold;
}

// Bit e set when element e (of those set in `live`) survives dropout. Not unrolled (one Philox
// block per 4 consecutive words, each computed once per run of columns).
template <class Elem>
KX_AHD uint32_t kept_bits(const Launch& L, const RowCtx& c, int n, uint32_t live, Elem elem) {
  uint32_t bits = 0;
  WordCache wc;
#pragma unroll 1
  for (int e = 0; e < n; ++e) {
    if (((live >> e) & 1u) == 0) continue;
    int64_t i, j;
    elem(e, &i, &j);
    if (i < c.iend && j < L.Nk && kept(L, c, i, j, &wc)) bits |= 1u << e;
  }
  return bits;
}

// ---- execution policies ------------------------------------------------------------------------

struct MmaRef {
  float* c;
  const uint32_t* a;
  const uint32_t* b;
};

template <int KIND>
__device__ __forceinline__ void mma16816(float* c, const uint32_t* a, const uint32_t* b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if (KIND == IN_BF16)
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  (void)c, (void)a, (void)b;
#endif
}

// One GPU thread: its state lives in registers (every array index is a compile-time constant once
// the loops are unrolled).
template <class S>
struct DevX {
  S st;
  int tid;
  template <class F>
  KX_AHD void each(F&& f) {
    f(tid, st);
  }
  KX_AHD void sync() {
#if defined(__CUDA_ARCH__)
    __syncthreads();
#endif
  }
  // st.red[k] = max (or sum) over the lanes that differ in bits LO..HI of the lane index.
  template <bool MAX, int LO, int HI>
  KX_AHD void reduce() {
#if defined(__CUDA_ARCH__)
    constexpr int K = sizeof(st.red) / sizeof(float);
#pragma unroll
    for (int k = 0; k < K; ++k) {
      float v = st.red[k];
#pragma unroll
      for (int o = LO; o <= HI; o <<= 1) {
        const float w = __shfl_xor_sync(0xffffffffu, v, o);
        v = MAX ? fmaxf(v, w) : v + w;
      }
      st.red[k] = v;
    }
#endif
  }
  // For n < count: sel(st, n) = {c, a, b}; c += A B (mma.sync m16n8k16, f32 accumulate).
  template <int N, int KIND, class Sel>
  KX_AHD void mma(Sel&& sel, int count) {
#pragma unroll
    for (int n = 0; n < N; ++n)
      if (n < count) {
        const MmaRef r = sel(st, n);
        mma16816<KIND>(r.c, r.a, r.b);
      }
  }
};

// A whole block on the CPU: nthreads states, each phase run thread by thread.
template <class S>
struct HostX {
  S* st;
  int nthreads;
  template <class F>
  KX_AHD void each(F&& f) {
    for (int t = 0; t < nthreads; ++t) f(t, st[t]);
  }
  KX_AHD void sync() {}
  template <bool MAX, int LO, int HI>
  KX_AHD void reduce() {
    constexpr int K = sizeof(st[0].red) / sizeof(float);
    float tmp[32];
    for (int w = 0; w < nthreads; w += 32)
      for (int k = 0; k < K; ++k)
        for (int o = LO; o <= HI; o <<= 1) {  // the butterfly __shfl_xor_sync does
          for (int l = 0; l < 32; ++l) {
            const float v = st[w + l].red[k], x = st[w + (l ^ o)].red[k];
            tmp[l] = MAX ? fmaxf(v, x) : v + x;
          }
          for (int l = 0; l < 32; ++l) st[w + l].red[k] = tmp[l];
        }
  }
  // mma.sync m16n8k16 .row.col from the PTX ISA fragment layouts: lane = 4 g + t;
  // A (16 x 16): a[0] = (g, 2t..2t+1), a[1] = (g+8, 2t..), a[2] = (g, 2t+8..), a[3] = (g+8, 2t+8..);
  // B (16 x 8, k x n): b[0] = (k 2t..2t+1, n g), b[1] = (k 2t+8..2t+9, n g);
  // C (16 x 8): c[0..1] = (g, 2t..2t+1), c[2..3] = (g+8, 2t..2t+1). Lower element in the low half.
  template <int N, int KIND, class Sel>
  KX_AHD void mma(Sel&& sel, int count) {
    for (int w = 0; w < nthreads; w += 32)
      for (int n = 0; n < count && n < N; ++n) {
        float A[16][16], Bm[16][8], C[16][8];
        MmaRef r[32];
        for (int l = 0; l < 32; ++l) {
          r[l] = sel(st[w + l], n);
          const int g = l >> 2, t = l & 3;
          const int ar[4] = {g, g + 8, g, g + 8}, ac[4] = {2 * t, 2 * t, 2 * t + 8, 2 * t + 8};
          for (int x = 0; x < 4; ++x) {
            A[ar[x]][ac[x]] = unpack16<KIND>(r[l].a[x] & 0xffffu);
            A[ar[x]][ac[x] + 1] = unpack16<KIND>(r[l].a[x] >> 16);
          }
          for (int x = 0; x < 2; ++x) {
            Bm[2 * t + 8 * x][g] = unpack16<KIND>(r[l].b[x] & 0xffffu);
            Bm[2 * t + 8 * x + 1][g] = unpack16<KIND>(r[l].b[x] >> 16);
          }
          C[g][2 * t] = r[l].c[0];
          C[g][2 * t + 1] = r[l].c[1];
          C[g + 8][2 * t] = r[l].c[2];
          C[g + 8][2 * t + 1] = r[l].c[3];
        }
        for (int l = 0; l < 32; ++l) {
          const int g = l >> 2, t = l & 3;
          const int cr[4] = {g, g, g + 8, g + 8}, cc[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
          for (int x = 0; x < 4; ++x) {
            double acc = 0;  // products of 16-bit values are exact; the hardware's sum order differs
            for (int kk = 0; kk < 16; ++kk) acc += (double)A[cr[x]][kk] * (double)Bm[kk][cc[x]];
            r[l].c[x] = (float)acc + C[cr[x]][cc[x]];
          }
        }
      }
  }
};

// ---- the float32 kernel (any input type, FMA) --------------------------------------------------

constexpr int kF32Threads = 256;
constexpr int kDK = 16;        // head-dim columns of Q and K staged per step
constexpr int kVK = 16;        // keys of V staged per step
constexpr int kLdT = kBR + 4;  // row stride (floats) of the transposed tiles Qt, Kt, Pt

template <int DVC>
struct F32State {
  static constexpr int NC = DVC / 16;  // output columns per thread: (n / 4) * 64 + tx * 4 + n % 4
  float s[4][4];                       // scores / P: rows ty * 4 + a, keys tx * 4 + c
  float o[4][NC];
  float m[4], l[4], alpha[4];
  float red[4];
};

template <int DVC>
constexpr int64_t f32_smem_floats() {
  return (int64_t)kBC * kLdT +
         (2 * kDK * kLdT > kVK * (DVC + 4) ? 2 * kDK * kLdT : kVK * (DVC + 4));
}

// s[a][c] = scale2 * sum_d q[i0 + ty*4 + a][d] k[j0 + tx*4 + c][d], then bias / masks.
template <int KIND, int DVC, class X>
KX_AHD void f32_scores(X& x, const Launch& L, const RowCtx& c, int64_t j0, float* Qt,
                       float* Kt) {
  x.each([&](int, F32State<DVC>& s) {
#pragma unroll
    for (int a = 0; a < 4; ++a)
#pragma unroll
      for (int cc = 0; cc < 4; ++cc) s.s[a][cc] = 0.f;
  });
  x.sync();  // earlier readers of Qt / Kt / Vs / Pt are done (also when D == 0)
  for (int64_t d0 = 0; d0 < L.D; d0 += kDK) {
    if (d0 > 0) x.sync();
    x.each([&](int tid, F32State<DVC>&) {
#pragma unroll
      for (int k = 0; k < kBR * kDK / kF32Threads; ++k) {
        const int e = tid + kF32Threads * k, r = e / kDK, dd = e % kDK;
        const int64_t d = d0 + dd;
        float qv = 0.f, kv = 0.f;
        if (d < L.D) {
          if (c.i0 + r < c.iend) qv = load_in<KIND>(L.q, (c.lq0 + c.i0 + r) * L.D + d) * L.scale2;
          if (j0 + r < L.Nk) kv = load_in<KIND>(L.k, (c.uu * L.Nk + j0 + r) * L.D + d);
        }
        Qt[dd * kLdT + r] = qv;
        Kt[dd * kLdT + r] = kv;
      }
    });
    x.sync();
    x.each([&](int tid, F32State<DVC>& s) {
      const int ty = tid >> 4, tx = tid & 15;
#pragma unroll 4
      for (int dd = 0; dd < kDK; ++dd) {
        float qv[4], kv[4];
        ld4(Qt + dd * kLdT + ty * 4, qv);
        ld4(Kt + dd * kLdT + tx * 4, kv);
#pragma unroll
        for (int a = 0; a < 4; ++a)
#pragma unroll
          for (int cc = 0; cc < 4; ++cc) s.s[a][cc] = fmaf(qv[a], kv[cc], s.s[a][cc]);
      }
    });
  }
  const bool need = tile_needs_mask(L, c, j0);
  x.each([&](int tid, F32State<DVC>& s) {
    const int ty = tid >> 4, tx = tid & 15;
    const uint32_t vis = visible_bits(L, c, 16, need, [&](int e, int64_t* i, int64_t* j) {
      *i = c.i0 + ty * 4 + (e >> 2);
      *j = j0 + tx * 4 + (e & 3);
    });
#pragma unroll
    for (int a = 0; a < 4; ++a)
#pragma unroll
      for (int cc = 0; cc < 4; ++cc)
        s.s[a][cc] = finish_score(L, c, c.i0 + ty * 4 + a, j0 + tx * 4 + cc, s.s[a][cc], vis,
                                  a * 4 + cc);
  });
}

template <int KIND, int DVC, class X>
KX_AHD void f32_block(X& x, const Launch& L, int64_t blk, float* smem) {
  constexpr int NC = DVC / 16;
  constexpr int ldv = DVC + 4;
  float* Pt = smem;               // [kBC][kLdT]: P transposed (key-major)
  float* U = smem + kBC * kLdT;   // Qt [kDK][kLdT] + Kt [kDK][kLdT], or Vs [kVK][ldv]
  float* Qt = U;
  float* Kt = U + kDK * kLdT;
  float* Vs = U;

  const int64_t qt = L.nqt - 1 - blk % L.nqt;  // heavy (late, for causal) query tiles first
  const int64_t rest = blk / L.nqt;
  const int64_t dc = rest % L.ndc, bhl = rest / L.ndc;
  const int64_t e0 = dc * DVC;
  RowCtx c;
  row_ctx(L, bhl, qt, &c);

  x.each([&](int, F32State<DVC>& s) {
#pragma unroll
    for (int a = 0; a < 4; ++a) {
      s.m[a] = -INFINITY;
      s.l[a] = 0.f;
#pragma unroll
      for (int n = 0; n < NC; ++n) s.o[a][n] = 0.f;
    }
  });

  for (int64_t j0 = c.lo - c.lo % kBC; j0 < c.hi; j0 += kBC) {
    f32_scores<KIND, DVC>(x, L, c, j0, Qt, Kt);
    // Online softmax: row max over the 16 threads of a row (lanes differing in bits 0..3).
    x.each([&](int, F32State<DVC>& s) {
#pragma unroll
      for (int a = 0; a < 4; ++a)
        s.red[a] = fmaxf(fmaxf(s.s[a][0], s.s[a][1]), fmaxf(s.s[a][2], s.s[a][3]));
    });
    x.template reduce<true, 1, 8>();
    x.each([&](int, F32State<DVC>& s) {
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        const float mnew = fmaxf(s.m[a], s.red[a]);
        float sum = 0.f;
        if (mnew == -INFINITY) {  // nothing visible yet in this row
          s.alpha[a] = 1.f;
#pragma unroll
          for (int cc = 0; cc < 4; ++cc) s.s[a][cc] = 0.f;
        } else {
          s.alpha[a] = s.m[a] == -INFINITY ? 0.f : exp2f(s.m[a] - mnew);
#pragma unroll
          for (int cc = 0; cc < 4; ++cc) {
            s.s[a][cc] = exp2f(s.s[a][cc] - mnew);
            sum += s.s[a][cc];
          }
        }
        s.m[a] = mnew;
        s.red[a] = sum;
      }
    });
    x.template reduce<false, 1, 8>();
    x.each([&](int tid, F32State<DVC>& s) {
      const int ty = tid >> 4, tx = tid & 15;
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        s.l[a] = s.l[a] * s.alpha[a] + s.red[a];
#pragma unroll
        for (int n = 0; n < NC; ++n) s.o[a][n] *= s.alpha[a];
      }
      if (L.dropout) {  // after the sum: the normaliser is the undropped softmax's
        uint32_t live = 0;
#pragma unroll
        for (int a = 0; a < 4; ++a)
#pragma unroll
          for (int cc = 0; cc < 4; ++cc) live |= (s.s[a][cc] != 0.f ? 1u : 0u) << (a * 4 + cc);
        const uint32_t keep = kept_bits(L, c, 16, live, [&](int e, int64_t* i, int64_t* j) {
          *i = c.i0 + ty * 4 + (e >> 2);
          *j = j0 + tx * 4 + (e & 3);
        });
#pragma unroll
        for (int a = 0; a < 4; ++a)
#pragma unroll
          for (int cc = 0; cc < 4; ++cc)
            s.s[a][cc] = (keep >> (a * 4 + cc)) & 1u ? s.s[a][cc] * L.keep : 0.f;
      }
#pragma unroll
      for (int cc = 0; cc < 4; ++cc)
        st4(Pt + (tx * 4 + cc) * kLdT + ty * 4, s.s[0][cc], s.s[1][cc], s.s[2][cc], s.s[3][cc]);
    });
    // O += P V, kVK keys at a time; keys at or past hi have P = 0.
    for (int sub = 0; sub < kBC / kVK; ++sub) {
      const int64_t jj = j0 + sub * kVK;
      if (jj >= c.hi) break;
      x.sync();
      x.each([&](int tid, F32State<DVC>&) {
#pragma unroll
        for (int k = 0; k < kVK * DVC / kF32Threads; ++k) {
          const int e = tid + kF32Threads * k, t = e / DVC, col = e % DVC;
          const int64_t key = jj + t, ev = e0 + col;
          Vs[t * ldv + col] =
              key < L.Nk && ev < L.Dv ? load_in<KIND>(L.v, (c.uu * L.Nk + key) * L.Dv + ev) : 0.f;
        }
      });
      x.sync();
      x.each([&](int tid, F32State<DVC>& s) {
        const int ty = tid >> 4, tx = tid & 15;
#pragma unroll 4
        for (int t = 0; t < kVK; ++t) {
          float p[4];
          ld4(Pt + (sub * kVK + t) * kLdT + ty * 4, p);
#pragma unroll
          for (int n4 = 0; n4 < NC / 4; ++n4) {
            float v[4];
            ld4(Vs + t * ldv + n4 * 64 + tx * 4, v);
#pragma unroll
            for (int a = 0; a < 4; ++a)
#pragma unroll
              for (int cc = 0; cc < 4; ++cc)
                s.o[a][n4 * 4 + cc] = fmaf(p[a], v[cc], s.o[a][n4 * 4 + cc]);
          }
        }
      });
    }
  }

  x.each([&](int tid, F32State<DVC>& s) {
    const int ty = tid >> 4, tx = tid & 15;
#pragma unroll
    for (int a = 0; a < 4; ++a) {
      const int64_t i = c.i0 + ty * 4 + a;
      const float l = s.l[a];
      const float lse2 = l > 0.f ? s.m[a] + log2f(l) : -INFINITY;
      s.m[a] = lse2;  // for the probabilities pass
      if (i >= c.iend) continue;
      const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
      for (int n = 0; n < NC; ++n) {
        const int64_t e = e0 + (n / 4) * 64 + tx * 4 + n % 4;
        if (e < L.Dv) L.out[(c.lq0 + i) * L.Dv + e] = s.o[a][n] * inv;
      }
      if (dc == 0 && tx == 0 && L.lse != nullptr) L.lse[c.lq0 + i] = lse2 * kLn2;
    }
  });

  if (L.probs == nullptr || dc != 0) return;
  for (int64_t j0 = 0; j0 < L.Nk; j0 += kBC) {
    const bool vis = j0 + kBC > c.lo && j0 < c.hi;
    if (vis) f32_scores<KIND, DVC>(x, L, c, j0, Qt, Kt);
    x.each([&](int tid, F32State<DVC>& s) {
      const int ty = tid >> 4, tx = tid & 15;
#pragma unroll
      for (int a = 0; a < 4; ++a) {
        const int64_t i = c.i0 + ty * 4 + a;
        if (i >= c.iend) continue;
        float* pr = L.probs + (c.lq0 + i) * L.Nk;
#pragma unroll
        for (int cc = 0; cc < 4; ++cc) {
          const int64_t j = j0 + tx * 4 + cc;
          if (j < L.Nk) pr[j] = vis && s.m[a] != -INFINITY ? exp2f(s.s[a][cc] - s.m[a]) : 0.f;
        }
      }
    });
  }
}

template <int KIND, int DVC>
__global__ void __launch_bounds__(kF32Threads) f32_kernel(Launch L) {
  extern __shared__ float4 kx_attn_smem[];
  DevX<F32State<DVC>> x;
  x.tid = (int)threadIdx.x;
  f32_block<KIND, DVC>(x, L, L.blk0 + (int64_t)blockIdx.x, (float*)kx_attn_smem);
}

// ---- the tensor-core kernel (f16 / bf16, mma.sync m16n8k16, sm_80+) ---------------------------

constexpr int kTcThreads = 128;
constexpr int kTcMaxD = 256;

template <int DVN>
struct TcState {
  float s[8][4];    // S / P of the warp's 16 rows x 64 keys: n-tile n, C layout
  float o[DVN][4];  // O: n-tile n covers output columns 8n .. 8n + 7
  float m[2], l[2], alpha[2];
  float red[2];
  uint32_t a[4];
  uint32_t b[8][2];
};

KX_AHD int64_t tc_ldq(int64_t D) { return (D + 15) / 16 * 16 + 8; }   // halves; conflict-free frags
KX_AHD int64_t tc_ldv(int64_t Dv) { return (Dv + 15) / 16 * 16 + 8; }
inline int64_t tc_smem_bytes(int64_t D, int64_t Dv) {
  return (2 * kBR * tc_ldq(D) + kBC * tc_ldv(Dv)) * 2;
}

// Rows [0, 64) of a 16-bit tile into shared memory: dst[r][0 .. cols16) from src row r (rows at or
// past nrows, and columns at or past cols, are zero). 16-byte vectors when the rows allow it.
template <class X, class S>
KX_AHD void tc_load_rows(X& x, uint16_t* dst, int64_t ld, const uint16_t* src, int64_t nrows,
                         int64_t cols) {
  const int64_t c8 = (cols + 15) / 16 * 2;  // 8-element groups per padded row
  const bool vec = cols % 8 == 0 && ((uintptr_t)src & 15) == 0;
  x.each([&](int tid, S&) {
    for (int64_t e = tid; e < 64 * c8; e += kTcThreads) {
      const int64_t r = e / c8, col = (e % c8) * 8;
      uint16_t* d = dst + r * ld + col;
      const uint16_t* sp = src + r * cols + col;
      if (vec && r < nrows && col < cols) {
#if defined(__CUDA_ARCH__)
        *(uint4*)d = *(const uint4*)sp;
#else
        memcpy(d, sp, 16);
#endif
      } else {
        for (int z = 0; z < 8; ++z) d[z] = r < nrows && col + z < cols ? sp[z] : (uint16_t)0;
      }
    }
  });
}

template <int KIND, int DVN, class X>
KX_AHD void tc_scores(X& x, const Launch& L, const RowCtx& c, int64_t j0, const uint16_t* Qs,
                      const uint16_t* Ks, int64_t ldq) {
  using S = TcState<DVN>;
  x.each([&](int, S& s) {
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int z = 0; z < 4; ++z) s.s[n][z] = 0.f;
  });
  const int64_t ksteps = (L.D + 15) / 16;
  for (int64_t kk = 0; kk < ksteps; ++kk) {
    x.each([&](int tid, S& s) {
      const int w = tid >> 5, g = (tid & 31) >> 2, t = tid & 3;
      const uint16_t* qa = Qs + (w * 16 + g) * ldq + kk * 16 + 2 * t;
      s.a[0] = ld32(qa);
      s.a[1] = ld32(qa + 8 * ldq);
      s.a[2] = ld32(qa + 8);
      s.a[3] = ld32(qa + 8 * ldq + 8);
#pragma unroll
      for (int n = 0; n < 8; ++n) {
        const uint16_t* kb = Ks + (n * 8 + g) * ldq + kk * 16 + 2 * t;
        s.b[n][0] = ld32(kb);
        s.b[n][1] = ld32(kb + 8);
      }
    });
    x.template mma<8, KIND>([&](S& s, int n) { return MmaRef{s.s[n], s.a, s.b[n]}; }, 8);
  }
  const bool need = tile_needs_mask(L, c, j0);
  x.each([&](int tid, S& s) {
    const int w = tid >> 5, g = (tid & 31) >> 2, t = tid & 3;
    // element e = n * 4 + z: row g + 8 (z / 2), key 8 n + 2 t + z % 2 of the warp's tile
    const uint32_t vis = visible_bits(L, c, 32, need, [&](int e, int64_t* i, int64_t* j) {
      *i = c.i0 + w * 16 + g + 8 * ((e & 3) >> 1);
      *j = j0 + (e >> 2) * 8 + 2 * t + (e & 1);
    });
#pragma unroll
    for (int n = 0; n < 8; ++n)
#pragma unroll
      for (int z = 0; z < 4; ++z) {
        const int64_t i = c.i0 + w * 16 + g + 8 * (z >> 1), j = j0 + n * 8 + 2 * t + (z & 1);
        s.s[n][z] = finish_score(L, c, i, j, s.s[n][z] * L.scale2, vis, n * 4 + z);
      }
  });
}

template <int KIND, int DVN, class X>
KX_AHD void tc_block(X& x, const Launch& L, int64_t blk, uint16_t* smem) {
  using S = TcState<DVN>;
  const int64_t ldq = tc_ldq(L.D), ldv = tc_ldv(L.Dv);
  uint16_t* Qs = smem;             // [64][ldq]
  uint16_t* Ks = Qs + kBR * ldq;   // [64][ldq]
  uint16_t* Vs = Ks + kBC * ldq;   // [64][ldv]
  const int nv8 = (int)((L.Dv + 7) / 8);  // output n-tiles in use (<= DVN)

  const int64_t qt = L.nqt - 1 - blk % L.nqt, bhl = blk / L.nqt;
  RowCtx c;
  row_ctx(L, bhl, qt, &c);
  const uint16_t* q16 = (const uint16_t*)L.q;
  const uint16_t* k16 = (const uint16_t*)L.k;
  const uint16_t* v16 = (const uint16_t*)L.v;

  tc_load_rows<X, S>(x, Qs, ldq, q16 + (c.lq0 + c.i0) * L.D, c.rows, L.D);
  x.each([&](int, S& s) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      s.m[r] = -INFINITY;
      s.l[r] = 0.f;
    }
#pragma unroll
    for (int n = 0; n < DVN; ++n)
#pragma unroll
      for (int z = 0; z < 4; ++z) s.o[n][z] = 0.f;
  });

  for (int64_t j0 = c.lo - c.lo % kBC; j0 < c.hi; j0 += kBC) {
    const int64_t nk = L.Nk - j0 < kBC ? L.Nk - j0 : kBC;
    x.sync();
    tc_load_rows<X, S>(x, Ks, ldq, k16 + (c.uu * L.Nk + j0) * L.D, nk, L.D);
    tc_load_rows<X, S>(x, Vs, ldv, v16 + (c.uu * L.Nk + j0) * L.Dv, nk, L.Dv);
    x.sync();
    tc_scores<KIND, DVN>(x, L, c, j0, Qs, Ks, ldq);
    // Online softmax; a row's 64 keys are spread over the 4 lanes of a quad (bits 0..1).
    x.each([&](int, S& s) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = -INFINITY;
#pragma unroll
        for (int n = 0; n < 8; ++n) mx = fmaxf(mx, fmaxf(s.s[n][2 * r], s.s[n][2 * r + 1]));
        s.red[r] = mx;
      }
    });
    x.template reduce<true, 1, 2>();
    x.each([&](int, S& s) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const float mnew = fmaxf(s.m[r], s.red[r]);
        float sum = 0.f;
        if (mnew == -INFINITY) {
          s.alpha[r] = 1.f;
#pragma unroll
          for (int n = 0; n < 8; ++n) s.s[n][2 * r] = s.s[n][2 * r + 1] = 0.f;
        } else {
          s.alpha[r] = s.m[r] == -INFINITY ? 0.f : exp2f(s.m[r] - mnew);
#pragma unroll
          for (int n = 0; n < 8; ++n)
#pragma unroll
            for (int z = 2 * r; z < 2 * r + 2; ++z) {
              s.s[n][z] = exp2f(s.s[n][z] - mnew);
              sum += s.s[n][z];
            }
        }
        s.m[r] = mnew;
        s.red[r] = sum;
      }
    });
    x.template reduce<false, 1, 2>();
    x.each([&](int tid, S& s) {
      const int w = tid >> 5, g = (tid & 31) >> 2, t = tid & 3;
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        s.l[r] = s.l[r] * s.alpha[r] + s.red[r];
#pragma unroll
        for (int n = 0; n < DVN; ++n) {
          s.o[n][2 * r] *= s.alpha[r];
          s.o[n][2 * r + 1] *= s.alpha[r];
        }
      }
      if (L.dropout) {
        uint32_t live = 0;
#pragma unroll
        for (int n = 0; n < 8; ++n)
#pragma unroll
          for (int z = 0; z < 4; ++z)
            live |= (s.s[n][z] != 0.f ? 1u : 0u) << ((z >> 1) * 16 + n * 2 + (z & 1));
        // element e = 16 r + 2 n + p here (row g + 8 r, key 8 n + 2 t + p): a row's keys in
        // increasing order, so a pair shares its Philox block
        const uint32_t keep = kept_bits(L, c, 32, live, [&](int e, int64_t* i, int64_t* j) {
          *i = c.i0 + w * 16 + g + 8 * (e >> 4);
          *j = j0 + ((e >> 1) & 7) * 8 + 2 * t + (e & 1);
        });
#pragma unroll
        for (int n = 0; n < 8; ++n)
#pragma unroll
          for (int z = 0; z < 4; ++z)
            s.s[n][z] = (keep >> ((z >> 1) * 16 + n * 2 + (z & 1))) & 1u ? s.s[n][z] * L.keep : 0.f;
      }
    });
    // O += P V: P (C layout of n-tiles 2kk, 2kk+1) is the A operand of key step kk.
#pragma unroll
    for (int kk = 0; kk < kBC / 16; ++kk) {
      if (j0 + kk * 16 >= c.hi) break;
      x.each([&](int, S& s) {
        s.a[0] = pack_p<KIND>(s.s[2 * kk][0], s.s[2 * kk][1]);
        s.a[1] = pack_p<KIND>(s.s[2 * kk][2], s.s[2 * kk][3]);
        s.a[2] = pack_p<KIND>(s.s[2 * kk + 1][0], s.s[2 * kk + 1][1]);
        s.a[3] = pack_p<KIND>(s.s[2 * kk + 1][2], s.s[2 * kk + 1][3]);
      });
#pragma unroll
      for (int ng = 0; ng < DVN; ng += 8) {
        if (ng >= nv8) break;
        x.each([&](int tid, S& s) {
          const int g = (tid & 31) >> 2, t = tid & 3;
          const uint16_t* vb = Vs + (kk * 16 + 2 * t) * ldv + ng * 8 + g;
#pragma unroll
          for (int n = 0; n < 8; ++n) {
            // n-tiles past the last one in use are not multiplied; their columns may lie past
            // the row pitch ldv, so their last key rows would read past the tile's shared memory
            if (ng + n >= nv8) {
              s.b[n][0] = s.b[n][1] = 0u;
              continue;
            }
            const uint16_t* p = vb + n * 8;
            s.b[n][0] = (uint32_t)p[0] | ((uint32_t)p[ldv] << 16);
            s.b[n][1] = (uint32_t)p[8 * ldv] | ((uint32_t)p[9 * ldv] << 16);
          }
        });
        x.template mma<8, KIND>([&](S& s, int n) { return MmaRef{s.o[ng + n], s.a, s.b[n]}; },
                                nv8 - ng);
      }
    }
  }

  x.each([&](int tid, S& s) {
    const int w = tid >> 5, g = (tid & 31) >> 2, t = tid & 3;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int64_t i = c.i0 + w * 16 + g + 8 * r;
      const float l = s.l[r];
      const float lse2 = l > 0.f ? s.m[r] + log2f(l) : -INFINITY;
      s.m[r] = lse2;
      if (i >= c.iend) continue;
      const float inv = l > 0.f ? 1.f / l : 0.f;
      float* out = L.out + (c.lq0 + i) * L.Dv;
#pragma unroll
      for (int n = 0; n < DVN; ++n)
#pragma unroll
        for (int z = 0; z < 2; ++z) {
          const int64_t e = n * 8 + 2 * t + z;
          if (e < L.Dv) out[e] = s.o[n][2 * r + z] * inv;
        }
      if (t == 0 && L.lse != nullptr) L.lse[c.lq0 + i] = lse2 * kLn2;
    }
  });

  if (L.probs == nullptr) return;
  for (int64_t j0 = 0; j0 < L.Nk; j0 += kBC) {
    const bool vis = j0 + kBC > c.lo && j0 < c.hi;
    if (vis) {
      const int64_t nk = L.Nk - j0 < kBC ? L.Nk - j0 : kBC;
      x.sync();
      tc_load_rows<X, S>(x, Ks, ldq, k16 + (c.uu * L.Nk + j0) * L.D, nk, L.D);
      x.sync();
      tc_scores<KIND, DVN>(x, L, c, j0, Qs, Ks, ldq);
    }
    x.each([&](int tid, S& s) {
      const int w = tid >> 5, g = (tid & 31) >> 2, t = tid & 3;
#pragma unroll
      for (int z = 0; z < 4; ++z) {
        const int r = z >> 1;
        const int64_t i = c.i0 + w * 16 + g + 8 * r;
        if (i >= c.iend) continue;
#pragma unroll
        for (int n = 0; n < 8; ++n) {
          const int64_t j = j0 + n * 8 + 2 * t + (z & 1);
          if (j < L.Nk)
            L.probs[(c.lq0 + i) * L.Nk + j] =
                vis && s.m[r] != -INFINITY ? exp2f(s.s[n][z] - s.m[r]) : 0.f;
        }
      }
    });
  }
}

template <int KIND, int DVN>
__global__ void __launch_bounds__(kTcThreads) tc_kernel(Launch L) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();  // never launched: the host picks the f32 kernel below compute capability 8.0
#else
  extern __shared__ float4 kx_attn_smem[];
  DevX<TcState<DVN>> x;
  x.tid = (int)threadIdx.x;
  tc_block<KIND, DVN>(x, L, L.blk0 + (int64_t)blockIdx.x, (uint16_t*)kx_attn_smem);
#endif
}

// ---- kernel choice and launch ------------------------------------------------------------------

enum Path { PATH_F32_64, PATH_F32_128, PATH_TC_64, PATH_TC_128, PATH_TC_256 };

const char* path_name(Path p) {
  switch (p) {
    case PATH_F32_64: return "f32 kernel, 64 output columns per block";
    case PATH_F32_128: return "f32 kernel, 128 output columns per block";
    case PATH_TC_64: return "tensor-core kernel, Dv <= 64";
    case PATH_TC_128: return "tensor-core kernel, Dv <= 128";
    case PATH_TC_256: return "tensor-core kernel, Dv <= 256";
  }
  return "?";
}

bool is_tc(Path p) { return p == PATH_TC_64 || p == PATH_TC_128 || p == PATH_TC_256; }

Path choose_path(int kind, int64_t D, int64_t Dv, int cc_major, int64_t smem_optin, bool allow_tc) {
  if (kind != IN_F32 && allow_tc && cc_major >= 8 && D <= kTcMaxD && Dv <= kTcMaxD &&
      tc_smem_bytes(D, Dv) <= smem_optin)
    return Dv <= 64 ? PATH_TC_64 : Dv <= 128 ? PATH_TC_128 : PATH_TC_256;
  return Dv <= 64 ? PATH_F32_64 : PATH_F32_128;
}

int64_t path_dvc(Path p) { return p == PATH_F32_64 ? 64 : p == PATH_F32_128 ? 128 : 0; }

int64_t path_smem(Path p, int64_t D, int64_t Dv) {
  switch (p) {
    case PATH_F32_64: return f32_smem_floats<64>() * 4;
    case PATH_F32_128: return f32_smem_floats<128>() * 4;
    default: return tc_smem_bytes(D, Dv);
  }
}

// Blocks of the grid for a chunk of `units` units and `nq` queries.
int64_t grid_blocks(Path p, int64_t units, int64_t G, int64_t nq, int64_t Dv) {
  const int64_t nqt = (nq + kBR - 1) / kBR;
  int64_t ndc = 1;
  if (!is_tc(p)) {
    ndc = (Dv + path_dvc(p) - 1) / path_dvc(p);
    if (ndc < 1) ndc = 1;
  }
  return units * G * ndc * nqt;
}

template <class S, class Fn>
Status emulate(int nthreads, int64_t smem_bytes, int64_t blocks, char* err, size_t errlen, Fn fn) {
  S* st = (S*)calloc((size_t)nthreads, sizeof(S));
  void* smem = malloc((size_t)smem_bytes + 16);
  if (st == nullptr || smem == nullptr) {
    free(st), free(smem);
    put(err, errlen, "out of host memory for the emulation");
    return E_OOM;
  }
  HostX<S> x{st, nthreads};
  for (int64_t b = 0; b < blocks; ++b) fn(x, b, smem);
  free(st), free(smem);
  return OK;
}

template <int KIND>
Status launch_kind(Path p, Launch L, int64_t blocks, cudaStream_t s, Where where, char* err,
                   size_t errlen) {
  constexpr int TK = KIND == IN_F32 ? IN_F16 : KIND;  // the tc kernel never sees float32 inputs
  if (blocks <= 0) return OK;
  const int64_t smem = path_smem(p, L.D, L.Dv);
  if (where == ON_HOST) {
    switch (p) {
      case PATH_F32_64:
        return emulate<F32State<64>>(kF32Threads, smem, blocks, err, errlen,
                                     [&](HostX<F32State<64>>& x, int64_t b, void* m) {
                                       f32_block<KIND, 64>(x, L, b, (float*)m);
                                     });
      case PATH_F32_128:
        return emulate<F32State<128>>(kF32Threads, smem, blocks, err, errlen,
                                      [&](HostX<F32State<128>>& x, int64_t b, void* m) {
                                        f32_block<KIND, 128>(x, L, b, (float*)m);
                                      });
      case PATH_TC_64:
        return emulate<TcState<8>>(kTcThreads, smem, blocks, err, errlen,
                                   [&](HostX<TcState<8>>& x, int64_t b, void* m) {
                                     tc_block<TK, 8>(x, L, b, (uint16_t*)m);
                                   });
      case PATH_TC_128:
        return emulate<TcState<16>>(kTcThreads, smem, blocks, err, errlen,
                                    [&](HostX<TcState<16>>& x, int64_t b, void* m) {
                                      tc_block<TK, 16>(x, L, b, (uint16_t*)m);
                                    });
      case PATH_TC_256:
        return emulate<TcState<32>>(kTcThreads, smem, blocks, err, errlen,
                                    [&](HostX<TcState<32>>& x, int64_t b, void* m) {
                                      tc_block<TK, 32>(x, L, b, (uint16_t*)m);
                                    });
    }
    return E_INTERNAL;
  }
  void (*fn)(Launch) = nullptr;
  int threads = kF32Threads;
  switch (p) {
    case PATH_F32_64: fn = f32_kernel<KIND, 64>; break;
    case PATH_F32_128: fn = f32_kernel<KIND, 128>; break;
    case PATH_TC_64: fn = tc_kernel<TK, 8>, threads = kTcThreads; break;
    case PATH_TC_128: fn = tc_kernel<TK, 16>, threads = kTcThreads; break;
    case PATH_TC_256: fn = tc_kernel<TK, 32>, threads = kTcThreads; break;
  }
  if (smem > 48 * 1024)
    KX_CU(cudaFuncSetAttribute((const void*)fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               (int)smem),
          "cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
  constexpr int64_t kMaxGrid = 0x7fffffff;
  for (int64_t b0 = 0; b0 < blocks; b0 += kMaxGrid) {
    const int64_t n = blocks - b0 < kMaxGrid ? blocks - b0 : kMaxGrid;
    L.blk0 = b0;
    fn<<<(unsigned)n, threads, (size_t)smem, s>>>(L);
    KX_CU(cudaGetLastError(), "attention kernel launch");
  }
  return OK;
}

Status launch(int kind, Path p, const Launch& L, int64_t blocks, cudaStream_t s, Where where,
              char* err, size_t errlen) {
  switch (kind) {
    case IN_F32: return launch_kind<IN_F32>(p, L, blocks, s, where, err, errlen);
    case IN_F16: return launch_kind<IN_F16>(p, L, blocks, s, where, err, errlen);
    default: return launch_kind<IN_BF16>(p, L, blocks, s, where, err, errlen);
  }
}

// ---- requests, checks, chunk planning ----------------------------------------------------------

struct Req {
  int kind;
  int64_t B, H, Hkv, Nq, Nk, D, Dv;
  const void* q;
  const void* k;
  const void* v;
  const int32_t* head_kind;
  const int32_t* key_lengths;
  const uint8_t* mask;
  int64_t ms[4];
  const float* bias;
  int64_t bs[4];
  double scale;
  bool dropout;
  Rng rng;
  uint32_t threshold;
  double dscale;
  float* out;
  float* lse;
  float* probs;
};

template <class P>
void fill_common(Req* r, const P& p) {
  r->B = p.B, r->H = p.H, r->Hkv = p.Hkv, r->Nq = p.Nq, r->Nk = p.Nk, r->D = p.D, r->Dv = p.Dv;
  r->q = p.q, r->k = p.k, r->v = p.v;
  r->head_kind = p.head_kind, r->key_lengths = p.key_lengths;
  r->mask = p.mask, r->bias = p.bias;
  for (int d = 0; d < 4; ++d) r->ms[d] = p.mask_stride[d], r->bs[d] = p.bias_stride[d];
  r->scale = p.scale, r->dropout = p.dropout, r->rng = p.dropout_rng;
  r->threshold = p.dropout_threshold, r->dscale = p.dropout_scale;
  r->out = p.out, r->lse = p.lse, r->probs = p.probs;
}

Req req_f32(const AttentionParams<float>& p) {
  Req r;
  fill_common(&r, p);
  r.kind = IN_F32;
  return r;
}

Req req_16(const AttentionParams16& p, int kind) {
  Req r;
  fill_common(&r, p);
  r.kind = kind;
  return r;
}

size_t in_size(int kind) { return kind == IN_F32 ? 4 : 2; }

bool mul_ok(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > INT64_MAX / a) return false;
  *out = a * b;
  return true;
}

// The CPU kernel's checks, plus null pointers and sizes that overflow 64 bits. host_values: also
// read head_kind / key_lengths (host memory) for their ranges.
Status check_req(const Req& r, bool host_values, char* err, size_t errlen) {
  if (r.B < 0 || r.H < 0 || r.Hkv < 1 || r.Nq < 0 || r.Nk < 0 || r.D < 0 || r.Dv < 0 ||
      r.H % r.Hkv != 0) {
    put(err, errlen,
        "bad attention shape: B %lld, H %lld, Hkv %lld, Nq %lld, Nk %lld, D %lld, Dv %lld (all "
        ">= 0, Hkv >= 1 dividing H)",
        (long long)r.B, (long long)r.H, (long long)r.Hkv, (long long)r.Nq, (long long)r.Nk,
        (long long)r.D, (long long)r.Dv);
    return E_SHAPE;
  }
  int64_t bhq = 0, t = 0;
  const int64_t widest = r.D > r.Dv ? (r.D > r.Nk ? r.D : r.Nk) : (r.Dv > r.Nk ? r.Dv : r.Nk);
  if (!mul_ok(r.B, r.H, &bhq) || !mul_ok(bhq, r.Nq > r.Nk ? r.Nq : r.Nk, &bhq) ||
      !mul_ok(bhq, widest, &t) || !mul_ok(t, 8, &t)) {
    put(err, errlen, "attention sizes overflow 64-bit indices");
    return E_SHAPE;
  }
  if (r.H > 0 && r.head_kind == nullptr) {
    put(err, errlen, "null head_kind");
    return E_INTERNAL;
  }
  if (host_values) {
    for (int64_t h = 0; h < r.H; ++h)
      if (r.head_kind[h] < MASK_NONE || r.head_kind[h] > MASK_ANTICAUSAL) {
        put(err, errlen, "head_kind[%lld] = %d is not a mask kind (0 .. 4)", (long long)h,
            (int)r.head_kind[h]);
        return E_RANGE;
      }
    if (r.key_lengths != nullptr)
      for (int64_t b = 0; b < r.B; ++b)
        if (r.key_lengths[b] < 0 || r.key_lengths[b] > r.Nk) {
          put(err, errlen, "key_lengths[%lld] = %d is outside [0, Nk = %lld]", (long long)b,
              (int)r.key_lengths[b], (long long)r.Nk);
          return E_RANGE;
        }
  }
  if (r.dropout && r.threshold > (1u << 24)) {
    put(err, errlen, "dropout threshold %u is above 2^24", r.threshold);
    return E_RANGE;
  }
  const bool rows = r.B > 0 && r.H > 0 && r.Nq > 0;
  if (rows && ((r.Dv > 0 && r.out == nullptr) || (r.D > 0 && r.q == nullptr) ||
               (r.Nk > 0 && ((r.D > 0 && r.k == nullptr) || (r.Dv > 0 && r.v == nullptr))))) {
    put(err, errlen, "null q, k, v or out");
    return E_INTERNAL;
  }
  return OK;
}

// Index range [lo, lo + n) that strides st reach over b in [b0, b1], h in [h0, h1],
// i in [i0, i1], j in [0, Nk).
void extent(const int64_t st[4], int64_t b0, int64_t b1, int64_t h0, int64_t h1, int64_t i0,
            int64_t i1, int64_t Nk, int64_t* lo, int64_t* n) {
  const int64_t first[4] = {b0, h0, i0, 0}, last[4] = {b1, h1, i1, Nk - 1};
  int64_t a = 0, z = 0;
  for (int d = 0; d < 4; ++d) {
    const int64_t x = first[d] * st[d], y = last[d] * st[d];
    a += x < y ? x : y;
    z += x < y ? y : x;
  }
  *lo = a;
  *n = z - a + 1;
}

struct Chunk {
  int64_t u0, u1, qa, qb;
  int64_t mask_lo, mask_n, bias_lo, bias_n;
};

struct Plan {
  Path path;
  int64_t G, units, nq;  // units (b, hk) and queries per chunk
  int64_t nu, nqc;       // number of unit chunks and query chunks
  int64_t q_b, k_b, v_b, out_b, lse_b, probs_b, mask_b, bias_b;  // buffer bytes (max over chunks)
};

void chunk_at(const Req& r, const Plan& p, int64_t idx, Chunk* c) {
  const int64_t ui = idx / p.nqc, qi = idx % p.nqc;
  c->u0 = ui * p.units;
  c->u1 = c->u0 + p.units < r.B * r.Hkv ? c->u0 + p.units : r.B * r.Hkv;
  c->qa = qi * p.nq;
  c->qb = c->qa + p.nq < r.Nq ? c->qa + p.nq : r.Nq;
  const int64_t b0 = c->u0 / r.Hkv, b1 = (c->u1 - 1) / r.Hkv;
  const int64_t h0 = b0 == b1 ? (c->u0 % r.Hkv) * p.G : 0;
  const int64_t h1 = b0 == b1 ? ((c->u1 - 1) % r.Hkv + 1) * p.G - 1 : r.H - 1;
  c->mask_lo = c->mask_n = c->bias_lo = c->bias_n = 0;
  if (r.Nk == 0) return;
  if (r.mask != nullptr) extent(r.ms, b0, b1, h0, h1, c->qa, c->qb - 1, r.Nk, &c->mask_lo, &c->mask_n);
  if (r.bias != nullptr) extent(r.bs, b0, b1, h0, h1, c->qa, c->qb - 1, r.Nk, &c->bias_lo, &c->bias_n);
}

// Buffer sizes for chunks of `units` x `nq`; returns the total.
int64_t size_plan(const Req& r, Plan* p) {
  const int64_t es = (int64_t)in_size(r.kind);
  const int64_t heads = p->units * p->G;
  p->nu = (r.B * r.Hkv + p->units - 1) / p->units;
  p->nqc = (r.Nq + p->nq - 1) / p->nq;
  p->q_b = heads * p->nq * r.D * es;
  p->k_b = p->units * r.Nk * r.D * es;
  p->v_b = p->units * r.Nk * r.Dv * es;
  p->out_b = heads * p->nq * r.Dv * 4;
  p->lse_b = r.lse != nullptr ? heads * p->nq * 4 : 0;
  p->probs_b = r.probs != nullptr ? heads * p->nq * r.Nk * 4 : 0;
  p->mask_b = p->bias_b = 0;
  if (r.mask != nullptr || r.bias != nullptr) {
    Chunk c;
    for (int64_t x = 0; x < p->nu * p->nqc; ++x) {
      chunk_at(r, *p, x, &c);
      if (c.mask_n > p->mask_b) p->mask_b = c.mask_n;
      if (c.bias_n * 4 > p->bias_b) p->bias_b = c.bias_n * 4;
    }
  }
  return p->q_b + p->k_b + p->v_b + p->out_b + p->lse_b + p->probs_b + p->mask_b + p->bias_b;
}

// Whole (b, hk) units first, halved until the buffers fit the budget; then query rows (in
// multiples of the query tile) for single units. Past that it runs anyway (cudaMalloc says E_OOM).
void make_plan(const Req& r, Path path, int64_t budget, Plan* p) {
  p->path = path;
  p->G = r.H / r.Hkv;
  p->units = r.B * r.Hkv;
  p->nq = r.Nq;
  while (size_plan(r, p) > budget) {
    if (p->units > 1) {
      p->units = (p->units + 1) / 2;
    } else if (p->nq > kBR) {
      p->nq = ((p->nq + 1) / 2 + kBR - 1) / kBR * kBR;
    } else {
      break;
    }
  }
}

// ---- the host-memory driver --------------------------------------------------------------------

struct Buffers {
  Where where;
  void* p[10] = {};
  cudaStream_t stream = nullptr;
  explicit Buffers(Where w) : where(w) {}
  ~Buffers() {
    if (where == ON_DEVICE) {
      if (stream != nullptr) {
        cudaStreamSynchronize(stream);
        cudaStreamDestroy(stream);
      }
      for (void* q : p)
        if (q != nullptr) cudaFree(q);
      cudaGetLastError();
    } else {
      for (void* q : p) free(q);
    }
  }
};

Status alloc(Buffers& bufs, int slot, int64_t bytes, char* err, size_t errlen) {
  if (bytes <= 0) return OK;
  if (bufs.where == ON_HOST) {
    bufs.p[slot] = malloc((size_t)bytes);
    if (bufs.p[slot] == nullptr) {
      put(err, errlen, "malloc(%lld bytes) failed", (long long)bytes);
      return E_OOM;
    }
    return OK;
  }
  char what[96];
  snprintf(what, sizeof what, "cudaMalloc(%lld bytes)", (long long)bytes);
  KX_CU(cudaMalloc(&bufs.p[slot], (size_t)bytes), what);
  return OK;
}

// rows of `width` bytes, src rows spitch apart, dst rows dpitch apart.
Status copy2d(Buffers& bufs, void* dst, int64_t dpitch, const void* src, int64_t spitch,
              int64_t width, int64_t rows, bool to_device, char* err, size_t errlen) {
  if (width <= 0 || rows <= 0) return OK;
  if (bufs.where == ON_HOST) {
    for (int64_t r = 0; r < rows; ++r)
      memcpy((char*)dst + r * dpitch, (const char*)src + r * spitch, (size_t)width);
    return OK;
  }
  const cudaMemcpyKind kind = to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
  const char* what = to_device ? "cudaMemcpy (host to device)" : "cudaMemcpy (device to host)";
  if (rows == 1 || (width == dpitch && width == spitch)) {
    KX_CU(cudaMemcpyAsync(dst, src, (size_t)(width * rows), kind, bufs.stream), what);
  } else if (dpitch < (int64_t(1) << 31) && spitch < (int64_t(1) << 31)) {
    KX_CU(cudaMemcpy2DAsync(dst, (size_t)dpitch, src, (size_t)spitch, (size_t)width, (size_t)rows,
                            kind, bufs.stream),
          what);
  } else {
    for (int64_t r = 0; r < rows; ++r)
      KX_CU(cudaMemcpyAsync((char*)dst + r * dpitch, (const char*)src + r * spitch, (size_t)width,
                            kind, bufs.stream),
            what);
  }
  return OK;
}

Status run_host_memory(const Req& r, Where where, bool allow_tc, char* err, size_t errlen) {
  Status st = check_req(r, true, err, errlen);
  if (st != OK) return st;
  if (r.B == 0 || r.H == 0 || r.Nq == 0) return OK;

  int cc_major = 9;
  int64_t optin = 227 * 1024, budget = kDefaultHostBudget;  // emu: a Hopper-sized device
  Buffers bufs(where);
  if (where == ON_DEVICE) {
    char reason[256] = {0};
    const int dev = default_device(reason, sizeof reason);
    if (dev < 0) {
      put(err, errlen, "no CUDA device: %s", reason);
      return E_BACKEND;
    }
    KX_CU(cudaSetDevice(dev), "cudaSetDevice");
    int smem = 0;
    KX_CU(cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, dev),
          "cudaDeviceGetAttribute(computeCapabilityMajor)");
    KX_CU(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev),
          "cudaDeviceGetAttribute(maxSharedMemoryPerBlockOptin)");
    optin = smem;
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) budget = (int64_t)(free_b / 2);
    cudaGetLastError();
    KX_CU(cudaStreamCreateWithFlags(&bufs.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  const int64_t forced = g_chunk_bytes.load();
  if (forced > 0) budget = forced;
  const Path path = choose_path(r.kind, r.D, r.Dv, cc_major, optin, allow_tc);
  Plan plan;
  make_plan(r, path, budget, &plan);

  const int64_t es = (int64_t)in_size(r.kind);
  enum { Q, K, V, OUT, LSE, PROBS, MASK, BIAS, KIND, KLEN };
  if ((st = alloc(bufs, Q, plan.q_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, K, plan.k_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, V, plan.v_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, OUT, plan.out_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, LSE, plan.lse_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, PROBS, plan.probs_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, MASK, plan.mask_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, BIAS, plan.bias_b, err, errlen)) != OK) return st;
  if ((st = alloc(bufs, KIND, r.H * 4, err, errlen)) != OK) return st;
  if (r.key_lengths != nullptr && (st = alloc(bufs, KLEN, r.B * 4, err, errlen)) != OK) return st;
  if ((st = copy2d(bufs, bufs.p[KIND], r.H * 4, r.head_kind, r.H * 4, r.H * 4, 1, true, err,
                   errlen)) != OK)
    return st;
  if (r.key_lengths != nullptr &&
      (st = copy2d(bufs, bufs.p[KLEN], r.B * 4, r.key_lengths, r.B * 4, r.B * 4, 1, true, err,
                   errlen)) != OK)
    return st;

  const int64_t G = plan.G;
  Launch L;
  L.B = r.B, L.H = r.H, L.Hkv = r.Hkv, L.G = G, L.Nq = r.Nq, L.Nk = r.Nk, L.D = r.D, L.Dv = r.Dv;
  L.head_kind = (const int32_t*)bufs.p[KIND];
  L.key_lengths = (const int32_t*)bufs.p[KLEN];
  L.mask = r.mask != nullptr ? (const uint8_t*)bufs.p[MASK] : nullptr;
  L.bias = r.bias != nullptr ? (const float*)bufs.p[BIAS] : nullptr;
  for (int d = 0; d < 4; ++d) L.ms[d] = r.ms[d], L.bs[d] = r.bs[d];
  L.scale2 = (float)(r.scale * 1.4426950408889634);
  L.dropout = r.dropout, L.rng = r.rng, L.threshold = r.threshold, L.keep = (float)r.dscale;
  L.q = bufs.p[Q], L.k = bufs.p[K], L.v = bufs.p[V];
  L.out = (float*)bufs.p[OUT], L.lse = (float*)bufs.p[LSE], L.probs = (float*)bufs.p[PROBS];
  L.blk0 = 0;

  Chunk c;
  for (int64_t x = 0; x < plan.nu * plan.nqc; ++x) {
    chunk_at(r, plan, x, &c);
    const int64_t units = c.u1 - c.u0, heads = units * G, nq = c.qb - c.qa;
    // In: q rows (heads, queries [qa, qb)), k and v of the units, the reachable mask / bias.
    st = copy2d(bufs, bufs.p[Q], nq * r.D * es, (const char*)r.q + ((c.u0 * G) * r.Nq + c.qa) * r.D * es,
                r.Nq * r.D * es, nq * r.D * es, heads, true, err, errlen);
    if (st == OK)
      st = copy2d(bufs, bufs.p[K], 0, (const char*)r.k + c.u0 * r.Nk * r.D * es, 0,
                  units * r.Nk * r.D * es, 1, true, err, errlen);
    if (st == OK)
      st = copy2d(bufs, bufs.p[V], 0, (const char*)r.v + c.u0 * r.Nk * r.Dv * es, 0,
                  units * r.Nk * r.Dv * es, 1, true, err, errlen);
    if (st == OK && r.mask != nullptr)
      st = copy2d(bufs, bufs.p[MASK], 0, r.mask + c.mask_lo, 0, c.mask_n, 1, true, err, errlen);
    if (st == OK && r.bias != nullptr)
      st = copy2d(bufs, bufs.p[BIAS], 0, r.bias + c.bias_lo, 0, c.bias_n * 4, 1, true, err, errlen);
    if (st != OK) return st;
    L.u0 = c.u0, L.units = units, L.q0 = c.qa, L.nq = nq;
    L.mask_off = -c.mask_lo, L.bias_off = -c.bias_lo;
    L.nqt = (nq + kBR - 1) / kBR;
    L.ndc = is_tc(path) ? 1 : (r.Dv + path_dvc(path) - 1) / path_dvc(path);
    if (L.ndc < 1) L.ndc = 1;
    st = launch(r.kind, path, L, grid_blocks(path, units, G, nq, r.Dv), bufs.stream, where, err,
                errlen);
    if (st != OK) return st;
    // Out: rows of the chunk's heads into the caller's [B, H, Nq, .] arrays.
    const int64_t row0 = (c.u0 * G) * r.Nq + c.qa;
    st = copy2d(bufs, (char*)r.out + row0 * r.Dv * 4, r.Nq * r.Dv * 4, bufs.p[OUT], nq * r.Dv * 4,
                nq * r.Dv * 4, heads, false, err, errlen);
    if (st == OK && r.lse != nullptr)
      st = copy2d(bufs, (char*)r.lse + row0 * 4, r.Nq * 4, bufs.p[LSE], nq * 4, nq * 4, heads,
                  false, err, errlen);
    if (st == OK && r.probs != nullptr)
      st = copy2d(bufs, (char*)r.probs + row0 * r.Nk * 4, r.Nq * r.Nk * 4, bufs.p[PROBS],
                  nq * r.Nk * 4, nq * r.Nk * 4, heads, false, err, errlen);
    if (st != OK) return st;
  }
  if (where == ON_DEVICE) KX_CU(cudaStreamSynchronize(bufs.stream), "attention kernel execution");
  return OK;
}

Status run_device_memory(const Req& r, cudaStream_t s, char* err, size_t errlen) {
  Status st = check_req(r, false, err, errlen);
  if (st != OK) return st;
  if (r.B == 0 || r.H == 0 || r.Nq == 0) return OK;
  int dev = 0, cc_major = 0, smem = 0;
  KX_CU(cudaGetDevice(&dev), "cudaGetDevice");
  KX_CU(cudaDeviceGetAttribute(&cc_major, cudaDevAttrComputeCapabilityMajor, dev),
        "cudaDeviceGetAttribute(computeCapabilityMajor)");
  KX_CU(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev),
        "cudaDeviceGetAttribute(maxSharedMemoryPerBlockOptin)");
  const Path path = choose_path(r.kind, r.D, r.Dv, cc_major, smem, g_allow_tc.load());
  Launch L;
  L.B = r.B, L.H = r.H, L.Hkv = r.Hkv, L.G = r.H / r.Hkv, L.Nq = r.Nq, L.Nk = r.Nk, L.D = r.D;
  L.Dv = r.Dv;
  L.u0 = 0, L.units = r.B * r.Hkv, L.q0 = 0, L.nq = r.Nq;
  L.q = r.q, L.k = r.k, L.v = r.v;
  L.head_kind = r.head_kind, L.key_lengths = r.key_lengths;
  L.mask = r.mask, L.bias = r.bias, L.mask_off = 0, L.bias_off = 0;
  for (int d = 0; d < 4; ++d) L.ms[d] = r.ms[d], L.bs[d] = r.bs[d];
  L.scale2 = (float)(r.scale * 1.4426950408889634);
  L.dropout = r.dropout, L.rng = r.rng, L.threshold = r.threshold, L.keep = (float)r.dscale;
  L.out = r.out, L.lse = r.lse, L.probs = r.probs;
  L.nqt = (r.Nq + kBR - 1) / kBR;
  L.ndc = is_tc(path) ? 1 : (r.Dv + path_dvc(path) - 1) / path_dvc(path);
  if (L.ndc < 1) L.ndc = 1;
  L.blk0 = 0;
  return launch(r.kind, path, L, grid_blocks(path, L.units, L.G, r.Nq, r.Dv), s, ON_DEVICE, err,
                errlen);
}

}  // namespace

// ---- public API --------------------------------------------------------------------------------

int64_t set_attention_chunk_bytes(int64_t bytes) {
  if (bytes < 0) bytes = 0;
  return g_chunk_bytes.exchange(bytes);
}

bool set_attention_tensor_cores(bool allowed) { return g_allow_tc.exchange(allowed); }

const char* attention_kernel_name(int dtype, int64_t D, int64_t Dv, int cc_major,
                                  int64_t smem_optin) {
  return path_name(choose_path(dtype, D, Dv, cc_major, smem_optin, g_allow_tc.load()));
}

Status attention_f32(const AttentionParams<float>& p, char* err, size_t errlen) {
  return run_host_memory(req_f32(p), ON_DEVICE, g_allow_tc.load(), err, errlen);
}
Status attention_f16(const AttentionParams16& p, char* err, size_t errlen) {
  return run_host_memory(req_16(p, IN_F16), ON_DEVICE, g_allow_tc.load(), err, errlen);
}
Status attention_bf16(const AttentionParams16& p, char* err, size_t errlen) {
  return run_host_memory(req_16(p, IN_BF16), ON_DEVICE, g_allow_tc.load(), err, errlen);
}

namespace dev {
Status attention_f32(const AttentionParams<float>& p, void* stream, char* err, size_t errlen) {
  return run_device_memory(req_f32(p), (cudaStream_t)stream, err, errlen);
}
Status attention_f16(const AttentionParams16& p, void* stream, char* err, size_t errlen) {
  return run_device_memory(req_16(p, IN_F16), (cudaStream_t)stream, err, errlen);
}
Status attention_bf16(const AttentionParams16& p, void* stream, char* err, size_t errlen) {
  return run_device_memory(req_16(p, IN_BF16), (cudaStream_t)stream, err, errlen);
}
}  // namespace dev

namespace emu {
Status attention_f32(const AttentionParams<float>& p, char* err, size_t errlen) {
  return run_host_memory(req_f32(p), ON_HOST, false, err, errlen);
}
Status attention_f16(const AttentionParams16& p, bool tensor_cores, char* err, size_t errlen) {
  return run_host_memory(req_16(p, IN_F16), ON_HOST, tensor_cores, err, errlen);
}
Status attention_bf16(const AttentionParams16& p, bool tensor_cores, char* err, size_t errlen) {
  return run_host_memory(req_16(p, IN_BF16), ON_HOST, tensor_cores, err, errlen);
}
}  // namespace emu

}  // namespace cuda
}  // namespace kx
