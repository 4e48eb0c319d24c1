// N-API bindings of attention (native/core/attention.h). The single argument is the object that
// lib/ops/attention.ts builds (AttentionArgs / AttentionBackwardArgs in lib/backends/types.ts);
// every size is checked again here against the arrays' lengths before a kernel sees it.
#include "ops_attention.h"

#include "attention.h"
#include "op_call.h"
#include "thread_pool.h"
#if defined(KX_WITH_CUDA)
#include "kx_cuda.h"
#endif

namespace kxnapi {

namespace {

bool bad(const Napi::Env& env, const std::string& msg, const char* code = "E_SHAPE") {
  Napi::RangeError e = Napi::RangeError::New(env, "kexue native attention: " + msg);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
  return false;
}

struct ObjReader {
  Napi::Object o;
  OpCall* call;
  bool ok = true;

  int64_t i64(const char* key) {
    if (!ok) return 0;
    Napi::Value v = o.Get(key);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(int64_t)d) {
      ok = bad(o.Env(), std::string(key) + " must be a non-negative integer");
      return 0;
    }
    return (int64_t)d;
  }
  double num(const char* key) {
    if (!ok) return 0;
    Napi::Value v = o.Get(key);
    if (!v.IsNumber()) {
      ok = bad(o.Env(), std::string(key) + " must be a number", "E_DTYPE");
      return 0;
    }
    return v.As<Napi::Number>().DoubleValue();
  }
  // A typed array of the given type (or, with nullable, null/undefined -> nullptr) of length n
  // (n < 0: any length, returned in *len).
  void* arr(const char* key, napi_typedarray_type type, int64_t n, bool nullable = false, size_t* len = nullptr) {
    if (!ok) return nullptr;
    Napi::Value v = o.Get(key);
    if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
      ok = bad(o.Env(), std::string(key) + " has the wrong type", "E_DTYPE");
      return nullptr;
    }
    // napi_get_typedarray_info: the data already offset, for shared buffers too (see arg_typed)
    napi_typedarray_type t;
    size_t count = 0, offset = 0;
    void* data = nullptr;
    napi_value ab = nullptr;
    if (napi_get_typedarray_info(o.Env(), v, &t, &count, &data, &ab, &offset) != napi_ok || (data == nullptr && count > 0)) {
      ok = bad(o.Env(), std::string(key) + " has no readable memory (a detached buffer?)", "E_DTYPE");
      return nullptr;
    }
    if (n >= 0 && (int64_t)count != n) {
      ok = bad(o.Env(), std::string(key) + " has " + std::to_string(count) + " elements, expected " + std::to_string(n));
      return nullptr;
    }
    if (len != nullptr) *len = count;
    call->keep.emplace_back(Napi::Persistent(v));
    return data;
  }
  void strides(const char* key, int64_t out[4]) {
    if (!ok) return;
    Napi::Value v = o.Get(key);
    if (!v.IsArray() || v.As<Napi::Array>().Length() != 4) {
      ok = bad(o.Env(), std::string(key) + " must be 4 strides");
      return;
    }
    for (uint32_t i = 0; i < 4; ++i) {
      Napi::Value s = v.As<Napi::Array>().Get(i);
      const double d = s.IsNumber() ? s.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(int64_t)d) {
        ok = bad(o.Env(), std::string(key) + " must hold non-negative integers");
        return;
      }
      out[i] = (int64_t)d;
    }
  }
};

// Largest element index a [B, H, Nq, Nk] walk through these strides reads, plus one.
int64_t extent(const int64_t dims[4], const int64_t st[4]) {
  int64_t e = 1;
  for (int i = 0; i < 4; ++i) {
    if (dims[i] == 0) return 0;
    e += (dims[i] - 1) * st[i];
  }
  return e;
}

template <class T>
bool read_inputs(ObjReader& r, napi_typedarray_type ft, kx::AttentionParams<T>* p) {
  p->B = r.i64("B"), p->H = r.i64("H"), p->Hkv = r.i64("Hkv"), p->Nq = r.i64("Nq"), p->Nk = r.i64("Nk");
  p->D = r.i64("D"), p->Dv = r.i64("Dv");
  if (!r.ok) return false;
  if (p->Hkv < 1 || p->H % p->Hkv != 0) return bad(r.o.Env(), "H must be a multiple of Hkv >= 1");
  p->q = (const T*)r.arr("q", ft, p->B * p->H * p->Nq * p->D);
  p->k = (const T*)r.arr("k", ft, p->B * p->Hkv * p->Nk * p->D);
  p->v = (const T*)r.arr("v", ft, p->B * p->Hkv * p->Nk * p->Dv);
  p->head_kind = (const int32_t*)r.arr("headKinds", napi_int32_array, p->H);
  p->key_lengths = (const int32_t*)r.arr("keyLengths", napi_int32_array, p->B, true);
  const int64_t dims[4] = {p->B, p->H, p->Nq, p->Nk};
  size_t n = 0;
  p->mask = (const uint8_t*)r.arr("mask", napi_uint8_array, -1, true, &n);
  r.strides("maskStrides", p->mask_stride);
  if (r.ok && p->mask != nullptr && extent(dims, p->mask_stride) > (int64_t)n) return bad(r.o.Env(), "mask strides reach past the mask");
  p->bias = (const T*)r.arr("bias", ft, -1, true, &n);
  r.strides("biasStrides", p->bias_stride);
  if (r.ok && p->bias != nullptr && extent(dims, p->bias_stride) > (int64_t)n) return bad(r.o.Env(), "bias strides reach past the bias");
  p->scale = r.num("scale");
  const uint32_t* rng = (const uint32_t*)r.arr("dropoutRng", napi_uint32_array, 4, true);
  p->dropout = rng != nullptr;
  if (rng != nullptr) {
    p->dropout_rng.key[0] = rng[0], p->dropout_rng.key[1] = rng[1];
    p->dropout_rng.stream[0] = rng[2], p->dropout_rng.stream[1] = rng[3];
  }
  const int64_t thr = r.i64("dropoutThreshold");
  if (r.ok && thr > (1 << 24)) return bad(r.o.Env(), "dropoutThreshold must be at most 2^24", "E_RANGE");
  p->dropout_threshold = (uint32_t)thr;
  p->dropout_scale = r.num("dropoutScale");
  return r.ok;
}

