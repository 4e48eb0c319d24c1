#pragma once
#include <napi.h>

namespace kxnapi {
// attention / attentionAsync and attentionBackward / attentionBackwardAsync on `exports`.
void register_attention_ops(Napi::Env env, Napi::Object exports);
}  // namespace kxnapi
