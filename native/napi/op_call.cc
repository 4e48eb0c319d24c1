#include "op_call.h"

#include "thread_pool.h"

#include "philox.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <stdlib.h>
#endif

namespace kxnapi {

const char* status_code(kx::Status s) { return kx::status_name(s); }

bool throw_range(const Napi::CallbackInfo& info, const std::string& prefix, const std::string& msg, const char* code) {
  Napi::RangeError e = Napi::RangeError::New(info.Env(), prefix + msg);
  e.Set("code", Napi::String::New(info.Env(), code));
  e.ThrowAsJavaScriptException();
  return false;
}

const kx::Exec* pool() { return ThreadPool::instance().exec(); }

Napi::Error make_error(Napi::Env env, kx::Status s, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg.empty() ? std::string("kexue native kernel failed: ") + status_code(s) : msg);
  e.Set("code", Napi::String::New(env, status_code(s)));
  return e;
}

namespace {

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, OpCall&& call)
      : Napi::AsyncWorker(env, "kexue"), call_(std::move(call)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { status_ = call_.run(&err_); }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (status_ == kx::OK)
      deferred_.Resolve(Env().Undefined());
    else
      deferred_.Reject(make_error(Env(), status_, err_).Value());
    call_.keep.clear();
  }

 private:
  OpCall call_;
  Napi::Promise::Deferred deferred_;
  kx::Status status_ = kx::E_INTERNAL;
  std::string err_;
};

void throw_type(const Napi::CallbackInfo& info, const std::string& msg) {
  Napi::TypeError e = Napi::TypeError::New(info.Env(), msg);
  e.Set("code", Napi::String::New(info.Env(), "E_DTYPE"));
  e.ThrowAsJavaScriptException();
}

const char* type_name(napi_typedarray_type t) {
  switch (t) {
    case napi_uint8_array: return "Uint8Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    default: return "typed array";
  }
}

}  // namespace

Napi::Value run_sync(const Napi::CallbackInfo& info, ParseFn parse) {
  OpCall call;
  if (!parse(info, &call)) return info.Env().Undefined();
  std::string err;
  const kx::Status s = call.run(&err);
  if (s != kx::OK) make_error(info.Env(), s, err).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

Napi::Value run_async(const Napi::CallbackInfo& info, ParseFn parse) {
  OpCall call;
  if (!parse(info, &call)) return info.Env().Undefined();
  OpWorker* w = new OpWorker(info.Env(), std::move(call));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

bool arg_typed(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what,
               void** data, size_t* length, OpCall* call, bool nullable) {
  Napi::Value v = info[i];
  if (nullable && (v.IsNull() || v.IsUndefined())) {
    *data = nullptr;
    *length = 0;
    return true;
  }
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_type(info, std::string("kexue native: argument ") + std::to_string(i) + " (" + what + ") must be a " +
                         type_name(type));
    return false;
  }
  // napi_get_typedarray_info gives the view's data already offset, for an ArrayBuffer and a
  // SharedArrayBuffer alike (TypedArray::ArrayBuffer() fails on the latter); a detached buffer
  // has no data.
  napi_typedarray_type t;
  size_t len = 0, offset = 0;
  void* p = nullptr;
  napi_value ab = nullptr;
  if (napi_get_typedarray_info(info.Env(), v, &t, &len, &p, &ab, &offset) != napi_ok || (p == nullptr && len > 0)) {
    throw_type(info, std::string("kexue native: argument ") + std::to_string(i) + " (" + what +
                         ") has no readable memory (a detached buffer?)");
    return false;
  }
  *length = len;
  *data = p;
  call->keep.emplace_back(Napi::Persistent(v));
  return true;
}

double* own_copy(OpCall* call, const double* p, size_t n) {
  call->owned.emplace_back(p, p + n);
  return call->owned.back().data();
}

bool arg_float64(const Napi::CallbackInfo& info, size_t i, const char* what, double** data, size_t* length,
                 OpCall* call, bool nullable) {
  void* d = nullptr;
  if (!arg_typed(info, i, napi_float64_array, what, &d, length, call, nullable)) return false;
  *data = static_cast<double*>(d);
  return true;
}

bool bytes_overlap(const void* a, size_t na, const void* b, size_t nb) {
  if (na == 0 || nb == 0) return false;
  const char *pa = static_cast<const char*>(a), *pb = static_cast<const char*>(b);
  return pa < pb + nb && pb < pa + na;
}

bool arg_number(const Napi::CallbackInfo& info, size_t i, const char* what, double* out) {
  if (!info[i].IsNumber()) {
    throw_type(info, std::string("kexue native: argument ") + std::to_string(i) + " (" + what + ") must be a number");
    return false;
  }
  *out = info[i].As<Napi::Number>().DoubleValue();
  return true;
}

bool arg_int64(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t* out) {
  double d;
  if (!arg_number(info, i, what, &d)) return false;
  if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != (double)(int64_t)d) {
    Napi::RangeError e = Napi::RangeError::New(info.Env(), std::string("kexue native: argument ") + std::to_string(i) +
                                                               " (" + what + ") must be a safe integer");
    e.Set("code", Napi::String::New(info.Env(), "E_RANGE"));
    e.ThrowAsJavaScriptException();
    return false;
  }
  *out = (int64_t)d;
  return true;
}

bool arg_rng(const Napi::CallbackInfo& info, size_t i, void* rng_out) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      v.As<Napi::TypedArray>().ElementLength() != 4) {
    throw_type(info, std::string("kexue native: argument ") + std::to_string(i) +
                         " (rng) must be a Uint32Array [seedLo, seedHi, streamLo, streamHi]");
    return false;
  }
  Napi::Uint32Array a = v.As<Napi::Uint32Array>();
  kx::Rng* r = static_cast<kx::Rng*>(rng_out);
  r->key[0] = a[0];
  r->key[1] = a[1];
  r->stream[0] = a[2];
  r->stream[1] = a[3];
  return true;
}

void hint_huge_pages(void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  if (bytes < 4 * kHuge) return;
  const uintptr_t b = ((uintptr_t)data + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t e = ((uintptr_t)data + bytes) & ~(kHuge - 1);
  static const bool enabled = [] {
    const char* e = getenv("KEXUE_HUGE_PAGES");  // "0" turns the hint off
    return e == nullptr || e[0] != '0';
  }();
  if (!enabled) return;
  if (e > b) madvise((void*)b, e - b, MADV_HUGEPAGE);  // a hint: failure changes nothing
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace kxnapi
