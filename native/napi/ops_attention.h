#pragma once
#include <napi.h>

namespace kxnapi {
// attention / attentionAsync and attentionBackward / attentionBackwardAsync on `exports`.
void register_attention_ops(Napi::Env env, Napi::Object exports);
// The CUDA float32 forward on the `cuda` object (nothing without KX_WITH_CUDA).
void register_cuda_attention_ops(Napi::Env env, Napi::Object cuda);
}  // namespace kxnapi
