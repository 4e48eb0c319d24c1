#pragma once
#include <napi.h>

namespace kxnapi {
// linalgGemm, linalgCholesky, linalgEigvals, linalgW2Trace (and their Async forms) on `exports`.
void register_linalg_ops(Napi::Env env, Napi::Object exports);
}  // namespace kxnapi
