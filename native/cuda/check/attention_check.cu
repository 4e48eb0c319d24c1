// Check program for the CUDA attention forward (native/cuda/attention.cu): every case runs the CUDA
// kernels and the native/core CPU kernel kx::attention_f32 (null Exec) and compares out, lse and
// probs; then the kernels are timed with CUDA events. No Node needed.
//
// On the GPU machine (nvcc, CMake, ninja; no Node), from the repository root:
//   cmake -S . -B build-cuda -G Ninja -DKEXUE_BUILD_ADDON=OFF -DCMAKE_CUDA_ARCHITECTURES=90
//   cmake --build build-cuda --target kexue_cuda_attention_check
//   build-cuda/Release/kexue_cuda_attention_check            # checks, then timings
//   build-cuda/Release/kexue_cuda_attention_check --no-bench # checks only (what ctest runs)
// The timing lines start with "BENCH" and carry dtype, B, H, N, D, mask, ms and TFLOP/s counted as
// 4 B H N^2 D (the dense count, also for causal), the layout [B, H, N, D] contiguous; the same
// shapes in PyTorch: F.scaled_dot_product_attention(q, k, v, is_causal=...) on [1, 8, N, 64].
//
//   kexue_cuda_attention_check [--seed N] [--reps N] [--no-bench] [--no-emu]
//
// Tolerances (max over the tensor; ref = the CPU kernel's result):
//   float32 inputs, and half / bfloat16 inputs on the float32 kernel (the inputs converted exactly
//   to float32, so the same arithmetic up to summation order and the GPU's exp2f / log2f):
//     |out - ref| <= 1e-5 max |ref_out|, |lse - ref| <= 1e-5 max(1, max |ref_lse|),
//     |probs - ref| <= 1e-5 max |ref_probs|.
//   half / bfloat16 on tensor cores, against the CPU kernel run on the same values rounded to the
//   input type and converted to float32: the scores are exact products summed in float32 (lse and
//   probs to 1e-4 relative: the tensor cores' float32 accumulation is not IEEE sum by sum), but P
//   is rounded to the input type before P V, as in FlashAttention and PyTorch. With unit roundoff
//   u (2^-11 half, 2^-8 bfloat16) that moves out by at most
//     sum_j |p^_j - p_j| |v_j| keep / l <= u max |v| keep (sum_j p_j / l = 1),
//   so the bound checked is |out - ref| <= 2 u max |v| keep + 1e-5 max |ref|: about 1e-3 (half) and
//   8e-3 (bfloat16) of max |v|. The observed error relative to max |ref| is printed (typically a
//   few 1e-4: the roundings average out). Empty rows must match exactly (out 0, lse -inf, probs 0)
//   and no output may be NaN.
//
// Without a GPU it runs the kernels' block code on the CPU (kx::cuda::emu: the same index
// arithmetic, masks, dropout words, chunk planning and mma.sync fragment layouts) against the CPU
// kernel for the smaller cases, checks the argument errors, then prints
// "no CUDA device: <reason>" and exits 0.
//
// Exit status: 0 all checks passed (or no device and the emulation matched); 1 a mismatch;
// 2 a CUDA or allocation error, or bad arguments.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "../../core/attention.h"
#include "../../core/random.h"
#include "../kx_cuda.h"

