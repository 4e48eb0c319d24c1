#pragma once
#include <napi.h>

namespace kxnapi {
// linalgGemm, linalgCholesky, linalgEigvals, linalgW2Trace, linalgCholeskyBatch, linalgEigh,
// linalgSqrtm, linalgSolve, linalgFeatureStats (and their Async forms) on `exports`.
void register_linalg_ops(Napi::Env env, Napi::Object exports);
// linalgCholeskyBatch, linalgEigh, linalgSqrtm with GPU paths on the addon's `cuda` object.
void register_cuda_linalg_ops(Napi::Env env, Napi::Object cuda);
}  // namespace kxnapi
