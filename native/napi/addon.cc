// kexue's native addon: module init, backend information and the thread-count and ISA controls.
// The ops are registered by ops_*.cc.
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "ops_attention.h"
#include "ops_linalg.h"
#include "ops_mlp.h"
#include "ops_mlp_train.h"
#include "ops_random.h"
#include "ops_sector.h"
#include "random.h"
#include "thread_pool.h"
#if defined(KX_WITH_CUDA)
#include "kx_cuda.h"
#endif

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", kx::isa_name(kx::isa_active()));
  o.Set("isaBest", kx::isa_name(kx::isa_best_supported()));
  o.Set("threads", kxnapi::ThreadPool::instance().threads());
#if defined(KX_WITH_CUDA)
  o.Set("cudaBuilt", true);
#else
  o.Set("cudaBuilt", false);
#endif
  return o;
}

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(KX_WITH_CUDA)
  char reason[512] = {0};
  const int count = kx::cuda::device_count(reason, sizeof reason);
  o.Set("available", count > 0);
  o.Set("reason", count > 0 ? std::string() : std::string(reason));
  Napi::Array devices = Napi::Array::New(env);
  for (int d = 0; d < count; ++d) {
    char name[256] = {0};
    if (kx::cuda::device_name(d, name, sizeof name) == kx::OK) devices.Set((uint32_t)d, std::string(name));
  }
  o.Set("devices", devices);
#else
  o.Set("available", false);
  o.Set("reason", "this addon was built without CUDA (run `npm run build:cuda` where nvcc is installed)");
  o.Set("devices", Napi::Array::New(env));
#endif
  return o;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "setNumThreads takes a number").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  kxnapi::ThreadPool::instance().set_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), kxnapi::ThreadPool::instance().threads());
}

bool parse_isa(const std::string& s, kx::Isa* out) {
  if (s == "scalar") *out = kx::ISA_SCALAR;
  else if (s == "sse2") *out = kx::ISA_SSE2;
  else if (s == "avx2") *out = kx::ISA_AVX2;
  else return false;
  return true;
}

// setIsaLimit('scalar' | 'sse2' | 'avx2'): never use a wider instruction set than this (tests).
Napi::Value SetIsaLimit(const Napi::CallbackInfo& info) {
  kx::Isa isa;
  if (!info[0].IsString() || !parse_isa(info[0].As<Napi::String>().Utf8Value(), &isa)) {
    Napi::TypeError::New(info.Env(), "setIsaLimit takes 'scalar', 'sse2' or 'avx2'").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  kx::set_isa_limit(isa);
  return Napi::String::New(info.Env(), kx::isa_name(kx::isa_active()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (const char* e = std::getenv("KEXUE_ISA")) {
    kx::Isa isa;
    if (parse_isa(e, &isa)) kx::set_isa_limit(isa);
  }
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setIsaLimit", Napi::Function::New(env, SetIsaLimit, "setIsaLimit"));
  kxnapi::register_random_ops(env, exports);
  kxnapi::register_attention_ops(env, exports);
  kxnapi::register_linalg_ops(env, exports);
  kxnapi::register_mlp_ops(env, exports);
  kxnapi::register_sector_ops(env, exports);
  kxnapi::register_mlp_train_ops(env, exports);
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("info", Napi::Function::New(env, CudaInfo, "info"));
  kxnapi::register_cuda_random_ops(env, cuda);
  kxnapi::register_cuda_attention_ops(env, cuda);
  kxnapi::register_cuda_linalg_ops(env, cuda);
  kxnapi::register_cuda_mlp_ops(env, cuda);
  kxnapi::register_cuda_sector_ops(env, cuda);
  kxnapi::register_cuda_mlp_train_ops(env, cuda);
  exports.Set("cuda", cuda);
  return exports;
}

}  // namespace

NODE_API_MODULE(kexue, Init)