namespace {

using kx::Status;

using ck::splitmix64;
using ck::unif;
double gauss(uint64_t* s) {  // sum of 4 uniforms, variance 1
  return (unif(s) + unif(s) + unif(s) + unif(s) - 2.0) * 1.7320508075688772;
}

enum Dtype { F32 = 0, F16 = 1, BF16 = 2 };
const char* dtype_name(int d) { return d == F32 ? "f32" : d == F16 ? "f16" : "bf16"; }

uint16_t to16(int dt, float f) {
  if (dt == F16) {
    __half_raw r = __float2half_rn(f);
    return r.x;
  }
  __nv_bfloat16_raw r = __float2bfloat16_rn(f);
  return r.x;
}
float from16(int dt, uint16_t u) {
  if (dt == F16) {
    __half_raw r;
    r.x = u;
    return __half2float(__half(r));
  }
  __nv_bfloat16_raw r;
  r.x = u;
  return __bfloat162float(__nv_bfloat16(r));
}

enum MaskMode { M_NONE, M_QK, M_B1QK, M_FULL, M_TRANSPOSED, M_NEGATIVE };
enum BiasMode { B_NONE, B_QK, B_FULL_NEGINF, B_PER_KEY };
enum Kinds { K_ALL_NONE, K_ALL_CAUSAL, K_CYCLE, K_CAUSAL_ANTI, K_MIXED4 };

struct Case {
  const char* name;
  int64_t B, H, Hkv, Nq, Nk, D, Dv;
  int kinds;
  bool key_lengths;
  int mask, bias;
  double dropout;
  bool lse, probs;
  double scale_mul;     // scale = scale_mul / sqrt(D)
  int64_t chunk_bytes;  // 0: default budget
};

const Case kCases[] = {
    {"single", 1, 1, 1, 1, 1, 16, 16, K_ALL_NONE, false, M_NONE, B_NONE, 0, true, true, 1, 0},
    {"n7 gqa causal", 2, 4, 2, 7, 7, 64, 64, K_ALL_CAUSAL, false, M_NONE, B_NONE, 0, true, true, 1, 0},
    {"n33 every kind", 1, 5, 1, 33, 33, 80, 80, K_CYCLE, false, M_NONE, B_NONE, 0, true, true, 1, 0},
    {"n257 gqa mask bias dropout", 2, 8, 4, 257, 257, 128, 128, K_CYCLE, true, M_QK, B_QK, 0.1,
     true, true, 1, 0},
    {"nq<nk bottom right", 1, 4, 2, 33, 257, 64, 64, K_MIXED4, false, M_NONE, B_NONE, 0, true,
     true, 1, 0},
    {"nq>nk empty rows", 2, 2, 1, 257, 33, 64, 64, K_CAUSAL_ANTI, true, M_NONE, B_NONE, 0, true,
     true, 1, 0},
    {"odd dims transposed mask", 1, 3, 3, 7, 33, 5, 7, K_CYCLE, false, M_TRANSPOSED, B_PER_KEY, 0,
     true, true, 1, 0},
    {"dv 200 dropout", 1, 2, 1, 65, 129, 64, 200, K_CAUSAL_ANTI, false, M_NONE, B_NONE, 0.3, true,
     false, 1, 0},
    {"d 256", 1, 2, 2, 64, 100, 256, 256, K_ALL_NONE, false, M_NONE, B_NONE, 0, true, false, 1, 0},
    {"negative mask stride, -inf bias", 2, 2, 2, 40, 70, 16, 16, K_ALL_NONE, false, M_NEGATIVE,
     B_FULL_NEGINF, 0, true, true, 1, 0},
    {"sharp scores", 1, 2, 2, 257, 257, 64, 64, K_CAUSAL_ANTI, false, M_NONE, B_NONE, 0, true,
     false, 8, 0},
    {"no keys", 1, 2, 1, 5, 0, 16, 16, K_CYCLE, false, M_NONE, B_NONE, 0, true, true, 1, 0},
    {"chunked units", 3, 4, 2, 33, 40, 16, 16, K_CYCLE, true, M_B1QK, B_QK, 0.2, true, true, 1,
     100000},  // chunks of 3 (b, hk) pairs, crossing batch items
    {"chunked units 1", 3, 4, 2, 33, 40, 16, 16, K_CYCLE, true, M_B1QK, B_QK, 0.2, true, true, 1,
     12000},   // one pair per chunk
    {"chunked queries", 1, 2, 2, 200, 150, 32, 48, K_MIXED4, false, M_FULL, B_FULL_NEGINF, 0.1,
     true, true, 1, 40000},
    {"n1024 causal dropout", 1, 8, 2, 1024, 1024, 64, 64, K_ALL_CAUSAL, false, M_NONE, B_NONE,
     0.2, true, false, 1, 0},
    {"n1024 gqa padding mask bias", 2, 4, 4, 1024, 1024, 128, 128, K_CYCLE, true, M_QK, B_QK, 0,
     true, false, 1, 0},
};

// Work of a case for the CPU emulation (it skips the big ones).
double case_work(const Case& c) {
  return (double)c.B * c.H * c.Nq * c.Nk * (c.D + c.Dv) * (c.probs ? 2 : 1);
}
constexpr double kEmuMaxWork = 3e9;  // all the cases below: about 15 s

// Host data of one case: float inputs (already rounded for the 16-bit dtypes), masks, outputs.
struct Data {
  Case c;
  int dt;  // F32 / F16 / BF16
  float *q = nullptr, *k = nullptr, *v = nullptr;
  uint16_t *q16 = nullptr, *k16 = nullptr, *v16 = nullptr;
  int32_t* kinds = nullptr;
  int32_t* key_len = nullptr;
  uint8_t* mask_buf = nullptr;
  const uint8_t* mask = nullptr;
  int64_t ms[4] = {0, 0, 0, 0};
  float* bias_buf = nullptr;
  const float* bias = nullptr;
  int64_t bs[4] = {0, 0, 0, 0};
  kx::Rng rng;
  uint32_t threshold = 0;
  double keep = 1;
  double vmax = 0;
  float *ref_out = nullptr, *ref_lse = nullptr, *ref_probs = nullptr;
  float *out = nullptr, *lse = nullptr, *probs = nullptr;
  ~Data() {
    free(q), free(k), free(v), free(q16), free(k16), free(v16), free(kinds), free(key_len);
    free(mask_buf), free(bias_buf), free(ref_out), free(ref_lse), free(ref_probs), free(out);
    free(lse), free(probs);
  }
  int64_t nq() const { return c.B * c.H * c.Nq * c.D; }
  int64_t nk() const { return c.B * c.Hkv * c.Nk * c.D; }
  int64_t nv() const { return c.B * c.Hkv * c.Nk * c.Dv; }
  int64_t nout() const { return c.B * c.H * c.Nq * c.Dv; }
  int64_t nlse() const { return c.B * c.H * c.Nq; }
  int64_t nprobs() const { return c.B * c.H * c.Nq * c.Nk; }
};

void* xalloc(int64_t n, size_t es) {
  void* p = calloc((size_t)(n > 0 ? n : 1), es);
  if (p == nullptr) {
    printf("out of host memory\n");
    exit(2);
  }
  return p;
}

void fill(Data& d, const Case& c, int dt, uint64_t* st) {
  d.c = c;
  d.dt = dt;
  d.q = (float*)xalloc(d.nq(), 4);
  d.k = (float*)xalloc(d.nk(), 4);
  d.v = (float*)xalloc(d.nv(), 4);
  auto gen = [&](float* x, int64_t n, uint16_t** x16) {
    if (dt != F32) *x16 = (uint16_t*)xalloc(n, 2);
    for (int64_t i = 0; i < n; ++i) {
      const float f = (float)gauss(st);
      if (dt == F32) {
        x[i] = f;
      } else {
        (*x16)[i] = to16(dt, f);
        x[i] = from16(dt, (*x16)[i]);
      }
    }
  };
  gen(d.q, d.nq(), &d.q16);
  gen(d.k, d.nk(), &d.k16);
  gen(d.v, d.nv(), &d.v16);
  for (int64_t i = 0; i < d.nv(); ++i) d.vmax = fmax(d.vmax, fabs(d.v[i]));
  d.kinds = (int32_t*)xalloc(c.H, 4);
  for (int64_t h = 0; h < c.H; ++h) {
    switch (c.kinds) {
      case K_ALL_NONE: d.kinds[h] = kx::MASK_NONE; break;
      case K_ALL_CAUSAL: d.kinds[h] = kx::MASK_CAUSAL; break;
      case K_CYCLE: d.kinds[h] = (int32_t)(h % 5); break;
      case K_CAUSAL_ANTI: d.kinds[h] = h % 2 ? kx::MASK_ANTICAUSAL : kx::MASK_CAUSAL; break;
      default: {
        const int32_t k4[4] = {kx::MASK_CAUSAL, kx::MASK_ANTICAUSAL, kx::MASK_CAUSAL_NO_SELF,
                               kx::MASK_NO_SELF};
        d.kinds[h] = k4[h % 4];
      }
    }
  }
  if (c.key_lengths) {
    d.key_len = (int32_t*)xalloc(c.B, 4);
    for (int64_t b = 0; b < c.B; ++b)
      d.key_len[b] = b == 1 ? 0 : (int32_t)(splitmix64(st) % (uint64_t)(c.Nk + 1));
    if (c.B == 1) d.key_len[0] = (int32_t)(c.Nk * 2 / 3);
  }
  const int64_t NqNk = c.Nq * c.Nk;
  auto mask_bit = [&]() -> uint8_t { return unif(st) < 0.8 ? 1 : 0; };
  switch (c.mask) {
    case M_NONE: break;
    case M_QK:
    case M_TRANSPOSED:
    case M_NEGATIVE:
      d.mask_buf = (uint8_t*)xalloc(NqNk, 1);
      for (int64_t x = 0; x < NqNk; ++x) d.mask_buf[x] = mask_bit();
      if (c.Nq > 3)  // one row with no visible key
        for (int64_t j = 0; j < c.Nk; ++j)
          d.mask_buf[c.mask == M_TRANSPOSED ? j * c.Nq + 3 : 3 * c.Nk + j] = 0;
      d.mask = d.mask_buf;
      if (c.mask == M_QK) d.ms[2] = c.Nk, d.ms[3] = 1;
      if (c.mask == M_TRANSPOSED) d.ms[2] = 1, d.ms[3] = c.Nq;
      if (c.mask == M_NEGATIVE) d.mask = d.mask_buf + (c.Nk - 1), d.ms[2] = c.Nk, d.ms[3] = -1;
      break;
    case M_B1QK:
      d.mask_buf = (uint8_t*)xalloc(c.B * NqNk, 1);
      for (int64_t x = 0; x < c.B * NqNk; ++x) d.mask_buf[x] = mask_bit();
      d.mask = d.mask_buf, d.ms[0] = NqNk, d.ms[2] = c.Nk, d.ms[3] = 1;
      break;
    case M_FULL:
      d.mask_buf = (uint8_t*)xalloc(c.B * c.H * NqNk, 1);
      for (int64_t x = 0; x < c.B * c.H * NqNk; ++x) d.mask_buf[x] = mask_bit();
      d.mask = d.mask_buf, d.ms[0] = c.H * NqNk, d.ms[1] = NqNk, d.ms[2] = c.Nk, d.ms[3] = 1;
      break;
  }
  switch (c.bias) {
    case B_NONE: break;
    case B_QK:
      d.bias_buf = (float*)xalloc(NqNk, 4);
      for (int64_t x = 0; x < NqNk; ++x) d.bias_buf[x] = (float)(0.5 * gauss(st));
      d.bias = d.bias_buf, d.bs[2] = c.Nk, d.bs[3] = 1;
      break;
    case B_PER_KEY:
      d.bias_buf = (float*)xalloc(c.B * c.Nk, 4);
      for (int64_t x = 0; x < c.B * c.Nk; ++x)
        d.bias_buf[x] = unif(st) < 0.1 ? -INFINITY : (float)gauss(st);
      d.bias = d.bias_buf, d.bs[0] = c.Nk, d.bs[3] = 1;
      break;
    case B_FULL_NEGINF: {
      const int64_t n = c.B * c.H * NqNk;
      d.bias_buf = (float*)xalloc(n, 4);
      for (int64_t x = 0; x < n; ++x)
        d.bias_buf[x] = unif(st) < 0.05 ? -INFINITY : (float)(0.5 * gauss(st));
      if (c.Nq > 5)  // row 5 of every head: all -inf
        for (int64_t bh = 0; bh < c.B * c.H; ++bh)
          for (int64_t j = 0; j < c.Nk; ++j) d.bias_buf[bh * NqNk + 5 * c.Nk + j] = -INFINITY;
      d.bias = d.bias_buf, d.bs[0] = c.H * NqNk, d.bs[1] = NqNk, d.bs[2] = c.Nk, d.bs[3] = 1;
      break;
    }
  }
  const uint64_t key = splitmix64(st), stream = splitmix64(st);
  d.rng.key[0] = (uint32_t)key, d.rng.key[1] = (uint32_t)(key >> 32);
  d.rng.stream[0] = (uint32_t)stream, d.rng.stream[1] = (uint32_t)(stream >> 32);
  if (c.dropout > 0) {
    d.threshold = (uint32_t)ceil(c.dropout * 16777216.0);
    d.keep = 1.0 / (1.0 - c.dropout);
  }
  d.ref_out = (float*)xalloc(d.nout(), 4);
  d.out = (float*)xalloc(d.nout(), 4);
  if (c.lse) d.ref_lse = (float*)xalloc(d.nlse(), 4), d.lse = (float*)xalloc(d.nlse(), 4);
  if (c.probs)
    d.ref_probs = (float*)xalloc(d.nprobs(), 4), d.probs = (float*)xalloc(d.nprobs(), 4);
}

template <class P>
void common_params(const Data& d, P* p) {
  const Case& c = d.c;
  p->B = c.B, p->H = c.H, p->Hkv = c.Hkv, p->Nq = c.Nq, p->Nk = c.Nk, p->D = c.D, p->Dv = c.Dv;
  p->head_kind = d.kinds, p->key_lengths = d.key_len;
  p->mask = d.mask, p->bias = d.bias;
  for (int x = 0; x < 4; ++x) p->mask_stride[x] = d.ms[x], p->bias_stride[x] = d.bs[x];
  p->scale = c.scale_mul / sqrt((double)(c.D > 0 ? c.D : 1));
  p->dropout = c.dropout > 0, p->dropout_rng = d.rng;
  p->dropout_threshold = d.threshold, p->dropout_scale = d.keep;
}

kx::AttentionParams<float> params_f32(const Data& d, float* out, float* lse, float* probs) {
  kx::AttentionParams<float> p;
  memset(&p, 0, sizeof p);
  common_params(d, &p);
  p.q = d.q, p.k = d.k, p.v = d.v;
  p.out = out, p.lse = lse, p.probs = probs;
  return p;
}

kx::cuda::AttentionParams16 params_16(const Data& d) {
  kx::cuda::AttentionParams16 p;
  memset(&p, 0, sizeof p);
  common_params(d, &p);
  p.q = d.q16, p.k = d.k16, p.v = d.v16;
  p.out = d.out, p.lse = d.lse, p.probs = d.probs;
  return p;
}

int g_failures = 0;
bool g_cuda_error = false;

// Max |x| over the finite entries.
double max_abs(const float* x, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i)
    if (isfinite(x[i])) m = fmax(m, fabs(x[i]));
  return m;
}

