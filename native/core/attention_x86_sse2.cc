// The float32 attention kernel for baseline x86-64 (SSE2, 4 lanes, no FMA).
#define KX_ISA_SSE2 1
#define KX_ISA_NS sse2
#include "attention_simd.h"
#include "attention_isa.h"
KX_DEFINE_ATTENTION_TABLE(attention_table_sse2)
