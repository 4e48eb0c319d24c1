// Registration of the built-in MLP's training ops (ops_mlp_train.cc).
#pragma once
#include <napi.h>

namespace kxnapi {
// mlpForward, mlpBackward, adam (and their Async forms) on `exports` (native/core/mlp.h).
void register_mlp_train_ops(Napi::Env env, Napi::Object exports);
// The same on the addon's `cuda` object (CUDA builds; nothing otherwise).
void register_cuda_mlp_train_ops(Napi::Env env, Napi::Object cuda);
}  // namespace kxnapi