// Checks got against ref: no NaN, -inf exactly where ref has it, |diff| <= tol elsewhere.
// Returns the max |diff|; prints the first offence.
bool compare(const char* what, const float* ref, const float* got, int64_t n, double tol,
             double* maxdiff, char* msg, size_t msglen) {
  *maxdiff = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float r = ref[i], g = got[i];
    bool bad = isnan(g);
    if (!bad && (isinf(r) || isinf(g))) bad = r != g;
    if (!bad && !isinf(r)) {
      const double dd = fabs((double)g - (double)r);
      if (dd > *maxdiff) *maxdiff = dd;
      bad = dd > tol;
    }
    if (bad) {
      snprintf(msg, msglen, "%s[%lld]: got %.9g, want %.9g (tolerance %.3g)", what, (long long)i,
               g, r, tol);
      return false;
    }
  }
  return true;
}

enum Runner { EMU_F32K, EMU_TC, CUDA_HOST, CUDA_DEV };
const char* runner_name(Runner r) {
  switch (r) {
    case EMU_F32K: return "emu f32 kernel";
    case EMU_TC: return "emu tensor cores";
    case CUDA_HOST: return "cuda";
    case CUDA_DEV: return "cuda device ptrs";
  }
  return "?";
}

// Copies a host array to the device (nullptr for null / empty); frees with cudaFree.
template <class T>
T* to_dev(const T* h, int64_t n, bool* ok) {
  if (h == nullptr) return nullptr;
  T* d = nullptr;
  const size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(T);
  if (cudaMalloc(&d, bytes) != cudaSuccess ||
      (n > 0 && cudaMemcpy(d, h, (size_t)n * sizeof(T), cudaMemcpyHostToDevice) != cudaSuccess)) {
    *ok = false;
    return d;
  }
  return d;
}