bool is_f64(const Napi::Object& o) {
  Napi::Value q = o.Get("q");
  return q.IsTypedArray() && q.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array;
}

template <class T, bool Cuda>
bool parse_forward_t(Napi::Object o, OpCall* call, napi_typedarray_type ft) {
  ObjReader r{o, call};
  kx::AttentionParams<T> p{};
  if (!read_inputs(r, ft, &p)) return false;
  p.out = (T*)r.arr("out", ft, p.B * p.H * p.Nq * p.Dv);
  p.lse = (T*)r.arr("lse", ft, p.B * p.H * p.Nq, true);
  p.probs = (T*)r.arr("probs", ft, p.B * p.H * p.Nq * p.Nk, true);
  if (!r.ok) return false;
  call->run = [p](std::string* err) {
    (void)err;
    const kx::Exec* ex = ThreadPool::instance().exec();
    if constexpr (sizeof(T) == 4) {
#if defined(KX_WITH_CUDA)
      if (Cuda) {
        char buf[512] = {0};
        const kx::Status s = kx::cuda::attention_f32(p, buf, sizeof buf);
        if (s != kx::OK) *err = buf;
        return s;
      }
#endif
      return kx::attention_f32(ex, p);
    } else {
      return kx::attention_f64(ex, p);  // the cuda backend runs float64 on the CPU kernel
    }
  };
  return true;
}

template <bool Cuda>
bool parse_forward(const Napi::CallbackInfo& info, OpCall* call) {
  if (!info[0].IsObject()) return bad(info.Env(), "takes one arguments object", "E_DTYPE");
  Napi::Object o = info[0].As<Napi::Object>();
  return is_f64(o) ? parse_forward_t<double, Cuda>(o, call, napi_float64_array)
                   : parse_forward_t<float, Cuda>(o, call, napi_float32_array);
}

template <class T>
bool parse_backward_t(Napi::Object o, OpCall* call, napi_typedarray_type ft) {
  ObjReader r{o, call};
  kx::AttentionBackwardParams<T> p{};
  if (!read_inputs(r, ft, &p.f)) return false;
  const kx::AttentionParams<T>& f = p.f;
  p.d_out = (const T*)r.arr("dOut", ft, f.B * f.H * f.Nq * f.Dv);
  p.dq = (T*)r.arr("dq", ft, f.B * f.H * f.Nq * f.D);
  p.dk = (T*)r.arr("dk", ft, f.B * f.Hkv * f.Nk * f.D);
  p.dv = (T*)r.arr("dv", ft, f.B * f.Hkv * f.Nk * f.Dv);
  if (!r.ok) return false;
  call->run = [p](std::string*) {
    const kx::Exec* ex = ThreadPool::instance().exec();
    if constexpr (sizeof(T) == 4) return kx::attention_backward_f32(ex, p);
    else return kx::attention_backward_f64(ex, p);
  };
  return true;
}

bool parse_backward(const Napi::CallbackInfo& info, OpCall* call) {
  if (!info[0].IsObject()) return bad(info.Env(), "takes one arguments object", "E_DTYPE");
  Napi::Object o = info[0].As<Napi::Object>();
  return is_f64(o) ? parse_backward_t<double>(o, call, napi_float64_array) : parse_backward_t<float>(o, call, napi_float32_array);
}

}  // namespace

void register_attention_ops(Napi::Env env, Napi::Object exports) {
  KX_EXPORT_OP(exports, "attention", parse_forward<false>);
  KX_EXPORT_OP(exports, "attentionBackward", parse_backward);
}

void register_cuda_attention_ops(Napi::Env env, Napi::Object cuda) {
#if defined(KX_WITH_CUDA)
  KX_EXPORT_OP(cuda, "attention", parse_forward<true>);
#else
  (void)env;
  (void)cuda;
#endif
}

}  // namespace kxnapi
