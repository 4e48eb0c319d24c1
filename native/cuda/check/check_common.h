// What the CUDA check programs share: a CUDA call checked in a check program's own functions
// (print the error, return 2 — the documented exit code for a CUDA error).
#pragma once
#include <cuda_runtime.h>
#include <stdio.h>

#define CK(call)                                                                        \
  do {                                                                                  \
    cudaError_t e_ = (call);                                                            \
    if (e_ != cudaSuccess) {                                                            \
      printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, __LINE__, \
             cudaGetErrorString(e_));                                                   \
      return 2;                                                                         \
    }                                                                                   \
  } while (0)