// The device-pointer API: copies everything over (mask / bias whole buffers, pointer offsets kept).
Status run_dev(Data& d, char* err, size_t errlen) {
  const Case& c = d.c;
  bool ok = true;
  const int64_t NqNk = c.Nq * c.Nk;
  int64_t mask_n = 0, bias_n = 0;
  switch (c.mask) {
    case M_NONE: break;
    case M_B1QK: mask_n = c.B * NqNk; break;
    case M_FULL: mask_n = c.B * c.H * NqNk; break;
    default: mask_n = NqNk;
  }
  switch (c.bias) {
    case B_NONE: break;
    case B_QK: bias_n = NqNk; break;
    case B_PER_KEY: bias_n = c.B * c.Nk; break;
    default: bias_n = c.B * c.H * NqNk;
  }
  int32_t* kinds = to_dev(d.kinds, c.H, &ok);
  int32_t* klen = to_dev(d.key_len, c.B, &ok);
  uint8_t* mask = to_dev(d.mask_buf, mask_n, &ok);
  float* bias = to_dev(d.bias_buf, bias_n, &ok);
  void *q = nullptr, *k = nullptr, *v = nullptr;
  if (d.dt == F32) {
    q = to_dev(d.q, d.nq(), &ok), k = to_dev(d.k, d.nk(), &ok), v = to_dev(d.v, d.nv(), &ok);
  } else {
    q = to_dev(d.q16, d.nq(), &ok), k = to_dev(d.k16, d.nk(), &ok);
    v = to_dev(d.v16, d.nv(), &ok);
  }
  float* out = nullptr;
  float* lse = nullptr;
  float* probs = nullptr;
  if (cudaMalloc(&out, (size_t)(d.nout() + 1) * 4) != cudaSuccess) ok = false;
  if (d.lse && cudaMalloc(&lse, (size_t)(d.nlse() + 1) * 4) != cudaSuccess) ok = false;
  if (d.probs && cudaMalloc(&probs, (size_t)(d.nprobs() + 1) * 4) != cudaSuccess) ok = false;
  Status s = kx::E_BACKEND;
  if (!ok) {
    snprintf(err, errlen, "cudaMalloc / cudaMemcpy failed");
  } else {
    const uint8_t* mp = mask != nullptr ? mask + (d.mask - d.mask_buf) : nullptr;
    if (d.dt == F32) {
      kx::AttentionParams<float> p = params_f32(d, out, lse, probs);
      p.q = (const float*)q, p.k = (const float*)k, p.v = (const float*)v;
      p.head_kind = kinds, p.key_lengths = klen, p.mask = mp, p.bias = bias;
      s = kx::cuda::dev::attention_f32(p, nullptr, err, errlen);
    } else {
      kx::cuda::AttentionParams16 p = params_16(d);
      p.q = (const uint16_t*)q, p.k = (const uint16_t*)k, p.v = (const uint16_t*)v;
      p.head_kind = kinds, p.key_lengths = klen, p.mask = mp, p.bias = bias;
      p.out = out, p.lse = lse, p.probs = probs;
      s = d.dt == F16 ? kx::cuda::dev::attention_f16(p, nullptr, err, errlen)
                      : kx::cuda::dev::attention_bf16(p, nullptr, err, errlen);
    }
    cudaError_t e = s == kx::OK ? cudaDeviceSynchronize() : cudaSuccess;
    if (e == cudaSuccess && s == kx::OK)
      e = cudaMemcpy(d.out, out, (size_t)d.nout() * 4, cudaMemcpyDeviceToHost);
    if (e == cudaSuccess && s == kx::OK && d.lse)
      e = cudaMemcpy(d.lse, lse, (size_t)d.nlse() * 4, cudaMemcpyDeviceToHost);
    if (e == cudaSuccess && s == kx::OK && d.probs)
      e = cudaMemcpy(d.probs, probs, (size_t)d.nprobs() * 4, cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) {
      snprintf(err, errlen, "%s", cudaGetErrorString(e));
      s = kx::E_BACKEND;
    }
  }
  cudaFree(kinds), cudaFree(klen), cudaFree(mask), cudaFree(bias), cudaFree(q), cudaFree(k);
  cudaFree(v), cudaFree(out), cudaFree(lse), cudaFree(probs);
  return s;
}

