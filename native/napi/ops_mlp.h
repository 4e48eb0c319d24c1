#pragma once
#include <napi.h>

namespace kxnapi {
// igMlp (and igMlpAsync) on `exports`: integrated gradients of a built-in MLP (native/core/mlp.h).
void register_mlp_ops(Napi::Env env, Napi::Object exports);
// igMlp (and igMlpAsync) on the addon's `cuda` object (CUDA builds; nothing otherwise).
void register_cuda_mlp_ops(Napi::Env env, Napi::Object cuda);
}  // namespace kxnapi
