// Attention: dispatch of the float32 flash kernel to the best instruction set, the float64
// forward (row by row, float64 throughout), and the backward pass for both (row by row, float64
// accumulation). Our own code because the kernels must share native/core with the wasm build
// and match the pure-TS reference's semantics exactly (masks, dropout words, empty rows).
#define KX_ISA_NS portable
#include "attention_simd.h"
#include "attention_isa.h"
#include "random.h"
KX_DEFINE_ATTENTION_TABLE(attention_table_portable)

namespace kx {

namespace {

const AttentionIsaTable& attention_table() {
#if defined(__x86_64__) || defined(_M_X64)
  const Isa isa = isa_active();
  if (isa == ISA_AVX2) return attention_table_avx2;
  if (isa == ISA_SSE2) return attention_table_sse2;
#endif
  return attention_table_portable;
}

template <class T>
Status check(const AttentionParams<T>& p) {
  if (p.B < 0 || p.H < 0 || p.Hkv < 1 || p.Nq < 0 || p.Nk < 0 || p.D < 0 || p.Dv < 0 || p.H % p.Hkv != 0)
    return E_SHAPE;
  for (int64_t h = 0; h < p.H; ++h)
    if (p.head_kind[h] < MASK_NONE || p.head_kind[h] > MASK_ANTICAUSAL) return E_RANGE;
  if (p.key_lengths != nullptr)
    for (int64_t b = 0; b < p.B; ++b)
      if (p.key_lengths[b] < 0 || p.key_lengths[b] > p.Nk) return E_RANGE;
  if (p.dropout && p.dropout_threshold > (1u << 24)) return E_RANGE;
  return OK;
}

// Scores of row (b, h, i) in float64 (-inf where hidden) into row[Nk]; returns the row max.
template <class T>
double score_row(const AttentionParams<T>& p, int64_t b, int64_t h, int64_t i, double* row) {
  const int64_t hk = h / (p.H / p.Hkv), off = p.Nk - p.Nq;
  const int64_t key_len = p.key_lengths != nullptr ? p.key_lengths[b] : p.Nk;
  const T* q = p.q + ((b * p.H + h) * p.Nq + i) * p.D;
  double mx = -INFINITY;
  for (int64_t j = 0; j < p.Nk; ++j) {
    bool visible = j < key_len && mask_kind_allows(p.head_kind[h], i, j, off);
    if (visible && p.mask != nullptr)
      visible = p.mask[b * p.mask_stride[0] + h * p.mask_stride[1] + i * p.mask_stride[2] + j * p.mask_stride[3]] != 0;
    if (!visible) {
      row[j] = -INFINITY;
      continue;
    }
    const T* k = p.k + ((b * p.Hkv + hk) * p.Nk + j) * p.D;
    double s = 0;
    for (int64_t d = 0; d < p.D; ++d) s += (double)q[d] * (double)k[d];
    s *= p.scale;
    if (p.bias != nullptr)
      s += (double)p.bias[b * p.bias_stride[0] + h * p.bias_stride[1] + i * p.bias_stride[2] + j * p.bias_stride[3]];
    row[j] = s;
    mx = s > mx ? s : mx;
  }
  return mx;
}

// Softmax of the row in place; returns lse (-inf when nothing is visible).
inline double softmax_row(double* row, int64_t n, double mx) {
  if (mx == -INFINITY) {
    for (int64_t j = 0; j < n; ++j) row[j] = 0;
    return -INFINITY;
  }
  double l = 0;
  for (int64_t j = 0; j < n; ++j) {
    row[j] = exp(row[j] - mx);
    l += row[j];
  }
  for (int64_t j = 0; j < n; ++j) row[j] /= l;
  return mx + log(l);
}

// Dropout factors of row (b, h, i): mask / (1 - p), or 1.
template <class T>
void keep_row(const AttentionParams<T>& p, int64_t b, int64_t h, int64_t i, uint32_t* words, double* keep) {
  if (!p.dropout) {
    for (int64_t j = 0; j < p.Nk; ++j) keep[j] = 1;
    return;
  }
  random_words(nullptr, p.dropout_rng, ((b * p.H + h) * p.Nq + i) * p.Nk, p.Nk, words);
  for (int64_t j = 0; j < p.Nk; ++j) keep[j] = (words[j] >> 8) >= p.dropout_threshold ? p.dropout_scale : 0.0;
}

struct RowScratch {
  double* row;
  double* keep;
  double* acc;
  uint32_t* words;
  void* base;
  bool ok(int64_t Nk, int64_t n_acc) {
    base = alloc((size_t)(2 * Nk + n_acc) * sizeof(double) + (size_t)Nk * sizeof(uint32_t) + 16);
    if (base == nullptr) return false;
    row = (double*)base;
    keep = row + Nk;
    acc = keep + Nk;
    words = (uint32_t*)(acc + n_acc);
    return true;
  }
};

template <class T>
struct FwdCtx {
  const AttentionParams<T>* p;
  bool failed;
};

template <class T>
void forward_rows(void* c, int64_t begin, int64_t end) {
  FwdCtx<T>& ctx = *(FwdCtx<T>*)c;
  const AttentionParams<T>& p = *ctx.p;
  RowScratch s;
  if (!s.ok(p.Nk, p.Dv)) {
    ctx.failed = true;
    return;
  }
  for (int64_t r = begin; r < end; ++r) {  // r = (b * H + h) * Nq + i
    const int64_t i = r % p.Nq, bh = r / p.Nq, b = bh / p.H, h = bh % p.H;
    const int64_t hk = h / (p.H / p.Hkv);
    const double lse = softmax_row(s.row, p.Nk, score_row(p, b, h, i, s.row));
    if (p.lse != nullptr) p.lse[r] = (T)lse;
    if (p.probs != nullptr)
      for (int64_t j = 0; j < p.Nk; ++j) p.probs[r * p.Nk + j] = (T)s.row[j];
    keep_row(p, b, h, i, s.words, s.keep);
    for (int64_t e = 0; e < p.Dv; ++e) s.acc[e] = 0;
    for (int64_t j = 0; j < p.Nk; ++j) {
      const double pj = s.row[j] * s.keep[j];
      if (pj == 0) continue;
      const T* v = p.v + ((b * p.Hkv + hk) * p.Nk + j) * p.Dv;
      for (int64_t e = 0; e < p.Dv; ++e) s.acc[e] += pj * (double)v[e];
    }
    for (int64_t e = 0; e < p.Dv; ++e) p.out[r * p.Dv + e] = (T)s.acc[e];
  }
  release(s.base);
}

template <class T>
struct BwdCtx {
  const AttentionBackwardParams<T>* p;
  bool failed;
};

// One (b, key/value head) per item: it owns dk and dv of that head and dq of its query heads, so
// no two threads write the same element and the sums run in a fixed order.
template <class T>
void backward_groups(void* c, int64_t begin, int64_t end) {
  BwdCtx<T>& ctx = *(BwdCtx<T>*)c;
  const AttentionBackwardParams<T>& bp = *ctx.p;
  const AttentionParams<T>& p = bp.f;
  const int64_t group = p.H / p.Hkv;
  const int64_t kv_elems = p.Nk * (p.D + p.Dv);
  RowScratch s;
  if (!s.ok(p.Nk, 2 * p.Nk + p.D + kv_elems)) {
    ctx.failed = true;
    return;
  }
  double* dp = s.acc;            // [Nk]
  double* ds = dp + p.Nk;        // [Nk]
  double* dq = ds + p.Nk;        // [D]
  double* dk = dq + p.D;         // [Nk][D]
  double* dv = dk + p.Nk * p.D;  // [Nk][Dv]
  for (int64_t g = begin; g < end; ++g) {
    const int64_t b = g / p.Hkv, hk = g % p.Hkv;
    for (int64_t x = 0; x < kv_elems; ++x) dk[x] = 0;
    const T* kb = p.k + (b * p.Hkv + hk) * p.Nk * p.D;
    const T* vb = p.v + (b * p.Hkv + hk) * p.Nk * p.Dv;
    for (int64_t h = hk * group; h < (hk + 1) * group; ++h) {
      for (int64_t i = 0; i < p.Nq; ++i) {
        const int64_t r = (b * p.H + h) * p.Nq + i;
        softmax_row(s.row, p.Nk, score_row(p, b, h, i, s.row));
        keep_row(p, b, h, i, s.words, s.keep);
        const T* dout = bp.d_out + r * p.Dv;
        const T* q = p.q + r * p.D;
        double dot = 0;
        for (int64_t j = 0; j < p.Nk; ++j) {
          dp[j] = 0;
          if (s.row[j] == 0) continue;
          double t = 0;
          for (int64_t e = 0; e < p.Dv; ++e) t += (double)dout[e] * (double)vb[j * p.Dv + e];
          dp[j] = t;
          const double pd = s.row[j] * s.keep[j];
          dot += pd * t;
          if (pd != 0)
            for (int64_t e = 0; e < p.Dv; ++e) dv[j * p.Dv + e] += pd * (double)dout[e];
        }
        for (int64_t d = 0; d < p.D; ++d) dq[d] = 0;
        for (int64_t j = 0; j < p.Nk; ++j) {
          if (s.row[j] == 0) continue;
          const double g2 = s.row[j] * (dp[j] * s.keep[j] - dot) * p.scale;
          for (int64_t d = 0; d < p.D; ++d) {
            dq[d] += g2 * (double)kb[j * p.D + d];
            dk[j * p.D + d] += g2 * (double)q[d];
          }
        }
        for (int64_t d = 0; d < p.D; ++d) bp.dq[r * p.D + d] = (T)dq[d];
      }
    }
    for (int64_t x = 0; x < p.Nk * p.D; ++x) bp.dk[(b * p.Hkv + hk) * p.Nk * p.D + x] = (T)dk[x];
    for (int64_t x = 0; x < p.Nk * p.Dv; ++x) bp.dv[(b * p.Hkv + hk) * p.Nk * p.Dv + x] = (T)dv[x];
  }
  release(s.base);
}

template <class T>
Status backward(const Exec* ex, const AttentionBackwardParams<T>& bp) {
  const Status st = check(bp.f);
  if (st != OK) return st;
  BwdCtx<T> ctx{&bp, false};
  parallel_for(ex, bp.f.B * bp.f.Hkv, 1, backward_groups<T>, &ctx);
  return ctx.failed ? E_OOM : OK;
}

}  // namespace

Status attention_f32(const Exec* ex, const AttentionParams<float>& p) {
  const Status st = check(p);
  if (st != OK) return st;
  return attention_table().attention_f32(ex, p);
}

Status attention_f64(const Exec* ex, const AttentionParams<double>& p) {
  const Status st = check(p);
  if (st != OK) return st;
  FwdCtx<double> ctx{&p, false};
  parallel_for(ex, p.B * p.H * p.Nq, 16, forward_rows<double>, &ctx);
  return ctx.failed ? E_OOM : OK;
}

Status attention_backward_f32(const Exec* ex, const AttentionBackwardParams<float>& p) { return backward(ex, p); }
Status attention_backward_f64(const Exec* ex, const AttentionBackwardParams<double>& p) { return backward(ex, p); }

}  // namespace kx
