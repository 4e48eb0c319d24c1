// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011)
// and the deterministic arithmetic that turns its words into samples. Header-only, host and device.
//
// Why our own: every backend (pure TS, wasm, native CPU at any thread count, CUDA) must give the
// same bits, so the generator and the float conversions are written out here once, and the pure-TS
// reference in lib/backends/js/philox.ts repeats exactly the same IEEE operations.
//
// Sample layout (the contract, also documented in README.md):
//   counter = (block_lo, block_hi, stream_lo, stream_hi), key = (seed_lo, seed_hi);
//   32-bit element i of a sampled tensor is word (i % 4) of block i / 4;
//   float64 uniform element i uses words 2(i%2), 2(i%2)+1 of block i / 2;
//   normal element i uses the Box-Muller pair (words 2p, 2p+1), p = (i % 4) / 2, of block i / 4:
//   cos for even i, sin for odd i.
#pragma once
#include "kx.h"

#if defined(__CUDACC__)
#define KX_SQRT(x) sqrt(x)
#else
#define KX_SQRT(x) __builtin_sqrt(x)
#endif

namespace kx {

struct Rng {
  uint32_t key[2];     // seed, low word first
  uint32_t stream[2];  // stream, low word first
};

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

KX_HD void philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
  uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
  uint32_t k0 = key_in[0], k1 = key_in[1];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const uint64_t p0 = (uint64_t)kPhiloxM0 * c0;
    const uint64_t p1 = (uint64_t)kPhiloxM1 * c2;
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = (uint32_t)p1;
    c2 = n2;
    c3 = (uint32_t)p0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// The four words of block `block` for (key, stream).
KX_HD void philox_block(const Rng& rng, uint64_t block, uint32_t out[4]) {
  const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), rng.stream[0], rng.stream[1]};
  philox4x32_10(ctr, rng.key, out);
}

// Uniform float32 in [0, 1) from the top 24 bits: exact.
KX_HD float word_to_uniform_f32(uint32_t w) { return (float)(w >> 8) * 5.9604644775390625e-08f; }

// Uniform float64 in [0, 1) from 53 bits of two words: exact.
KX_HD double words_to_uniform_f64(uint32_t a, uint32_t b) {
  return ((double)(a >> 5) * 67108864.0 + (double)(b >> 6)) * 1.1102230246251565e-16;
}

// ---- Deterministic math for Box-Muller ------------------------------------------------------
// Only +, -, *, / and sqrt (all correctly rounded in IEEE 754, in JS, C++ without contraction,
// wasm and CUDA with --fmad=false), in a fixed order, so every backend gets the same bits.
// Accuracy: a few ulp of float64, far below the float32 output rounding.

KX_HD uint64_t bits_of(double d) {
  union {
    double d;
    uint64_t u;
  } v;
  v.d = d;
  return v.u;
}

KX_HD double from_bits(uint64_t u) {
  union {
    uint64_t u;
    double d;
  } v;
  v.u = u;
  return v.d;
}

// ln(u) for u = (w + 1) * 2^-32 in (0, 1]. Branch-free, so that loops over it vectorise.
KX_HD double log_u32p1(uint32_t w) {
  // k = w + 1 = m 2^e with m in [1, 2): e and m read off k's bits, both exact.
  const uint64_t kb = bits_of((double)w + 1.0);
  const bool big = from_bits((kb & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull) > 1.4142135623730951;
  const int e = (int)(kb >> 52) - 1023 + (big ? 1 : 0);
  // m in (sqrt(1/2), sqrt(2)]: the same mantissa with exponent 2^-1 when it was above sqrt(2).
  const double m = from_bits((kb & 0x000FFFFFFFFFFFFFull) | (big ? 0x3FE0000000000000ull : 0x3FF0000000000000ull));
  // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716, s^2 <= 0.02944
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 2.0 / 25.0;
  p = p * s2 + 2.0 / 23.0;
  p = p * s2 + 2.0 / 21.0;
  p = p * s2 + 2.0 / 19.0;
  p = p * s2 + 2.0 / 17.0;
  p = p * s2 + 2.0 / 15.0;
  p = p * s2 + 2.0 / 13.0;
  p = p * s2 + 2.0 / 11.0;
  p = p * s2 + 2.0 / 9.0;
  p = p * s2 + 2.0 / 7.0;
  p = p * s2 + 2.0 / 5.0;
  p = p * s2 + 2.0 / 3.0;
  const double lnm = 2.0 * s + s * (s2 * p);
  const double ee = (double)(e - 32);
  // ln 2 split so that ee * kLn2Hi is exact (kLn2Hi has 32 significant bits, |ee| <= 32).
  const double kLn2Hi = 0.6931471803691238;      // 0x3FE62E42FEE00000
  const double kLn2Lo = 1.9082149292705877e-10;  // ln 2 - kLn2Hi
  return ee * kLn2Hi + (ee * kLn2Lo + lnm);
}

// cos and sin of 2 pi w / 2^32.
KX_HD void sincos_2pi_u32(uint32_t w, double* c_out, double* s_out) {
  // Nearest quarter turn q (mod 4) and the signed remainder f in [-2^29, 2^29), exact in integers.
  const uint32_t q = ((w + 0x20000000u) >> 30) & 3u;
  const int32_t f = (int32_t)(w - (q << 30));
  const double x = (double)f * 1.4629180792671596e-09;  // 2 pi / 2^32; |x| <= pi/4
  const double x2 = x * x;
  double sp = -1.0 / 355687428096000.0;  // -1/17!
  sp = sp * x2 + 1.0 / 1307674368000.0;
  sp = sp * x2 - 1.0 / 6227020800.0;
  sp = sp * x2 + 1.0 / 39916800.0;
  sp = sp * x2 - 1.0 / 362880.0;
  sp = sp * x2 + 1.0 / 5040.0;
  sp = sp * x2 - 1.0 / 120.0;
  sp = sp * x2 + 1.0 / 6.0;
  const double s = x - x * (x2 * sp);  // x - x^3/6 + ...
  double cp = 1.0 / 6402373705728000.0;  // 1/18!
  cp = cp * x2 - 1.0 / 20922789888000.0;
  cp = cp * x2 + 1.0 / 87178291200.0;
  cp = cp * x2 - 1.0 / 479001600.0;
  cp = cp * x2 + 1.0 / 3628800.0;
  cp = cp * x2 - 1.0 / 40320.0;
  cp = cp * x2 + 1.0 / 720.0;
  cp = cp * x2 - 1.0 / 24.0;
  cp = cp * x2 + 0.5;
  const double c = 1.0 - x2 * cp;
  // Quarter turns, branch-free: q = 0: (c, s); 1: (-s, c); 2: (-c, -s); 3: (s, -c).
  const bool odd = (q & 1u) != 0u;
  const double cc = odd ? s : c;
  const double ss = odd ? c : s;
  *c_out = (q == 1u || q == 2u) ? -cc : cc;
  *s_out = (q >= 2u) ? -ss : ss;
}

// Standard normal pair from two words (Box-Muller).
KX_HD void box_muller(uint32_t a, uint32_t b, double* z0, double* z1) {
  const double r = KX_SQRT(-2.0 * log_u32p1(a));
  double c, s;
  sincos_2pi_u32(b, &c, &s);
  *z0 = r * c;
  *z1 = r * s;
}

}  // namespace kx
