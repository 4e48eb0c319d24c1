// Per-instruction-set entry points of the float32 attention kernel (attention_simd.h).
#pragma once
#include "attention.h"

namespace kx {

struct AttentionIsaTable {
  Status (*attention_f32)(const Exec* ex, const AttentionParams<float>& p);
};

extern const AttentionIsaTable attention_table_portable;
#if defined(__x86_64__) || defined(_M_X64)
extern const AttentionIsaTable attention_table_sse2;
extern const AttentionIsaTable attention_table_avx2;
#endif

}  // namespace kx

#define KX_DEFINE_ATTENTION_TABLE(name) \
  namespace kx {                        \
  const AttentionIsaTable name = {&KX_ISA_NS::attention_f32_run}; \
  }
