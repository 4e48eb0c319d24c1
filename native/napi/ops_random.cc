// N-API bindings of the sampling kernels (native/core/random.h and, with KX_WITH_CUDA,
// native/cuda/kx_cuda.h). lib/backends/native.ts is the only caller: it has already checked
// every argument; the checks here keep a wrong call from reaching a kernel.
#include "ops_random.h"

#include "op_call.h"
#include "random.h"
#include "thread_pool.h"
#if defined(KX_WITH_CUDA)
#include "kx_cuda.h"
#endif

namespace kxnapi {

namespace {

bool fail(const Napi::CallbackInfo& info, const std::string& msg, const char* code = "E_SHAPE") {
  return throw_range(info, "kexue native: ", msg, code);
}

// A Float32Array or Float64Array argument.
bool arg_float(const Napi::CallbackInfo& info, size_t i, const char* what, void** data, size_t* len,
               bool* is64, OpCall* call) {
  if (info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
    *is64 = true;
    return arg_typed(info, i, napi_float64_array, what, data, len, call);
  }
  *is64 = false;
  return arg_typed(info, i, napi_float32_array, what, data, len, call);
}

// philox(counter: Uint32Array(4), key: Uint32Array(2), out: Uint32Array(4))
bool parse_philox(const Napi::CallbackInfo& info, OpCall* call) {
  void *c, *k, *o;
  size_t nc, nk, no;
  if (!arg_typed(info, 0, napi_uint32_array, "counter", &c, &nc, call) ||
      !arg_typed(info, 1, napi_uint32_array, "key", &k, &nk, call) ||
      !arg_typed(info, 2, napi_uint32_array, "out", &o, &no, call))
    return false;
  if (nc != 4 || nk != 2 || no != 4) return fail(info, "philox takes counter[4], key[2], out[4]");
  call->run = [c, k, o](std::string*) {
    kx::philox4x32_10((const uint32_t*)c, (const uint32_t*)k, (uint32_t*)o);
    return kx::OK;
  };
  return true;
}

// Common head of the elementwise ops: (rng, offset, ...).
bool head(const Napi::CallbackInfo& info, kx::Rng* rng, int64_t* offset) {
  if (!arg_rng(info, 0, rng) || !arg_int64(info, 1, "offset", offset)) return false;
  if (*offset < 0) return fail(info, "offset must be >= 0", "E_RANGE");
  return true;
}

#if defined(KX_WITH_CUDA)
// Wraps a CUDA call that writes its message into a char buffer.
template <class F>
kx::Status with_err(std::string* err, F f) {
  char buf[512] = {0};
  const kx::Status s = f(buf, sizeof buf);
  if (s != kx::OK) *err = buf;
  return s;
}
#define KX_ON(cuda_expr, cpu_expr) (Cuda ? with_err(err, [&](char* eb, size_t el) { return cuda_expr; }) : (cpu_expr))
#else
#define KX_ON(cuda_expr, cpu_expr) (cpu_expr)
#endif

// words(rng, offset, out: Uint32Array)
template <bool Cuda>
bool parse_words(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t offset;
  void* out;
  size_t n;
  if (!head(info, &rng, &offset) || !arg_typed(info, 2, napi_uint32_array, "out", &out, &n, call)) return false;
  hint_huge_pages(out, n * 4);
  call->run = [=](std::string* err) {
    (void)err;
    return KX_ON(kx::cuda::random_words(rng, offset, (int64_t)n, (uint32_t*)out, eb, el),
                 kx::random_words(pool(), rng, offset, (int64_t)n, (uint32_t*)out));
  };
  return true;
}

// uniform(rng, offset, out: Float32Array | Float64Array)
template <bool Cuda>
bool parse_uniform(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t offset;
  void* out;
  size_t n;
  bool is64;
  if (!head(info, &rng, &offset) || !arg_float(info, 2, "out", &out, &n, &is64, call)) return false;
  hint_huge_pages(out, n * (is64 ? 8 : 4));
  call->run = [=](std::string* err) {
    (void)err;
    if (is64)
      return KX_ON(kx::cuda::uniform_f64(rng, offset, (int64_t)n, (double*)out, eb, el),
                   kx::uniform_f64(pool(), rng, offset, (int64_t)n, (double*)out));
    return KX_ON(kx::cuda::uniform_f32(rng, offset, (int64_t)n, (float*)out, eb, el),
                 kx::uniform_f32(pool(), rng, offset, (int64_t)n, (float*)out));
  };
  return true;
}

// normal(rng, offset, mean, std, out: Float32Array | Float64Array)
template <bool Cuda>
bool parse_normal(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t offset;
  double mean, std;
  void* out;
  size_t n;
  bool is64;
  if (!head(info, &rng, &offset) || !arg_number(info, 2, "mean", &mean) || !arg_number(info, 3, "std", &std) ||
      !arg_float(info, 4, "out", &out, &n, &is64, call))
    return false;
  hint_huge_pages(out, n * (is64 ? 8 : 4));
  call->run = [=](std::string* err) {
    (void)err;
    if (is64)
      return KX_ON(kx::cuda::normal_f64(rng, offset, (int64_t)n, mean, std, (double*)out, eb, el),
                   kx::normal_f64(pool(), rng, offset, (int64_t)n, mean, std, (double*)out));
    return KX_ON(kx::cuda::normal_f32(rng, offset, (int64_t)n, mean, std, (float*)out, eb, el),
                 kx::normal_f32(pool(), rng, offset, (int64_t)n, mean, std, (float*)out));
  };
  return true;
}

bool arg_threshold(const Napi::CallbackInfo& info, size_t i, uint32_t* t) {
  int64_t v;
  if (!arg_int64(info, i, "threshold", &v)) return false;
  if (v < 0 || v > (1 << 24)) return fail(info, "threshold must be in [0, 2^24]", "E_RANGE");
  *t = (uint32_t)v;
  return true;
}

// bernoulli(rng, offset, threshold, out: Uint8Array)
template <bool Cuda>
bool parse_bernoulli(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t offset;
  uint32_t thr = 0;
  void* out;
  size_t n;
  if (!head(info, &rng, &offset) || !arg_threshold(info, 2, &thr) ||
      !arg_typed(info, 3, napi_uint8_array, "out", &out, &n, call))
    return false;
  hint_huge_pages(out, n);
  call->run = [=](std::string* err) {
    (void)err;
    return KX_ON(kx::cuda::bernoulli_u8(rng, offset, (int64_t)n, thr, (uint8_t*)out, eb, el),
                 kx::bernoulli_u8(pool(), rng, offset, (int64_t)n, thr, (uint8_t*)out));
  };
  return true;
}

// dropout(rng, offset, threshold, scale, x, out, mask: Uint8Array | null)
template <bool Cuda>
bool parse_dropout(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t offset;
  uint32_t thr = 0;
  double scale;
  void *x, *out, *mask;
  size_t nx, n, nm;
  bool x64, o64;
  if (!head(info, &rng, &offset) || !arg_threshold(info, 2, &thr) || !arg_number(info, 3, "scale", &scale) ||
      !arg_float(info, 4, "x", &x, &nx, &x64, call) || !arg_float(info, 5, "out", &out, &n, &o64, call) ||
      !arg_typed(info, 6, napi_uint8_array, "mask", &mask, &nm, call, true))
    return false;
  if (x64 != o64) return fail(info, "dropout: x and out must have the same dtype", "E_DTYPE");
  if (nx != n || (mask != nullptr && nm != n)) return fail(info, "dropout: x, out and mask lengths differ");
  if (out != x) hint_huge_pages(out, n * (x64 ? 8 : 4));
  if (mask != nullptr) hint_huge_pages(mask, n);
  call->run = [=](std::string* err) {
    (void)err;
    if (x64)
      return KX_ON(kx::cuda::dropout_f64(rng, offset, (int64_t)n, thr, scale, (const double*)x, (double*)out,
                                         (uint8_t*)mask, eb, el),
                   kx::dropout_f64(pool(), rng, offset, (int64_t)n, thr, scale, (const double*)x, (double*)out,
                                   (uint8_t*)mask));
    return KX_ON(kx::cuda::dropout_f32(rng, offset, (int64_t)n, thr, (float)scale, (const float*)x, (float*)out,
                                       (uint8_t*)mask, eb, el),
                 kx::dropout_f32(pool(), rng, offset, (int64_t)n, thr, (float)scale, (const float*)x, (float*)out,
                                 (uint8_t*)mask));
  };
  return true;
}

// mlmMask(rng, offset, ids, special: Uint8Array[vocab], candidates: Int32Array, maskTokenId,
//         selectThreshold, maskThreshold, randomThreshold, ignoreIndex, inputIds, labels)
bool parse_mlm(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t offset, mask_id, ignore;
  uint32_t t_sel = 0, t_mask = 0, t_rand = 0;
  void *ids, *special, *cand, *in_ids, *labels;
  size_t n, nv, nc, n1, n2;
  if (!head(info, &rng, &offset) || !arg_typed(info, 2, napi_int32_array, "ids", &ids, &n, call) ||
      !arg_typed(info, 3, napi_uint8_array, "special", &special, &nv, call) ||
      !arg_typed(info, 4, napi_int32_array, "candidates", &cand, &nc, call) ||
      !arg_int64(info, 5, "maskTokenId", &mask_id) || !arg_threshold(info, 6, &t_sel) ||
      !arg_threshold(info, 7, &t_mask) || !arg_threshold(info, 8, &t_rand) ||
      !arg_int64(info, 9, "ignoreIndex", &ignore) ||
      !arg_typed(info, 10, napi_int32_array, "inputIds", &in_ids, &n1, call) ||
      !arg_typed(info, 11, napi_int32_array, "labels", &labels, &n2, call))
    return false;
  if (n1 != n || n2 != n) return fail(info, "mlmMask: ids, inputIds and labels lengths differ");
  if (nv == 0 || nv > INT32_MAX || nc > nv) return fail(info, "mlmMask: bad vocabulary tables");
  if (ignore < INT32_MIN || ignore > INT32_MAX) return fail(info, "mlmMask: ignoreIndex must fit int32", "E_RANGE");
  call->run = [=](std::string* err) {
    kx::MlmParams p{};
    p.ids = (const int32_t*)ids;
    p.n = (int64_t)n;
    p.offset = offset;
    p.rng = rng;
    p.special = (const uint8_t*)special;
    p.vocab_size = (int32_t)nv;
    p.candidates = (const int32_t*)cand;
    p.num_candidates = (int32_t)nc;
    p.mask_token_id = (int32_t)mask_id;
    p.select_threshold = t_sel;
    p.mask_threshold = t_mask;
    p.random_threshold = t_rand;
    p.ignore_index = (int32_t)ignore;
    p.input_ids = (int32_t*)in_ids;
    p.labels = (int32_t*)labels;
    const kx::Status s = kx::mlm_mask(pool(), &p);
    if (s == kx::E_RANGE && p.bad_index >= 0)
      *err = "mlmMask: ids[" + std::to_string(p.bad_index) + "] = " + std::to_string(p.ids[p.bad_index]) +
             " is outside [0, " + std::to_string(nv) + ")";
    return s;
  };
  return true;
}

// maeMask(rng, batch, tokens, keep, idsKeep, idsRestore, mask)
bool parse_mae(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t batch, tokens, keep;
  void *ik, *ir, *mk;
  size_t n1, n2, n3;
  if (!arg_rng(info, 0, &rng) || !arg_int64(info, 1, "batch", &batch) || !arg_int64(info, 2, "tokens", &tokens) ||
      !arg_int64(info, 3, "keep", &keep) || !arg_typed(info, 4, napi_int32_array, "idsKeep", &ik, &n1, call) ||
      !arg_typed(info, 5, napi_int32_array, "idsRestore", &ir, &n2, call) ||
      !arg_typed(info, 6, napi_uint8_array, "mask", &mk, &n3, call))
    return false;
  if (batch < 0 || tokens < 0 || keep < 0 || keep > tokens || (int64_t)n1 != batch * keep ||
      (int64_t)n2 != batch * tokens || (int64_t)n3 != batch * tokens)
    return fail(info, "maeMask: output sizes do not match batch, tokens and keep");
  call->run = [=](std::string*) {
    return kx::mae_mask(pool(), rng, batch, tokens, keep, (int32_t*)ik, (int32_t*)ir, (uint8_t*)mk);
  };
  return true;
}

// dropTokens(rng, batch, tokens, dim, keep, x, out, positions)
bool parse_drop_tokens(const Napi::CallbackInfo& info, OpCall* call) {
  kx::Rng rng;
  int64_t batch, tokens, dim, keep;
  void *x, *out, *pos;
  size_t nx, no, np;
  bool x64, o64;
  if (!arg_rng(info, 0, &rng) || !arg_int64(info, 1, "batch", &batch) || !arg_int64(info, 2, "tokens", &tokens) ||
      !arg_int64(info, 3, "dim", &dim) || !arg_int64(info, 4, "keep", &keep) ||
      !arg_float(info, 5, "x", &x, &nx, &x64, call) || !arg_float(info, 6, "out", &out, &no, &o64, call) ||
      !arg_typed(info, 7, napi_int32_array, "positions", &pos, &np, call))
    return false;
  if (x64 != o64) return fail(info, "dropTokens: x and out must have the same dtype", "E_DTYPE");
  if (batch < 0 || tokens < 0 || dim < 0 || keep < 0 || keep > tokens || (int64_t)nx != batch * tokens * dim ||
      (int64_t)no != batch * keep * dim || (int64_t)np != batch * keep)
    return fail(info, "dropTokens: sizes do not match batch, tokens, dim and keep");
  call->run = [=](std::string*) {
    if (x64)
      return kx::drop_tokens_f64(pool(), rng, batch, tokens, dim, keep, (const double*)x, (double*)out, (int32_t*)pos);
    return kx::drop_tokens_f32(pool(), rng, batch, tokens, dim, keep, (const float*)x, (float*)out, (int32_t*)pos);
  };
  return true;
}

// expectedEmbedding(vocab, dim, special, maskId, a, b, c, table, out)
bool parse_expected_embedding(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t vocab, dim, mask_id;
  double a, b, c;
  void *special, *table, *out;
  size_t ns, nt, no;
  bool t64, o64;
  if (!arg_int64(info, 0, "vocab", &vocab) || !arg_int64(info, 1, "dim", &dim) ||
      !arg_typed(info, 2, napi_uint8_array, "special", &special, &ns, call) ||
      !arg_int64(info, 3, "maskTokenId", &mask_id) || !arg_number(info, 4, "a", &a) ||
      !arg_number(info, 5, "b", &b) || !arg_number(info, 6, "c", &c) ||
      !arg_float(info, 7, "table", &table, &nt, &t64, call) || !arg_float(info, 8, "out", &out, &no, &o64, call))
    return false;
  if (t64 != o64) return fail(info, "expectedEmbedding: table and out must have the same dtype", "E_DTYPE");
  if (vocab <= 0 || dim < 0 || (int64_t)ns != vocab || (int64_t)nt != vocab * dim || (int64_t)no != vocab * dim)
    return fail(info, "expectedEmbedding: sizes do not match vocab and dim");
  if (mask_id < 0 || mask_id >= vocab) return fail(info, "expectedEmbedding: maskTokenId out of range", "E_RANGE");
  call->run = [=](std::string*) {
    if (t64)
      return kx::expected_embedding_f64(pool(), vocab, dim, (const uint8_t*)special, (int32_t)mask_id, a, b, c,
                                        (const double*)table, (double*)out);
    return kx::expected_embedding_f32(pool(), vocab, dim, (const uint8_t*)special, (int32_t)mask_id, a, b, c,
                                      (const float*)table, (float*)out);
  };
  return true;
}

}  // namespace

void register_random_ops(Napi::Env env, Napi::Object exports) {
  KX_EXPORT_OP(exports, "philox", parse_philox);
  KX_EXPORT_OP(exports, "words", parse_words<false>);
  KX_EXPORT_OP(exports, "uniform", parse_uniform<false>);
  KX_EXPORT_OP(exports, "normal", parse_normal<false>);
  KX_EXPORT_OP(exports, "bernoulli", parse_bernoulli<false>);
  KX_EXPORT_OP(exports, "dropout", parse_dropout<false>);
  KX_EXPORT_OP(exports, "mlmMask", parse_mlm);
  KX_EXPORT_OP(exports, "maeMask", parse_mae);
  KX_EXPORT_OP(exports, "dropTokens", parse_drop_tokens);
  KX_EXPORT_OP(exports, "expectedEmbedding", parse_expected_embedding);
}

void register_cuda_random_ops(Napi::Env env, Napi::Object cuda) {
#if defined(KX_WITH_CUDA)
  KX_EXPORT_OP(cuda, "words", parse_words<true>);
  KX_EXPORT_OP(cuda, "uniform", parse_uniform<true>);
  KX_EXPORT_OP(cuda, "normal", parse_normal<true>);
  KX_EXPORT_OP(cuda, "bernoulli", parse_bernoulli<true>);
  KX_EXPORT_OP(cuda, "dropout", parse_dropout<true>);
#else
  (void)env;
  (void)cuda;
#endif
}

}  // namespace kxnapi
