// The WebAssembly build's export list: thin extern "C" wrappers over native/core, with plain
// number arguments (64-bit sizes and offsets travel as doubles, exact below 2^53, so the JS side
// needs no BigInt). Memory comes from wasi-libc's malloc, which grows the module's memory.
// lib/backends/wasm.ts is the only caller.
#include <stdlib.h>

#include "attention.h"
#include "linalg.h"
#include "mlp.h"
#include "philox.h"
#include "random.h"
#include "sector.h"

extern "C" {

void* kx_host_alloc(size_t bytes) { return malloc(bytes == 0 ? 1 : bytes); }
void kx_host_free(void* p) { free(p); }

#define KX_EXPORT(name) __attribute__((export_name(#name))) name

static int64_t g_bad_index = -1;

static kx::Rng rng_of(const uint32_t* r) {
  kx::Rng rng;
  rng.key[0] = r[0];
  rng.key[1] = r[1];
  rng.stream[0] = r[2];
  rng.stream[1] = r[3];
  return rng;
}

void* KX_EXPORT(kx_alloc)(uint32_t bytes) { return malloc(bytes == 0 ? 1 : bytes); }
void KX_EXPORT(kx_free)(void* p) { free(p); }
int32_t KX_EXPORT(kx_isa)() { return (int32_t)kx::isa_active(); }
double KX_EXPORT(kx_bad_index)() { return (double)g_bad_index; }

void KX_EXPORT(kx_philox)(const uint32_t* ctr, const uint32_t* key, uint32_t* out) {
  kx::philox4x32_10(ctr, key, out);
}

int32_t KX_EXPORT(kx_words)(const uint32_t* rng, double offset, uint32_t n, uint32_t* out) {
  return kx::random_words(nullptr, rng_of(rng), (int64_t)offset, n, out);
}

int32_t KX_EXPORT(kx_uniform_f32)(const uint32_t* rng, double offset, uint32_t n, float* out) {
  return kx::uniform_f32(nullptr, rng_of(rng), (int64_t)offset, n, out);
}

int32_t KX_EXPORT(kx_uniform_f64)(const uint32_t* rng, double offset, uint32_t n, double* out) {
  return kx::uniform_f64(nullptr, rng_of(rng), (int64_t)offset, n, out);
}

int32_t KX_EXPORT(kx_normal_f32)(const uint32_t* rng, double offset, uint32_t n, double mean, double std, float* out) {
  return kx::normal_f32(nullptr, rng_of(rng), (int64_t)offset, n, mean, std, out);
}

int32_t KX_EXPORT(kx_normal_f64)(const uint32_t* rng, double offset, uint32_t n, double mean, double std, double* out) {
  return kx::normal_f64(nullptr, rng_of(rng), (int64_t)offset, n, mean, std, out);
}

int32_t KX_EXPORT(kx_bernoulli)(const uint32_t* rng, double offset, uint32_t n, uint32_t thr, uint8_t* out) {
  return kx::bernoulli_u8(nullptr, rng_of(rng), (int64_t)offset, n, thr, out);
}

int32_t KX_EXPORT(kx_dropout_f32)(const uint32_t* rng, double offset, uint32_t n, uint32_t thr, double scale,
                                  const float* x, float* out, uint8_t* mask) {
  return kx::dropout_f32(nullptr, rng_of(rng), (int64_t)offset, n, thr, (float)scale, x, out, mask);
}

int32_t KX_EXPORT(kx_dropout_f64)(const uint32_t* rng, double offset, uint32_t n, uint32_t thr, double scale,
                                  const double* x, double* out, uint8_t* mask) {
  return kx::dropout_f64(nullptr, rng_of(rng), (int64_t)offset, n, thr, scale, x, out, mask);
}

int32_t KX_EXPORT(kx_mlm)(const uint32_t* rng, double offset, uint32_t n, const int32_t* ids, const uint8_t* special,
                          int32_t vocab, const int32_t* cand, int32_t ncand, int32_t mask_id, uint32_t t_sel,
                          uint32_t t_mask, uint32_t t_rand, int32_t ignore, int32_t* input_ids, int32_t* labels) {
  kx::MlmParams p{};
  p.ids = ids;
  p.n = n;
  p.offset = (int64_t)offset;
  p.rng = rng_of(rng);
  p.special = special;
  p.vocab_size = vocab;
  p.candidates = cand;
  p.num_candidates = ncand;
  p.mask_token_id = mask_id;
  p.select_threshold = t_sel;
  p.mask_threshold = t_mask;
  p.random_threshold = t_rand;
  p.ignore_index = ignore;
  p.input_ids = input_ids;
  p.labels = labels;
  const kx::Status s = kx::mlm_mask(nullptr, &p);
  g_bad_index = p.bad_index;
  return s;
}

int32_t KX_EXPORT(kx_mae)(const uint32_t* rng, double batch, double tokens, double keep, int32_t* ids_keep,
                          int32_t* ids_restore, uint8_t* mask) {
  return kx::mae_mask(nullptr, rng_of(rng), (int64_t)batch, (int64_t)tokens, (int64_t)keep, ids_keep, ids_restore,
                      mask);
}

int32_t KX_EXPORT(kx_drop_tokens_f32)(const uint32_t* rng, double batch, double tokens, double dim, double keep,
                                      const float* x, float* out, int32_t* pos) {
  return kx::drop_tokens_f32(nullptr, rng_of(rng), (int64_t)batch, (int64_t)tokens, (int64_t)dim, (int64_t)keep, x,
                             out, pos);
}

int32_t KX_EXPORT(kx_drop_tokens_f64)(const uint32_t* rng, double batch, double tokens, double dim, double keep,
                                      const double* x, double* out, int32_t* pos) {
  return kx::drop_tokens_f64(nullptr, rng_of(rng), (int64_t)batch, (int64_t)tokens, (int64_t)dim, (int64_t)keep, x,
                             out, pos);
}

int32_t KX_EXPORT(kx_expected_embedding_f32)(double vocab, double dim, const uint8_t* special, int32_t mask_id,
                                             double a, double b, double c, const float* table, float* out) {
  return kx::expected_embedding_f32(nullptr, (int64_t)vocab, (int64_t)dim, special, mask_id, a, b, c, table, out);
}

int32_t KX_EXPORT(kx_expected_embedding_f64)(double vocab, double dim, const uint8_t* special, int32_t mask_id,
                                             double a, double b, double c, const double* table, double* out) {
  return kx::expected_embedding_f64(nullptr, (int64_t)vocab, (int64_t)dim, special, mask_id, a, b, c, table, out);
}

// Attention takes a header of doubles (pointers and sizes are exact in a double):
//   [0..6] B, H, Hkv, Nq, Nk, D, Dv; [7..9] q, k, v; [10] head kinds; [11] key lengths (0: none);
//   [12] mask (0: none); [13..16] mask strides; [17] bias (0: none); [18..21] bias strides;
//   [22] scale; [23] dropout (0/1); [24] rng; [25] dropout threshold; [26] dropout scale;
//   forward: [27] out, [28] lse (0: none), [29] probs (0: none);
//   backward: [27] dOut, [28] dq, [29] dk, [30] dv.
}  // extern "C"

