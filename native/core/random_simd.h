// The SIMD hot loops of the sampling kernels, compiled once per instruction set: an ISA
// translation unit (random_x86_avx2.cc, random_x86_sse2.cc, or the wasm build of random.cc)
// defines KX_ISA_NS (and KX_ISA_AVX2 / KX_ISA_SSE2) and includes this file.
// Element i of a sampled tensor is 32-bit word i of the stream (block i / 4, word i % 4); see philox.h.
#pragma once
#include "philox.h"
#include "random.h"
#include "simd.h"

namespace kx {
namespace KX_ISA_NS {

// Words of blocks [first, first + nblocks) in element order; nblocks a multiple of kGroup.
// kU independent vectors per step so the ten dependent rounds of one vector overlap with the
// others' (one vector alone is latency-bound).
constexpr int kU = 4;
constexpr int kGroup = kU * W;

inline void philox_words(const Rng& rng, uint64_t first, int64_t nblocks, uint32_t* out) {
  const V lane = iota();
  const V m0 = splat(kPhiloxM0), m1 = splat(kPhiloxM1);
  for (int64_t b = 0; b < nblocks; b += kGroup) {
    V c0[kU], c1[kU], c2[kU], c3[kU];
    for (int u = 0; u < kU; ++u) {
      const uint64_t base = first + (uint64_t)(b + u * W);
      const uint32_t base_lo = (uint32_t)base;
      c0[u] = splat(base_lo) + lane;
      // Carry into the high word where the low word wrapped (per lane).
      c1[u] = splat((uint32_t)(base >> 32)) - (V)(c0[u] < splat(base_lo));
      c2[u] = splat(rng.stream[0]);
      c3[u] = splat(rng.stream[1]);
    }
    uint32_t k0 = rng.key[0], k1 = rng.key[1];
    for (int r = 0; r < 10; ++r) {
      if (r > 0) {
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
      }
      const V vk0 = splat(k0), vk1 = splat(k1);
      for (int u = 0; u < kU; ++u) {
        V hi0, lo0, hi1, lo1;
        mulhilo(c0[u], m0, &hi0, &lo0);
        mulhilo(c2[u], m1, &hi1, &lo1);
        c0[u] = hi1 ^ c1[u] ^ vk0;
        c2[u] = hi0 ^ c3[u] ^ vk1;
        c1[u] = lo1;
        c3[u] = lo0;
      }
    }
    for (int u = 0; u < kU; ++u) {
      transpose4(&c0[u], &c1[u], &c2[u], &c3[u]);
      uint32_t* o = out + 4 * (b + u * W);
      store(o, c0[u]);
      store(o + W, c1[u]);
      store(o + 2 * W, c2[u]);
      store(o + 3 * W, c3[u]);
    }
  }
}

// Calls consume(words, i, count) for consecutive runs of the words of elements
// [offset, offset + n): words[t] is the word of element offset + i + t.
template <class F>
inline void for_word_tiles(const Rng& rng, int64_t offset, int64_t n, F&& consume) {
  constexpr int kTileBlocks = 64;  // 256 words: stays in L1
  static_assert(kTileBlocks % kGroup == 0, "tile must hold whole groups");
  alignas(64) uint32_t buf[4 * kTileBlocks];
  int64_t i = 0;
  while (i < n) {
    const int64_t e = offset + i;
    const int skip = (int)(e & 3);
    int64_t take = 4 * kTileBlocks - skip;
    if (take > n - i) take = n - i;
    int64_t nb = (skip + take + 3) / 4;
    nb = (nb + kGroup - 1) / kGroup * kGroup;
    philox_words(rng, (uint64_t)(e >> 2), nb, buf);
    consume(buf + skip, i, take);
    i += take;
  }
}

inline void words_range(const Rng& rng, int64_t offset, int64_t n, uint32_t* out) {
  for_word_tiles(rng, offset, n, [&](const uint32_t* w, int64_t i, int64_t m) {
    for (int64_t t = 0; t < m; ++t) out[i + t] = w[t];
  });
}

inline void uniform_f32_range(const Rng& rng, int64_t offset, int64_t n, float* out) {
  for_word_tiles(rng, offset, n, [&](const uint32_t* w, int64_t i, int64_t m) {
    float* o = out + i;
    for (int64_t t = 0; t < m; ++t) o[t] = (float)(int32_t)(w[t] >> 8) * 5.9604644775390625e-08f;
  });
}

inline void bernoulli_u8_range(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold,
                               uint8_t* out) {
  for_word_tiles(rng, offset, n, [&](const uint32_t* w, int64_t i, int64_t m) {
    const uint32_t thr = threshold;
    uint8_t* o = out + i;
    for (int64_t t = 0; t < m; ++t) o[t] = (uint8_t)(((w[t] >> 8) - thr) >> 31);  // (w >> 8) < thr
  });
}

// Normal samples of elements [offset, offset + n): element i is the Box-Muller pair i >> 1 (words
// 2 (i >> 1) and 2 (i >> 1) + 1), cos for even i, sin for odd i. The pair loop is branch-free
// (philox.h), so the compiler vectorises it.
template <class T>
inline void normal_range(const Rng& rng, int64_t offset, int64_t n, double mean, double std, T* out) {
  constexpr int kPairs = 256;
  uint32_t buf[2 * kPairs];
  double zc[kPairs], zs[kPairs];
  const int64_t end = offset + n;
  int64_t i = offset;  // global element index
  while (i < end) {
    const int64_t pair0 = i >> 1;
    int64_t pairs = ((end + 1) >> 1) - pair0;
    if (pairs > kPairs) pairs = kPairs;
    words_range(rng, 2 * pair0, 2 * pairs, buf);
    for (int64_t p = 0; p < pairs; ++p) {
      double c, s;
      box_muller(buf[2 * p], buf[2 * p + 1], &c, &s);
      zc[p] = mean + std * c;
      zs[p] = mean + std * s;
    }
    int64_t p = 0;
    if (i & 1) out[i++ - offset] = (T)zs[p++];  // a range that starts on an odd element
    T* o = out + (i - offset);
    const int64_t full = (end - i) >> 1 < pairs - p ? (end - i) >> 1 : pairs - p;
    for (int64_t t = 0; t < full; ++t) {
      o[2 * t] = (T)zc[p + t];
      o[2 * t + 1] = (T)zs[p + t];
    }
    i += 2 * full;
    p += full;
    if (p < pairs && i < end) out[i++ - offset] = (T)zc[p];  // a range that ends on an even element
  }
}

template <class T>
struct SameSizeUint;
template <>
struct SameSizeUint<float> {
  typedef uint32_t type;
};
template <>
struct SameSizeUint<double> {
  typedef uint64_t type;
};

// Branch-free so that it vectorises: the kept value's bits and-ed with an all-ones/all-zeros mask
// (a dropped element is exactly +0, whatever x was).
template <class T>
inline void dropout_range(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, T scale,
                          const T* x, T* out, uint8_t* mask) {
  typedef typename SameSizeUint<T>::type U;
  for_word_tiles(rng, offset, n, [&](const uint32_t* w, int64_t i, int64_t m) {
    // Locals, not the captured references: stores through o or mk could alias those.
    const uint32_t thr = threshold;
    const T sc = scale;
    const T* xi = x + i;
    T* o = out + i;
    uint8_t* mk = mask != nullptr ? mask + i : nullptr;
    for (int64_t t = 0; t < m; ++t) {
      const U keep = (U)0 - (U)((w[t] >> 8) >= thr);
      const T v = xi[t] * sc;
      U bits;
      memcpy(&bits, &v, sizeof(T));
      bits &= keep;
      memcpy(&o[t], &bits, sizeof(T));
    }
    if (mk != nullptr)
      for (int64_t t = 0; t < m; ++t)  // 1 when (w >> 8) >= threshold; both are below 2^25
        mk[t] = (uint8_t)(1u ^ (((w[t] >> 8) - thr) >> 31));
  });
}

}  // namespace KX_ISA_NS
}  // namespace kx
