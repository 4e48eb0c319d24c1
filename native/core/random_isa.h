// The per-instruction-set entry points of the sampling hot loops (see random_simd.h).
#pragma once
#include "philox.h"

namespace kx {

struct RandomIsaTable {
  void (*words)(const Rng& rng, int64_t offset, int64_t n, uint32_t* out);
  void (*uniform_f32)(const Rng& rng, int64_t offset, int64_t n, float* out);
  void (*bernoulli_u8)(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out);
  void (*dropout_f32)(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, float scale,
                      const float* x, float* out, uint8_t* mask);
  void (*dropout_f64)(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, double scale,
                      const double* x, double* out, uint8_t* mask);
  void (*normal_f32)(const Rng& rng, int64_t offset, int64_t n, double mean, double std, float* out);
  void (*normal_f64)(const Rng& rng, int64_t offset, int64_t n, double mean, double std, double* out);
};

extern const RandomIsaTable random_table_portable;  // scalar, or wasm simd128 in the wasm build
#if defined(__x86_64__) || defined(_M_X64)
#define KX_HAVE_X86_TABLES 1
extern const RandomIsaTable random_table_sse2;
extern const RandomIsaTable random_table_avx2;
#endif

}  // namespace kx

#define KX_DEFINE_RANDOM_TABLE(name)                                                       \
  namespace kx {                                                                           \
  const RandomIsaTable name = {&KX_ISA_NS::words_range, &KX_ISA_NS::uniform_f32_range,     \
                               &KX_ISA_NS::bernoulli_u8_range, &KX_ISA_NS::dropout_range<float>, \
                               &KX_ISA_NS::dropout_range<double>,                          \
                               &KX_ISA_NS::normal_range<float>, &KX_ISA_NS::normal_range<double>}; \
  }
