// The one SIMD header: a u32 vector type of W lanes for the translation unit's instruction set,
// and the few operations that generic vector-extension code cannot express well (32x32 -> 64
// multiply halves, and the 4 x W transpose of Philox words into element order).
// An ISA translation unit defines exactly one of KX_ISA_AVX2 / KX_ISA_SSE2 before including this;
// the wasm build gets the wasm path from __wasm_simd128__; anything else gets the scalar path.
// Kernels are written once against `V` (lib/ordinary operators work on it) and these helpers.
#pragma once
#include <stdint.h>
#include <string.h>

#if defined(KX_ISA_AVX2)
#include <immintrin.h>
#define KX_SIMD_W 8
#elif defined(KX_ISA_SSE2)
#include <emmintrin.h>
#define KX_SIMD_W 4
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define KX_SIMD_W 4
#else
#define KX_SIMD_W 1
#endif

namespace kx {
namespace KX_ISA_NS {

constexpr int W = KX_SIMD_W;
#if KX_SIMD_W > 1
typedef uint32_t V __attribute__((vector_size(4 * KX_SIMD_W)));
#else
typedef uint32_t V;
#endif

inline V splat(uint32_t x) { return V{} + x; }

inline V iota() {
  V v;
  uint32_t* p = (uint32_t*)&v;
  for (int i = 0; i < W; ++i) p[i] = (uint32_t)i;
  return v;
}

inline void store(uint32_t* dst, V v) { memcpy(dst, &v, sizeof(V)); }


// hi, lo = the two halves of a * m, lane by lane; m is a splat vector (see opaque_splat).
inline void mulhilo(V a, V m, V* hi, V* lo) {
#if defined(KX_ISA_AVX2)
  const __m256i mv = (__m256i)m;
  const __m256i av = (__m256i)a;
  const __m256i even = _mm256_mul_epu32(av, mv);                        // lanes 0,2,4,6 -> 64-bit
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(av, 32), mv);  // lanes 1,3,5,7
  *hi = (V)_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  *lo = (V)_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
#elif defined(KX_ISA_SSE2)
  const __m128i mv = (__m128i)m;
  const __m128i av = (__m128i)a;
  const __m128i even = _mm_mul_epu32(av, mv);                     // [lo0 hi0 lo2 hi2]
  const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(av, 32), mv);  // [lo1 hi1 lo3 hi3]
  *lo = (V)_mm_unpacklo_epi32(_mm_shuffle_epi32(even, 0x08), _mm_shuffle_epi32(odd, 0x08));
  *hi = (V)_mm_unpacklo_epi32(_mm_shuffle_epi32(even, 0x0D), _mm_shuffle_epi32(odd, 0x0D));
#elif defined(__wasm_simd128__)
  // clang 16 lowers wasm_u64x2_extmul_*_u32x4 to extend + i64x2.mul, which V8 emulates with
  // several multiplies on x64; written out, each is one extmul instruction.
  v128_t p01, p23;
  __asm__("local.get %1\n\tlocal.get %2\n\ti64x2.extmul_low_i32x4_u\n\tlocal.set %0" : "=r"(p01) : "r"(a), "r"(m));
  __asm__("local.get %1\n\tlocal.get %2\n\ti64x2.extmul_high_i32x4_u\n\tlocal.set %0" : "=r"(p23) : "r"(a), "r"(m));
  *lo = a * m;  // i32x4.mul: cheaper than a second shuffle
  *hi = (V)wasm_i32x4_shuffle(p01, p23, 1, 3, 5, 7);
#else
  const uint64_t p = (uint64_t)a * (uint64_t)m;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
#endif
}

// In: wk lane j = word k of block j. Out, stored one after another, the words in element order
// (word k of block j at position 4j + k).
inline void transpose4(V* w0, V* w1, V* w2, V* w3) {
#if defined(KX_ISA_AVX2)
  const __m256i a = _mm256_unpacklo_epi32((__m256i)*w0, (__m256i)*w1);
  const __m256i b = _mm256_unpackhi_epi32((__m256i)*w0, (__m256i)*w1);
  const __m256i c = _mm256_unpacklo_epi32((__m256i)*w2, (__m256i)*w3);
  const __m256i d = _mm256_unpackhi_epi32((__m256i)*w2, (__m256i)*w3);
  const __m256i t0 = _mm256_unpacklo_epi64(a, c);  // blocks 0 | 4
  const __m256i t1 = _mm256_unpackhi_epi64(a, c);  // blocks 1 | 5
  const __m256i t2 = _mm256_unpacklo_epi64(b, d);  // blocks 2 | 6
  const __m256i t3 = _mm256_unpackhi_epi64(b, d);  // blocks 3 | 7
  *w0 = (V)_mm256_permute2x128_si256(t0, t1, 0x20);
  *w1 = (V)_mm256_permute2x128_si256(t2, t3, 0x20);
  *w2 = (V)_mm256_permute2x128_si256(t0, t1, 0x31);
  *w3 = (V)_mm256_permute2x128_si256(t2, t3, 0x31);
#elif defined(KX_ISA_SSE2)
  const __m128i a = _mm_unpacklo_epi32((__m128i)*w0, (__m128i)*w1);
  const __m128i b = _mm_unpackhi_epi32((__m128i)*w0, (__m128i)*w1);
  const __m128i c = _mm_unpacklo_epi32((__m128i)*w2, (__m128i)*w3);
  const __m128i d = _mm_unpackhi_epi32((__m128i)*w2, (__m128i)*w3);
  *w0 = (V)_mm_unpacklo_epi64(a, c);
  *w1 = (V)_mm_unpackhi_epi64(a, c);
  *w2 = (V)_mm_unpacklo_epi64(b, d);
  *w3 = (V)_mm_unpackhi_epi64(b, d);
#elif defined(__wasm_simd128__)
  const v128_t a = wasm_i32x4_shuffle((v128_t)*w0, (v128_t)*w1, 0, 4, 1, 5);
  const v128_t b = wasm_i32x4_shuffle((v128_t)*w0, (v128_t)*w1, 2, 6, 3, 7);
  const v128_t c = wasm_i32x4_shuffle((v128_t)*w2, (v128_t)*w3, 0, 4, 1, 5);
  const v128_t d = wasm_i32x4_shuffle((v128_t)*w2, (v128_t)*w3, 2, 6, 3, 7);
  *w0 = (V)wasm_i64x2_shuffle(a, c, 0, 2);
  *w1 = (V)wasm_i64x2_shuffle(a, c, 1, 3);
  *w2 = (V)wasm_i64x2_shuffle(b, d, 0, 2);
  *w3 = (V)wasm_i64x2_shuffle(b, d, 1, 3);
#else
  (void)w0, (void)w1, (void)w2, (void)w3;  // one block per "vector": already in order
#endif
}

}  // namespace KX_ISA_NS
}  // namespace kx