// Runs one (case, dtype, runner) and compares with the CPU reference in d.ref_*.
void check_one(Data& d, Runner runner, bool tensor_cores) {
  const Case& c = d.c;
  char err[512] = {0};
  for (int64_t i = 0; i < d.nout(); ++i) d.out[i] = NAN;  // unwritten elements show
  if (d.lse)
    for (int64_t i = 0; i < d.nlse(); ++i) d.lse[i] = NAN;
  if (d.probs)
    for (int64_t i = 0; i < d.nprobs(); ++i) d.probs[i] = NAN;
  kx::cuda::set_attention_chunk_bytes(c.chunk_bytes);
  const bool prev_tc = kx::cuda::set_attention_tensor_cores(tensor_cores);
  Status s = kx::E_INTERNAL;
  if (runner == CUDA_DEV) {
    s = run_dev(d, err, sizeof err);
  } else if (d.dt == F32) {
    const kx::AttentionParams<float> p = params_f32(d, d.out, d.lse, d.probs);
    s = runner == CUDA_HOST ? kx::cuda::attention_f32(p, err, sizeof err)
                            : kx::cuda::emu::attention_f32(p, err, sizeof err);
  } else {
    const kx::cuda::AttentionParams16 p = params_16(d);
    if (runner == CUDA_HOST)
      s = d.dt == F16 ? kx::cuda::attention_f16(p, err, sizeof err)
                      : kx::cuda::attention_bf16(p, err, sizeof err);
    else
      s = d.dt == F16 ? kx::cuda::emu::attention_f16(p, runner == EMU_TC, err, sizeof err)
                      : kx::cuda::emu::attention_bf16(p, runner == EMU_TC, err, sizeof err);
  }
  kx::cuda::set_attention_chunk_bytes(0);
  kx::cuda::set_attention_tensor_cores(prev_tc);
  const bool tc = d.dt != F32 && (runner == EMU_TC || (runner != EMU_F32K && tensor_cores));
  char label[160];
  snprintf(label, sizeof label, "%-32s %-4s %-17s%s", c.name, dtype_name(d.dt),
           runner_name(runner), d.dt == F32 || runner == EMU_F32K || runner == EMU_TC
                                     ? ""
                                     : tensor_cores ? " (tc allowed)" : " (f32 kernel)");
  if (s != kx::OK) {
    printf("  %s: status %d: %s\n", label, (int)s, err);
    g_cuda_error = true;
    return;
  }
  const double ref_max = max_abs(d.ref_out, d.nout());
  double out_tol = 1e-5 * ref_max, lse_rel = 1e-5, probs_rel = 1e-5;
  if (tc) {
    const double u = d.dt == F16 ? 0x1p-11 : 0x1p-8;
    out_tol = 2 * u * d.vmax * d.keep + 1e-5 * ref_max;
    lse_rel = probs_rel = 1e-4;
  }
  char msg[256] = {0};
  double md_out = 0, md_lse = 0, md_probs = 0;
  bool ok = compare("out", d.ref_out, d.out, d.nout(), out_tol, &md_out, msg, sizeof msg);
  if (ok && d.lse)
    ok = compare("lse", d.ref_lse, d.lse, d.nlse(), lse_rel * fmax(1.0, max_abs(d.ref_lse, d.nlse())),
                 &md_lse, msg, sizeof msg);
  if (ok && d.probs)
    ok = compare("probs", d.ref_probs, d.probs, d.nprobs(),
                 probs_rel * fmax(1e-30, max_abs(d.ref_probs, d.nprobs())), &md_probs, msg,
                 sizeof msg);
  if (!ok) {
    printf("  %s: MISMATCH %s\n", label, msg);
    ++g_failures;
    return;
  }
  printf("  %s ok  out %.1e (of max|ref| %.2g)", label, ref_max > 0 ? md_out / ref_max : md_out,
         ref_max);
  if (d.lse) printf("  lse %.1e", md_lse);
  if (d.probs) printf("  probs %.1e", md_probs);
  printf("\n");
}

