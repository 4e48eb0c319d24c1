// N-API binding of the sector-probability Monte-Carlo kernel (native/core/sector.h,
// Kernels.sectorMc in lib/backends/types.ts). Positional arguments:
//   sectorMc(rng, n, trialOffset, trials, threshold, hits)
//       rng Uint32Array [seedLo, seedHi, streamLo, streamHi]; n, trialOffset, trials, threshold
//       integers (threshold in [0, 2^32], in units of 2^-32 turn); hits Float64Array (>= 1
//       element): hits[0] = the number of trials whose largest circular gap is >= threshold.
//   cuda.sectorMc / cuda.sectorMcAsync (CUDA builds): the same arguments on kx::cuda::sector_mc.
#include "ops_sector.h"

#include <string>

#include "op_call.h"
#include "sector.h"
#if defined(KX_WITH_CUDA)
#include "kx_cuda.h"
#endif

namespace kxnapi {

namespace {

template <bool Cuda>
bool parse_sector_mc(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t n, offset, trials;
  double threshold;
  void* h = nullptr;
  size_t nh;
  if (!arg_rng(info, 0, &rng) || !arg_int64(info, 1, "n", &n) || !arg_int64(info, 2, "trialOffset", &offset) ||
      !arg_int64(info, 3, "trials", &trials) || !arg_number(info, 4, "threshold", &threshold) ||
      !arg_typed(info, 5, napi_float64_array, "hits", &h, &nh, call))
    return false;
  if (nh < 1) return throw_range(info, "kexue native sectorMc: ", "hits must have at least one element", "E_SHAPE");
  uint64_t t;
  const char* why = nullptr;
  if (kx::sector_mc_check(n, offset, trials, threshold, &t, &why) != kx::OK)
    return throw_range(info, "kexue native sectorMc: ", why, "E_RANGE");
  double* hits = static_cast<double*>(h);
#if defined(KX_WITH_CUDA)
  if (Cuda) {
    call->run = [=](std::string* err) {
      char buf[512] = {0};
      int64_t count = 0;
      const kx::Status s = kx::cuda::sector_mc(rng, n, offset, trials, threshold, &count, buf, sizeof buf);
      if (s != kx::OK) *err = std::string("kexue cuda sectorMc: ") + buf;
      else hits[0] = (double)count;
      return s;
    };
    return true;
  }
#endif
  call->run = [=](std::string* err) {
    const char* w = nullptr;
    int64_t count = 0;
    const kx::Status s = kx::sector_mc(pool(), rng, n, offset, trials, threshold, &count, &w);
    if (s != kx::OK && w != nullptr) *err = std::string("kexue native sectorMc: ") + w;
    if (s == kx::OK) hits[0] = (double)count;
    return s;
  };
  return true;
}

}  // namespace

void register_sector_ops(Napi::Env env, Napi::Object exports) { KX_EXPORT_OP(exports, "sectorMc", parse_sector_mc<false>); }

void register_cuda_sector_ops(Napi::Env env, Napi::Object cuda) {
#if defined(KX_WITH_CUDA)
  KX_EXPORT_OP(cuda, "sectorMc", parse_sector_mc<true>);
#else
  (void)env;
  (void)cuda;
#endif
}

}  // namespace kxnapi