template <class T>
static void attention_inputs(const double* h, kx::AttentionParams<T>* p) {
  p->B = (int64_t)h[0], p->H = (int64_t)h[1], p->Hkv = (int64_t)h[2], p->Nq = (int64_t)h[3];
  p->Nk = (int64_t)h[4], p->D = (int64_t)h[5], p->Dv = (int64_t)h[6];
  p->q = (const T*)(uintptr_t)h[7], p->k = (const T*)(uintptr_t)h[8], p->v = (const T*)(uintptr_t)h[9];
  p->head_kind = (const int32_t*)(uintptr_t)h[10];
  p->key_lengths = (const int32_t*)(uintptr_t)h[11];
  p->mask = (const uint8_t*)(uintptr_t)h[12];
  for (int i = 0; i < 4; ++i) p->mask_stride[i] = (int64_t)h[13 + i];
  p->bias = (const T*)(uintptr_t)h[17];
  for (int i = 0; i < 4; ++i) p->bias_stride[i] = (int64_t)h[18 + i];
  p->scale = h[22];
  p->dropout = h[23] != 0;
  if (p->dropout) p->dropout_rng = rng_of((const uint32_t*)(uintptr_t)h[24]);
  p->dropout_threshold = (uint32_t)h[25];
  p->dropout_scale = h[26];
}