void reference(Data& d) {
  const kx::AttentionParams<float> p = params_f32(d, d.ref_out, d.ref_lse, d.ref_probs);
  const Status s = kx::attention_f32(nullptr, p);
  if (s != kx::OK) {
    printf("  %s: CPU kernel status %d\n", d.c.name, (int)s);
    ++g_failures;
  }
}

// Argument errors: the same codes as the CPU kernel, before any device is touched.
void check_arguments(bool have_device) {
  printf("argument checks:\n");
  const int before = g_failures;
  Case c = {"args", 1, 2, 1, 3, 4, 8, 8, K_ALL_NONE, false, M_NONE, B_NONE, 0, false, false, 1, 0};
  uint64_t st = 1;
  Data d;
  fill(d, c, F32, &st);
  char err[256];
  auto expect = [&](const char* what, kx::AttentionParams<float> p, Status want,
                    bool empty = false) {
    // (the CPU kernel does not test pointers: not called with a null one)
    const Status cpu = want == kx::E_INTERNAL ? want : kx::attention_f32(nullptr, p);
    err[0] = 0;
    const Status emu = kx::cuda::emu::attention_f32(p, err, sizeof err);
    err[0] = 0;
    const Status host = kx::cuda::attention_f32(p, err, sizeof err);
    // Without a device a valid call reports E_BACKEND ("no CUDA device: ..."), unless there is
    // nothing to compute.
    const Status host_want = want == kx::OK && !have_device && !empty ? kx::E_BACKEND : want;
    const bool ok = emu == want && host == host_want && cpu == want;
    if (!ok) {
      printf("  %s: cpu %d, emu %d, cuda %d (%s); want %d\n", what, (int)cpu, (int)emu, (int)host,
             err, (int)want);
      ++g_failures;
    }
  };
  kx::AttentionParams<float> p = params_f32(d, d.out, nullptr, nullptr);
  expect("valid", p, kx::OK);
  kx::AttentionParams<float> b = p;
  b.Hkv = 3;
  expect("H not a multiple of Hkv", b, kx::E_SHAPE);
  b = p, b.Nk = -1;
  expect("Nk < 0", b, kx::E_SHAPE);
  b = p, b.Hkv = 0;
  expect("Hkv = 0", b, kx::E_SHAPE);
  int32_t bad_kind[2] = {0, 5};
  b = p, b.head_kind = bad_kind;
  expect("head kind 5", b, kx::E_RANGE);
  int32_t bad_len[1] = {5};
  b = p, b.key_lengths = bad_len;
  expect("key length > Nk", b, kx::E_RANGE);
  b = p, b.dropout = true, b.dropout_threshold = (1u << 24) + 1;
  expect("threshold > 2^24", b, kx::E_RANGE);
  b = p, b.q = nullptr;
  expect("null q", b, kx::E_INTERNAL);
  b = p, b.B = 0;
  expect("B = 0", b, kx::OK, true);
  // Half inputs: same checks.
  kx::cuda::AttentionParams16 h;
  memset(&h, 0, sizeof h);
  h.B = 1, h.H = 2, h.Hkv = 4, h.Nq = 1, h.Nk = 1, h.D = 1, h.Dv = 1;
  const Status e16 = kx::cuda::emu::attention_f16(h, true, err, sizeof err);
  const Status c16 = kx::cuda::attention_bf16(h, err, sizeof err);
  if (e16 != kx::E_SHAPE || c16 != kx::E_SHAPE) {
    printf("  half shape check: emu %d, cuda %d; want %d\n", (int)e16, (int)c16, (int)kx::E_SHAPE);
    ++g_failures;
  }
  printf("  %s\n", g_failures == before ? "ok" : "FAILED");
}

