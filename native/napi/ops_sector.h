// N-API registration of the sector-probability Monte-Carlo kernel (native/core/sector.h).
#pragma once
#include <napi.h>

namespace kxnapi {
// sectorMc (and sectorMcAsync) on `exports`.
void register_sector_ops(Napi::Env env, Napi::Object exports);
// sectorMc (and sectorMcAsync) on the addon's `cuda` object (CUDA builds; nothing otherwise).
void register_cuda_sector_ops(Napi::Env env, Napi::Object cuda);
}  // namespace kxnapi
