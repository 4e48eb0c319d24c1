// Masked scaled-dot-product attention (techniques.md section 2).
// Layouts (row-major, contiguous): q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv],
// out [B, H, Nq, Dv], lse [B, H, Nq], probs [B, H, Nq, Nk]. Query head h reads key/value head
// h / (H / Hkv). A key is visible when the head's kind allows it (aligned bottom right:
// off = Nk - Nq), j < key_lengths[b], and mask[b, h, i, j] != 0 (mask and bias are read through
// four strides over [B, H, Nq, Nk], 0 for a broadcast dimension). A row with no visible key gives
// output 0, lse -inf, probs 0.
#pragma once
#include "kx.h"
#include "philox.h"

namespace kx {

enum MaskKind : int32_t {
  MASK_NONE = 0,
  MASK_CAUSAL = 1,          // j <= i + off
  MASK_NO_SELF = 2,         // j != i + off
  MASK_CAUSAL_NO_SELF = 3,  // j < i + off
  MASK_ANTICAUSAL = 4,      // j >= i + off
};

template <class T>
struct AttentionParams {
  int64_t B, H, Hkv, Nq, Nk, D, Dv;
  const T* q;
  const T* k;
  const T* v;
  const int32_t* head_kind;    // [H]
  const int32_t* key_lengths;  // [B] or null
  const uint8_t* mask;         // or null
  int64_t mask_stride[4];
  const T* bias;  // or null
  int64_t bias_stride[4];
  double scale;
  bool dropout;
  Rng dropout_rng;
  uint32_t dropout_threshold;  // probability (b, h, i, j) kept when word >> 8 >= this
  double dropout_scale;        // 1 / (1 - p)
  T* out;
  T* lse;    // or null
  T* probs;  // or null
};

template <class T>
struct AttentionBackwardParams {
  AttentionParams<T> f;  // out, lse and probs unused
  const T* d_out;
  T* dq;
  T* dk;
  T* dv;
};

// float32: a flash-style kernel (query tiles x key tiles, online softmax, SIMD micro-kernels,
// tiles the mask hides skipped), threads over batch x heads x query tiles. float64: row by row.
// Results do not depend on the number of threads.
Status attention_f32(const Exec* ex, const AttentionParams<float>& p);
Status attention_f64(const Exec* ex, const AttentionParams<double>& p);
// Gradients of sum(d_out * out), float64 accumulation, threads over batch x key/value heads.
Status attention_backward_f32(const Exec* ex, const AttentionBackwardParams<float>& p);
Status attention_backward_f64(const Exec* ex, const AttentionBackwardParams<double>& p);

KX_HD bool mask_kind_allows(int32_t kind, int64_t i, int64_t j, int64_t off) {
  const int64_t d = i + off;
  switch (kind) {
    case MASK_CAUSAL: return j <= d;
    case MASK_NO_SELF: return j != d;
    case MASK_CAUSAL_NO_SELF: return j < d;
    case MASK_ANTICAUSAL: return j >= d;
    default: return true;
  }
}

}  // namespace kx