void run_cases(bool emu, uint64_t seed) {
  printf("%s:\n", emu ? "kernel block code on the CPU (emu)" : "CUDA");
  int n = 0;
  for (const Case& c : kCases) {
    if (emu && case_work(c) > kEmuMaxWork) continue;
    for (int dt = F32; dt <= BF16; ++dt) {
      uint64_t st = seed ^ (0x51ED270B27F1A3ull * (uint64_t)(++n));
      Data d;
      fill(d, c, dt, &st);
      reference(d);
      if (emu) {
        check_one(d, EMU_F32K, false);
        if (dt != F32) check_one(d, EMU_TC, true);
      } else {
        check_one(d, CUDA_HOST, true);
        if (dt != F32) check_one(d, CUDA_HOST, false);
        if (c.chunk_bytes == 0 && (c.mask != M_NONE || c.bias != B_NONE || c.key_lengths))
          check_one(d, CUDA_DEV, true);
      }
    }
  }
}


// Kernel-only timings through the device-pointer API (inputs resident on the device).
int bench(int reps, int cc_major, int smem_optin) {
  const int64_t B = 1, H = 8, D = 64;
  printf("timing (device memory, cudaEvent, median of %d; TFLOP/s = 4 B H N^2 D / time, the "
         "dense count also for causal):\n",
         reps);
  for (int dt = F32; dt <= BF16; ++dt) {
    printf("  %s: %s\n", dtype_name(dt),
           kx::cuda::attention_kernel_name(dt, D, D, cc_major, smem_optin));
    for (int64_t N : {int64_t(1024), int64_t(4096)}) {
      const int64_t n = B * H * N * D;
      const size_t es = dt == F32 ? 4 : 2;
      void *q = nullptr, *k = nullptr, *v = nullptr;
      float* out = nullptr;
      int32_t* kinds = nullptr;
      CK(cudaMalloc(&q, (size_t)n * es));
      CK(cudaMalloc(&k, (size_t)n * es));
      CK(cudaMalloc(&v, (size_t)n * es));
      CK(cudaMalloc(&out, (size_t)n * 4));
      CK(cudaMalloc(&kinds, (size_t)H * 4));
      {  // random inputs, so the exponentials see real values
        uint64_t st = 12345;
        void* h = malloc((size_t)n * es);
        if (h == nullptr) return 2;
        for (void* dptr : {q, k, v}) {
          for (int64_t i = 0; i < n; ++i) {
            const float f = (float)gauss(&st);
            if (dt == F32) ((float*)h)[i] = f;
            else ((uint16_t*)h)[i] = to16(dt, f);
          }
          CK(cudaMemcpy(dptr, h, (size_t)n * es, cudaMemcpyHostToDevice));
        }
        free(h);
      }
      for (int causal = 0; causal < 2; ++causal) {
        int32_t hk[8];
        for (int h = 0; h < 8; ++h) hk[h] = causal ? kx::MASK_CAUSAL : kx::MASK_NONE;
        CK(cudaMemcpy(kinds, hk, sizeof hk, cudaMemcpyHostToDevice));
        kx::cuda::AttentionParams16 p16;
        kx::AttentionParams<float> p32;
        memset(&p16, 0, sizeof p16);
        memset(&p32, 0, sizeof p32);
        p16.B = p32.B = B, p16.H = p32.H = H, p16.Hkv = p32.Hkv = H;
        p16.Nq = p32.Nq = N, p16.Nk = p32.Nk = N, p16.D = p32.D = D, p16.Dv = p32.Dv = D;
        p16.scale = p32.scale = 1.0 / sqrt((double)D);
        p16.head_kind = p32.head_kind = kinds;
        p16.q = (const uint16_t*)q, p16.k = (const uint16_t*)k, p16.v = (const uint16_t*)v;
        p32.q = (const float*)q, p32.k = (const float*)k, p32.v = (const float*)v;
        p16.out = p32.out = out;
        char err[256] = {0};
        auto run = [&]() -> Status {
          return dt == F32   ? kx::cuda::dev::attention_f32(p32, nullptr, err, sizeof err)
                 : dt == F16 ? kx::cuda::dev::attention_f16(p16, nullptr, err, sizeof err)
                             : kx::cuda::dev::attention_bf16(p16, nullptr, err, sizeof err);
        };
        Status s = run();  // warm-up
        CK(cudaDeviceSynchronize());
        cudaEvent_t t0, t1;
        CK(cudaEventCreate(&t0));
        CK(cudaEventCreate(&t1));
        float ms_all[64];
        const int r = reps < 64 ? reps : 64;
        for (int i = 0; i < r && s == kx::OK; ++i) {
          CK(cudaEventRecord(t0));
          s = run();
          CK(cudaEventRecord(t1));
          CK(cudaEventSynchronize(t1));
          CK(cudaEventElapsedTime(&ms_all[i], t0, t1));
        }
        CK(cudaEventDestroy(t0));
        CK(cudaEventDestroy(t1));
        if (s != kx::OK) {
          printf("  %s: status %d: %s\n", dtype_name(dt), (int)s, err);
          return 2;
        }
        for (int i = 1; i < r; ++i)  // insertion sort for the median
          for (int j = i; j > 0 && ms_all[j] < ms_all[j - 1]; --j) {
            const float t = ms_all[j];
            ms_all[j] = ms_all[j - 1], ms_all[j - 1] = t;
          }
        const double ms = ms_all[r / 2];
        const double tflops = 4.0 * B * H * (double)N * N * D / (ms * 1e-3) / 1e12;
        printf("BENCH dtype=%s B=%lld H=%lld N=%lld D=%lld mask=%s ms=%.4f tflops=%.2f\n",
               dtype_name(dt), (long long)B, (long long)H, (long long)N, (long long)D,
               causal ? "causal" : "none", ms, tflops);
      }
      cudaFree(q), cudaFree(k), cudaFree(v), cudaFree(out), cudaFree(kinds);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CheckArgs args;
  if (!parse_check_args(argc, argv, &args)) return 2;
  const uint64_t seed = args.seed;
  const int reps = args.reps;
  const bool do_bench = args.do_bench, do_emu = args.do_emu;
  printf("kexue CUDA attention check, seed %llu (rerun with --seed %llu), cpu isa %s\n",
         (unsigned long long)seed, (unsigned long long)seed, kx::isa_name(kx::isa_active()));

  char reason[256] = {0};
  const int ndev = kx::cuda::device_count(reason, sizeof reason);
  check_arguments(ndev > 0);
  if (do_emu) run_cases(true, seed);
  if (ndev == 0) {
    if (g_failures > 0 || g_cuda_error) {
      printf("FAILED: %d mismatching case(s) in the CPU emulation%s\n", g_failures,
             g_cuda_error ? ", and errors (above)" : "");
      return g_failures > 0 ? 1 : 2;
    }
    printf("no CUDA device: %s\n", reason);
    return 0;
  }
  char err[256] = {0}, name[256] = {0};
  const int dev = kx::cuda::default_device(err, sizeof err);
  int major = 0, minor = 0, rt = 0, drv = 0, optin = 0;
  size_t mem = 0;
  kx::cuda::versions(&rt, &drv);
  if (dev < 0 || kx::cuda::device_info(dev, name, sizeof name, &major, &minor, &mem, err,
                                       sizeof err) != kx::OK) {
    printf("device query failed: %s\n", err);
    return 2;
  }
  CK(cudaSetDevice(dev));
  CK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  printf("device %d: %s, compute capability %d.%d, %.1f GiB, %d KiB shared memory per block; "
         "runtime %d, driver %d\n",
         dev, name, major, minor, (double)mem / (1 << 30), optin / 1024, rt, drv);
  run_cases(false, seed);
  if (g_failures > 0 || g_cuda_error) {
    printf("FAILED: %d mismatching case(s)%s\n", g_failures,
           g_cuda_error ? ", and CUDA errors (above)" : "");
    return g_failures > 0 ? 1 : 2;
  }
  printf("all checks passed\n");
  if (do_bench) {
    const int rc = bench(reps, major, optin);
    if (rc != 0) return rc;
  }
  return 0;
}
