// Error plumbing shared by the CUDA sources: every CUDA call is checked, and a failure becomes a
// Status plus a message in the caller's err buffer (never an abort). Internal to native/cuda.
#pragma once
#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdio.h>

#include "kx_cuda.h"

namespace kx {
namespace cuda {
namespace util {

inline void put(char* err, size_t len, const char* fmt, ...) {
  if (err == nullptr || len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
}

inline Status cuda_fail(cudaError_t e, const char* what, char* err, size_t errlen) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  put(err, errlen, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
  return e == cudaErrorMemoryAllocation ? E_OOM : E_BACKEND;
}

}  // namespace util
}  // namespace cuda
}  // namespace kx

// Returns from the calling function (which has `err` and `errlen` in scope) on a CUDA error.
#define KX_CU(call, what)                                                                \
  do {                                                                                   \
    const cudaError_t kx_e_ = (call);                                                    \
    if (kx_e_ != cudaSuccess) return ::kx::cuda::util::cuda_fail(kx_e_, what, err, errlen); \
  } while (0)
