// Sampling hot loops for x86-64-v3 (AVX2, 8 lanes). Compiled with -march=x86-64-v3; only called
// after a CPU check (random.cc), and everything here lives in namespace kx::avx2 so no inline
// function compiled for AVX2 can stand in for a baseline one at link time.
#define KX_ISA_AVX2 1
#define KX_ISA_NS avx2
#include "random_simd.h"
#include "random_isa.h"
KX_DEFINE_RANDOM_TABLE(random_table_avx2)
