// Float vectors for the attention kernels, next to simd.h's u32 vectors: WF lanes of float, a
// fused multiply-add where the instruction set has one (AVX2+FMA; elsewhere a*b + c), and a
// vectorised exp. Attention results are compared with a tolerance, not bit for bit, so FMA is
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
  float m = v[0];
  for (int i = 1; i < WF; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

inline float hsum(VF v) {
  float s = 0.f;
  for (int i = 0; i < WF; ++i) s += v[i];
  return s;
}

// e^x, lane by lane: Cody-Waite reduction by ln 2 and Cephes' degree-6 polynomial (about 1 ulp).
// x below -87.3 (and -inf) gives exactly 0.
inline VF exp_v(VF x) {
  const VF lo = splatf(-87.33654f);
  const VF hi = splatf(88.3762626647949f);
  VF xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const VF t = xc * splatf(1.44269504088896341f);
  const VF fn = (t + splatf(12582912.f)) - splatf(12582912.f);  // round to nearest integer
  VF r = xc - fn * splatf(0.693359375f);
  r = r - fn * splatf(-2.12194440e-4f);
  VF y = splatf(1.9875691500E-4f);
  y = fmadd(y, r, splatf(1.3981999507E-3f));
  y = fmadd(y, r, splatf(8.3334519073E-3f));
  y = fmadd(y, r, splatf(4.1665795894E-2f));
  y = fmadd(y, r, splatf(1.6666665459E-1f));
  y = fmadd(y, r, splatf(5.0000001201E-1f));
  y = fmadd(y, r * r, r + splatf(1.f));
  const VI n = __builtin_convertvector(fn, VI);
  const VI bits = (n + 127) << 23;
  VF scale;
  memcpy(&scale, &bits, sizeof scale);
  const VF e = y * scale;
  return x < lo ? splatf(0.f) : e;
}

}  // namespace KX_ISA_NS
}  // namespace kx
