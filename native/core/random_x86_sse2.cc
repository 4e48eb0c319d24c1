// Sampling hot loops for baseline x86-64 (SSE2, 4 lanes): what every x86-64 CPU runs.
#define KX_ISA_SSE2 1
#define KX_ISA_NS sse2
#include "random_simd.h"
#include "random_isa.h"
KX_DEFINE_RANDOM_TABLE(random_table_sse2)