extern "C" {

int32_t KX_EXPORT(kx_attention)(const double* h, int32_t f64) {
  if (f64) {
    kx::AttentionParams<double> p{};
    attention_inputs(h, &p);
    p.out = (double*)(uintptr_t)h[27], p.lse = (double*)(uintptr_t)h[28], p.probs = (double*)(uintptr_t)h[29];
    return kx::attention_f64(nullptr, p);
  }
  kx::AttentionParams<float> p{};
  attention_inputs(h, &p);
  p.out = (float*)(uintptr_t)h[27], p.lse = (float*)(uintptr_t)h[28], p.probs = (float*)(uintptr_t)h[29];
  return kx::attention_f32(nullptr, p);
}

int32_t KX_EXPORT(kx_attention_backward)(const double* h, int32_t f64) {
  if (f64) {
    kx::AttentionBackwardParams<double> p{};
    attention_inputs(h, &p.f);
    p.d_out = (const double*)(uintptr_t)h[27], p.dq = (double*)(uintptr_t)h[28];
    p.dk = (double*)(uintptr_t)h[29], p.dv = (double*)(uintptr_t)h[30];
    return kx::attention_backward_f64(nullptr, p);
  }
  kx::AttentionBackwardParams<float> p{};
  attention_inputs(h, &p.f);
  p.d_out = (const float*)(uintptr_t)h[27], p.dq = (float*)(uintptr_t)h[28];
  p.dk = (float*)(uintptr_t)h[29], p.dv = (float*)(uintptr_t)h[30];
  return kx::attention_backward_f32(nullptr, p);
}

// out[0] = the W2 trace, out[1] = the failing Cholesky pivot or -1 (see linalg.h).
int32_t KX_EXPORT(kx_w2_trace)(double n, const double* s1, const double* s2, double* out) {
  int64_t failed = -1;
  const kx::Status st = kx::w2_trace_f64(nullptr, (int64_t)n, s1, s2, &out[0], &failed);
  out[1] = (double)failed;
  return st;
}

// Batched linear algebra (the Kernels interface of lib/backends/types.ts; see ops_linalg.cc for
// the same semantics in the addon). Sizes travel as doubles.
int32_t KX_EXPORT(kx_cholesky_batch)(double count, double n, const double* a, double* L, double* info) {
  const int64_t c = (int64_t)count, m = (int64_t)n;
  for (int64_t i = 0; i < c; ++i) {
    int64_t failed = -1;
    const kx::Status s = kx::cholesky_f64(nullptr, m, a + i * m * m, L + i * m * m, &failed);
    info[i] = (double)failed;
    if (s != kx::OK && s != kx::E_RANGE) return s;
  }
  return kx::OK;
}

int32_t KX_EXPORT(kx_eigh)(double count, double n, const double* a, double* values, double* vectors) {
  const int64_t c = (int64_t)count, m = (int64_t)n;
  for (int64_t i = 0; i < c; ++i) {
    const kx::Status s = vectors != nullptr ? kx::syevd_f64(nullptr, m, a + i * m * m, values + i * m, vectors + i * m * m)
                                            : kx::syevals_f64(nullptr, m, a + i * m * m, values + i * m);
    if (s != kx::OK) {
      g_bad_index = i;
      return s;
    }
  }
  return kx::OK;
}

// params = [method, inverse, tol, maxIterations]; info[3i..3i+3) = [status, iterations, residual].
int32_t KX_EXPORT(kx_sqrtm)(double count, double n, const double* a, double* x, const double* params, double* info) {
  const int64_t c = (int64_t)count, m = (int64_t)n;
  for (int64_t i = 0; i < c; ++i) {
    int32_t it = 0;
    double res = 0;
    const kx::Status s = kx::sqrtm_f64(nullptr, m, a + i * m * m, x + i * m * m, (int32_t)params[0], params[1] != 0,
                                       params[2], (int32_t)params[3], &it, &res);
    info[3 * i] = (double)s, info[3 * i + 1] = it, info[3 * i + 2] = res;
    if (s != kx::OK && s != kx::E_NOT_SPD && s != kx::E_NO_CONVERGENCE && s != kx::E_RANGE) return s;
  }
  return kx::OK;
}

// x = a^-1 b (a is factored in place); info[0] = E_RANGE when a is singular, else 0.
int32_t KX_EXPORT(kx_solve)(double n, double m, double* a, const double* b, double* x, double* info) {
  const int64_t nn = (int64_t)n;
  for (int64_t i = 0; i < nn * (int64_t)m; ++i) x[i] = b[i];
  int64_t* piv = static_cast<int64_t*>(malloc(sizeof(int64_t) * (size_t)(nn > 0 ? nn : 1)));
  if (piv == nullptr) return kx::E_OOM;
  kx::Status s = kx::lu_factor_f64(nullptr, nn, a, piv);
  if (s == kx::OK) s = kx::lu_solve_f64(nullptr, nn, (int64_t)m, a, piv, x);
  free(piv);
  info[0] = s == kx::E_RANGE ? (double)kx::E_RANGE : 0;
  return s == kx::E_RANGE ? kx::OK : s;
}

// h = [m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta] (pointers as doubles).
int32_t KX_EXPORT(kx_gemm)(const double* h) {
  return kx::gemm_f64(nullptr, (int64_t)h[0], (int64_t)h[1], (int64_t)h[2], (const double*)(uintptr_t)h[3], (int64_t)h[4],
                      h[5] != 0, (const double*)(uintptr_t)h[6], (int64_t)h[7], h[8] != 0, (double*)(uintptr_t)h[9],
                      (int64_t)h[10], h[11], h[12]);
}

int32_t KX_EXPORT(kx_feature_stats)(double m, double n, const void* x, int32_t f32, double* count, double* mean, double* comoment) {
  return f32 ? kx::feature_stats_update_f32(nullptr, (int64_t)m, (int64_t)n, static_cast<const float*>(x), count, mean, comoment)
             : kx::feature_stats_update_f64(nullptr, (int64_t)m, (int64_t)n, static_cast<const double*>(x), count, mean, comoment);
}

// Integrated gradients of a built-in MLP (mlp.h); sizes as doubles. The bindings check lengths.
int32_t KX_EXPORT(kx_ig_mlp)(const double* spec, double spec_len, const double* params, double params_len, double batch,
                             const double* x, const double* base, const int32_t* target, double steps,
                             const double* alphas, const double* weights, double* avg_grad, double* outputs) {
  return kx::ig_mlp_f64(nullptr, spec, (int64_t)spec_len, params, (int64_t)params_len, (int64_t)batch, x, base, target,
                        (int64_t)steps, alphas, weights, avg_grad, outputs, 0, nullptr);
}

// Sector-probability Monte Carlo (sector.h): hits[0] = the count; sizes as doubles (safe integers,
// checked by lib/backends/wasm.ts; the kernel checks the ranges).
int32_t KX_EXPORT(kx_sector_mc)(const uint32_t* rng, double n, double trial_offset, double trials, double threshold,
                                double* hits) {
  int64_t h = 0;
  const kx::Status s = kx::sector_mc(nullptr, rng_of(rng), (int64_t)n, (int64_t)trial_offset, (int64_t)trials,
                                     threshold, &h, nullptr);
  if (s == kx::OK) hits[0] = (double)h;
  return s;
}

// Training the built-in MLP (mlp.h); sizes and lengths as doubles. The kernels check every length.
int32_t KX_EXPORT(kx_mlp_forward)(const double* spec, double spec_len, const double* params, double params_len,
                                  double batch, const double* x, double x_len, double* acts, double acts_len) {
  return kx::mlp_forward_f64(nullptr, spec, (int64_t)spec_len, params, (int64_t)params_len, (int64_t)batch, x,
                             (int64_t)x_len, acts, (int64_t)acts_len, nullptr);
}

int32_t KX_EXPORT(kx_mlp_backward)(const double* spec, double spec_len, const double* params, double params_len,
                                   double batch, const double* x, double x_len, const double* acts, double acts_len,
                                   const double* grad_out, double grad_out_len, double* grad_params,
                                   double grad_params_len, double* grad_x, double grad_x_len) {
  return kx::mlp_backward_f64(nullptr, spec, (int64_t)spec_len, params, (int64_t)params_len, (int64_t)batch, x,
                              (int64_t)x_len, acts, (int64_t)acts_len, grad_out, (int64_t)grad_out_len, grad_params,
                              (int64_t)grad_params_len, grad_x, (int64_t)grad_x_len, nullptr);
}

int32_t KX_EXPORT(kx_adam)(double n, double* params, const double* grads, double* m, double* v, const double* hyper,
                           double hyper_len) {
  return kx::adam_f64(nullptr, (int64_t)n, params, grads, m, v, hyper, (int64_t)hyper_len, nullptr);
}

}  // extern "C"
