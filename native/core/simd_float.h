// Float vectors for the attention kernels, next to simd.h's u32 vectors: WF lanes of float, a
// fused multiply-add where the instruction set has one (AVX2+FMA; elsewhere a*b + c), and a
// vectorised exp2. Attention results are compared with a tolerance, not bit for bit, so FMA is
// welcome here (the sampling kernels never use it).
#pragma once
#include "simd.h"

namespace kx {
namespace KX_ISA_NS {

constexpr int WF = KX_SIMD_W == 1 ? 4 : KX_SIMD_W;  // a scalar build still uses 4-lane generic vectors
typedef float VF __attribute__((vector_size(4 * WF)));
typedef int32_t VI __attribute__((vector_size(4 * WF)));

// Not `VF{} + x`: 0 + x is not x for x = -0, so the compiler must keep that add in every loop.
inline VF splatf(float x) {
#if defined(KX_ISA_AVX2)
  return (VF)_mm256_set1_ps(x);
#elif defined(KX_ISA_SSE2)
  return (VF)_mm_set1_ps(x);
#elif defined(__wasm_simd128__)
  return (VF)wasm_f32x4_splat(x);
#else
  VF v;
  for (int i = 0; i < WF; ++i) v[i] = x;
  return v;
#endif
}
inline VF loadf(const float* p) {
  VF v;
  memcpy(&v, p, sizeof v);
  return v;
}
inline void storef(float* p, VF v) { memcpy(p, &v, sizeof v); }

inline VF fmadd(VF a, VF b, VF c) {
#if defined(KX_ISA_AVX2)
  return (VF)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
  return a * b + c;
#endif
}

inline VF maxf(VF a, VF b) { return a > b ? a : b; }

inline float hmax(VF v) {
#if defined(KX_ISA_AVX2)
  __m128 m = _mm_max_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
#elif defined(KX_ISA_SSE2)
  __m128 m = _mm_max_ps((__m128)v, _mm_movehl_ps((__m128)v, (__m128)v));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
#else
  float m = v[0];
  for (int i = 1; i < WF; ++i) m = v[i] > m ? v[i] : m;
  return m;
#endif
}

inline float hsum(VF v) {
#if defined(KX_ISA_AVX2)
  __m128 s = _mm_add_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
#elif defined(KX_ISA_SSE2)
  __m128 s = _mm_add_ps((__m128)v, _mm_movehl_ps((__m128)v, (__m128)v));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
#else
  float s = 0.f;
  for (int i = 0; i < WF; ++i) s += v[i];
  return s;
#endif
}

// 2^x, lane by lane, for x <= 128: round to the nearest integer n, r = x - n in [-1/2, 1/2],
// 2^r by its degree-6 Taylor polynomial (relative error 1.2e-7), 2^n through the exponent bits.
// x below -126 (and -inf) gives exactly 0. The attention kernel works in base 2 (log2 e folded
// into the query scale), so this is its only exponential.
inline VF exp2_v(VF x) {
  const VF lo = splatf(-126.f);
  const VF xc = maxf(x, lo);
  const VF fn = (xc + splatf(12582912.f)) - splatf(12582912.f);  // round to nearest integer
  const VF r = xc - fn;
  VF y = splatf(1.5403530393381608e-4f);
  y = fmadd(y, r, splatf(1.3333558146428443e-3f));
  y = fmadd(y, r, splatf(9.6181291076284772e-3f));
  y = fmadd(y, r, splatf(5.5504108664821580e-2f));
  y = fmadd(y, r, splatf(2.4022650695910071e-1f));
  y = fmadd(y, r, splatf(6.9314718055994531e-1f));
  y = fmadd(y, r, splatf(1.f));
  const VI bits = (__builtin_convertvector(fn, VI) + 127) << 23;
  VF scale;
  memcpy(&scale, &bits, sizeof scale);
  return x < lo ? splatf(0.f) : y * scale;
}

}  // namespace KX_ISA_NS
}  // namespace kx
