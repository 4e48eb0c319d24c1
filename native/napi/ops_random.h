#pragma once
#include <napi.h>

namespace kxnapi {
// The CPU sampling kernels, as name / nameAsync pairs on `exports`.
void register_random_ops(Napi::Env env, Napi::Object exports);
// The CUDA sampling kernels on the `cuda` object (nothing without KX_WITH_CUDA).
void register_cuda_random_ops(Napi::Env env, Napi::Object cuda);
}  // namespace kxnapi
