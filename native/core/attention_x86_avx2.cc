// The float32 attention kernel for x86-64-v3 (AVX2 + FMA, 8 lanes); see random_x86_avx2.cc.
#define KX_ISA_AVX2 1
#define KX_ISA_NS avx2
#include "attention_simd.h"
#include "attention_isa.h"
KX_DEFINE_ATTENTION_TABLE(attention_table_avx2)
