// The float32 flash-attention kernel, compiled once per instruction set (attention_x86_*.cc and,
// for the portable / wasm build, attention.cc). Per work item (batch b, head h, a tile of BR
// queries): for each tile of BC keys the mask does not hide entirely,
//   S = (scale Q) K^T            micro-kernel 1: MR x NR register tiles, K transposed to [D][BC]
//   S += bias; hidden -> -inf
//   m' = max(m, rowmax S); P = exp(S - m'); l = l e^(m - m') + rowsum P; O = O e^(m - m')
//   P *= dropout factors         (after the sum: the normaliser is the undropped softmax's)
//   O += P V                     micro-kernel 2, V copied to [BC][Dv rounded up to NR]
// then out = O / l and lse = m + ln l. P is never stored unless probs are asked for (a second
// pass writes exp(S - lse)). Each item is computed by one thread in a fixed order, so results do
// not depend on the thread count.
// Scores are kept in base 2 (log2 e folded into the query scale, the bias multiplied by it), so
// the exponentials are exp2. The running max m is raised only when a tile's max exceeds it by
// more than kLazy (so P stays below 2^kLazy): most tiles then skip rescaling O.
#pragma once
#include <math.h>

#include "attention.h"
#include "random_simd.h"
#include "simd_float.h"

namespace kx {
namespace KX_ISA_NS {
namespace attn {

constexpr int MR = 6;        // rows per register tile
constexpr int NR = 2 * WF;   // columns per register tile (two vectors)
constexpr int BR = 12 * MR;  // queries per work item (72)
constexpr int BC = 64;       // keys per tile
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2 = 0.693147180559945309f;
constexpr float kLazy = 8.f;  // log2 of the largest P value before m is raised
static_assert(BC % NR == 0, "a key tile holds whole register tiles");

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// S[r][c] = sum_d Qs[r][d] Kt[d][c] for r < rows (rows padded to MR), c < BC; Kt's rows are ldk apart.
// Column blocks outside, row blocks inside: one NR-wide slice of Kt (D x NR floats) stays in L1
// while every row block of Qs streams past it.
inline void gemm_qk(const float* Qs, const float* Kt, int64_t ldk, int64_t D, int64_t rows, float* S) {
  for (int c = 0; c < BC; c += NR) {
    for (int64_t r = 0; r < rows; r += MR) {
      VF acc[MR][2];
      for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = splatf(0.f);
      const float* q = Qs + r * D;
      for (int64_t d = 0; d < D; ++d) {
        const VF k0 = loadf(Kt + d * ldk + c);
        const VF k1 = loadf(Kt + d * ldk + c + WF);
        for (int i = 0; i < MR; ++i) {
          const VF qb = splatf(q[i * D + d]);
          acc[i][0] = fmadd(qb, k0, acc[i][0]);
          acc[i][1] = fmadd(qb, k1, acc[i][1]);
        }
      }
      for (int i = 0; i < MR; ++i) {
        storef(S + (r + i) * BC + c, acc[i][0]);
        storef(S + (r + i) * BC + c + WF, acc[i][1]);
      }
    }
  }
}

// O[r][e] += sum_{t < kmax} P[r][t] Vp[t][e] for r < rows (padded to MR), e < DvP (a multiple of
// NR); Vp's rows are ldv apart.
// Likewise: one NR-wide slice of V stays in L1 while the row blocks of P stream past it.
inline void gemm_pv(const float* P, const float* Vp, int64_t ldv, int64_t DvP, int64_t rows, int64_t kmax, float* O) {
  for (int64_t e = 0; e < DvP; e += NR) {
    for (int64_t r = 0; r < rows; r += MR) {
      VF acc[MR][2];
      for (int i = 0; i < MR; ++i) {
        acc[i][0] = loadf(O + (r + i) * DvP + e);
        acc[i][1] = loadf(O + (r + i) * DvP + e + WF);
      }
      const float* p = P + r * BC;
      for (int64_t t = 0; t < kmax; ++t) {
        const VF v0 = loadf(Vp + t * ldv + e);
        const VF v1 = loadf(Vp + t * ldv + e + WF);
        for (int i = 0; i < MR; ++i) {
          const VF pb = splatf(p[i * BC + t]);
          acc[i][0] = fmadd(pb, v0, acc[i][0]);
          acc[i][1] = fmadd(pb, v1, acc[i][1]);
        }
      }
      for (int i = 0; i < MR; ++i) {
        storef(O + (r + i) * DvP + e, acc[i][0]);
        storef(O + (r + i) * DvP + e + WF, acc[i][1]);
      }
    }
  }
}

// K transposed and V padded once per call (shared by every query tile of a head):
// kt [B * Hkv][NkP / BC][D][BC], tile by tile, NkP = Nk rounded up to BC, zero past Nk (tile-major,
// so one tile's rows are BC floats apart: rows Nk apart would all fall in the same L1 cache sets);
// vp is v itself when Dv is a multiple of NR, else [B * Hkv][Nk][DvP] with zero columns past Dv.
struct Shared {
  const float* kt;
  int64_t NkP;
  const float* vp;
  int64_t ldv;
};

struct Scratch {
  float* Qs;  // [BR][D], scaled queries, zero rows past the end
  float* S;   // [BR][BC]
  float* O;   // [BR][DvP]
  float* m;   // [BR]
  float* l;   // [BR]
  uint32_t* words;  // [BC]
};

inline size_t scratch_floats(const AttentionParams<float>& p) {
  const int64_t DvP = round_up(p.Dv, NR);
  return (size_t)(BR * p.D + BR * BC + BR * DvP + 2 * BR + BC) + 16;
}

struct Item {
  const AttentionParams<float>* p;
  const Shared* sh;
  int64_t b, h, hk, i0, rows, DvP;
  int32_t kind;
  int64_t key_len;
};

// The scores of key tile [j0, j0 + cols) for the item's rows, into s.S, with bias and masks
// applied (hidden -> -inf, including the columns past cols).
inline void score_tile(const Item& it, const Scratch& s, int64_t j0, int64_t cols) {
  const AttentionParams<float>& p = *it.p;
  const int64_t D = p.D, NkP = it.sh->NkP;
  gemm_qk(s.Qs, it.sh->kt + (it.b * p.Hkv + it.hk) * D * NkP + j0 * D, BC, D, round_up(it.rows, MR), s.S);
  const int64_t off = p.Nk - p.Nq;
  const float ninf = -INFINITY;
  for (int64_t r = 0; r < it.rows; ++r) {
    float* srow = s.S + r * BC;
    const int64_t i = it.i0 + r;
    if (p.bias != nullptr) {
      const float* br = p.bias + it.b * p.bias_stride[0] + it.h * p.bias_stride[1] + i * p.bias_stride[2];
      for (int64_t c = 0; c < cols; ++c) srow[c] += br[(j0 + c) * p.bias_stride[3]] * kLog2e;
    }
    if (it.kind != MASK_NONE) {
      // The hidden columns of a structural kind form one range (or one column) per row.
      const int64_t dcol = i + off - j0;  // the column of key j = i + off
      int64_t a = 0, b = 0;
      switch (it.kind) {
        case MASK_CAUSAL: a = dcol + 1, b = cols; break;
        case MASK_NO_SELF: a = dcol, b = dcol + 1; break;
        case MASK_CAUSAL_NO_SELF: a = dcol, b = cols; break;
        case MASK_ANTICAUSAL: a = 0, b = dcol; break;
        default: break;
      }
      a = a < 0 ? 0 : a;
      b = b > cols ? cols : b;
      for (int64_t c = a; c < b; ++c) srow[c] = ninf;
    }
    if (j0 + cols > it.key_len)
      for (int64_t c = it.key_len > j0 ? it.key_len - j0 : 0; c < cols; ++c) srow[c] = ninf;
    if (p.mask != nullptr) {
      const uint8_t* mr = p.mask + it.b * p.mask_stride[0] + it.h * p.mask_stride[1] + i * p.mask_stride[2];
      for (int64_t c = 0; c < cols; ++c)
        if (mr[(j0 + c) * p.mask_stride[3]] == 0) srow[c] = ninf;
    }
    for (int64_t c = cols; c < BC; ++c) srow[c] = ninf;
  }
}

// The key range [lo, hi) the item's rows may see at all (the rest is skipped, tile by tile).
inline void key_range(const Item& it, int64_t* lo, int64_t* hi) {
  const AttentionParams<float>& p = *it.p;
  const int64_t off = p.Nk - p.Nq;
  int64_t a = 0, b = it.key_len;
  const int64_t last = it.i0 + it.rows - 1;
  if (it.kind == MASK_CAUSAL) b = b < last + off + 1 ? b : last + off + 1;
  if (it.kind == MASK_CAUSAL_NO_SELF) b = b < last + off ? b : last + off;
  if (it.kind == MASK_ANTICAUSAL) a = it.i0 + off > 0 ? it.i0 + off : 0;
  *lo = a;
  *hi = b > a ? b : a;
}

inline void run_item(const Item& it, const Scratch& s) {
  const AttentionParams<float>& p = *it.p;
  const int64_t D = p.D, Dv = p.Dv, DvP = it.DvP;
  const int64_t rows_p = round_up(it.rows, MR);
  const float scale = (float)(p.scale * 1.4426950408889634);  // base-2 scores
  // Scaled queries, zero rows past the end.
  const float* qb = p.q + ((it.b * p.H + it.h) * p.Nq + it.i0) * D;
  for (int64_t r = 0; r < rows_p; ++r)
    for (int64_t d = 0; d < D; ++d) s.Qs[r * D + d] = r < it.rows ? qb[r * D + d] * scale : 0.f;
  for (int64_t x = 0; x < rows_p * DvP; ++x) s.O[x] = 0.f;
  for (int64_t r = 0; r < BR; ++r) {
    s.m[r] = -INFINITY;
    s.l[r] = 0.f;
  }
  int64_t lo, hi;
  key_range(it, &lo, &hi);
  const float* vb = it.sh->vp + (it.b * p.Hkv + it.hk) * p.Nk * it.sh->ldv;
  const int64_t prow = (it.b * p.H + it.h) * p.Nq;  // flat row index of query 0 of this head
  for (int64_t j0 = lo - lo % BC; j0 < hi; j0 += BC) {  // whole tiles; the mask hides keys below lo
    const int64_t cols = hi - j0 < BC ? hi - j0 : BC;
    score_tile(it, s, j0, cols);
    for (int64_t r = 0; r < it.rows; ++r) {
      float* srow = s.S + r * BC;
      VF mx = splatf(-INFINITY);
      for (int c = 0; c < BC; c += WF) mx = maxf(mx, loadf(srow + c));
      const float tile_max = hmax(mx);
      const float m_new = tile_max > s.m[r] + kLazy || s.m[r] == -INFINITY ? tile_max : s.m[r];
      if (m_new == -INFINITY) {  // nothing visible yet in this row
        for (int c = 0; c < BC; ++c) srow[c] = 0.f;
        continue;
      }
      const VF mv = splatf(m_new);
      VF sum = splatf(0.f);
      for (int c = 0; c < BC; c += WF) {
        const VF e = exp2_v(loadf(srow + c) - mv);
        storef(srow + c, e);
        sum += e;
      }
      const float alpha = s.m[r] == -INFINITY ? 0.f : exp2f(s.m[r] - m_new);
      s.l[r] = s.l[r] * alpha + hsum(sum);
      s.m[r] = m_new;
      if (alpha != 1.f) {
        const VF av = splatf(alpha);
        float* o = s.O + r * DvP;
        for (int64_t e = 0; e < DvP; e += WF) storef(o + e, loadf(o + e) * av);
      }
      if (p.dropout) {
        words_range(p.dropout_rng, (prow + it.i0 + r) * p.Nk + j0, cols, s.words);
        const float keep = (float)p.dropout_scale;
        for (int64_t c = 0; c < cols; ++c) srow[c] = (s.words[c] >> 8) >= p.dropout_threshold ? srow[c] * keep : 0.f;
      }
    }
    for (int64_t r = it.rows; r < rows_p; ++r)
      for (int c = 0; c < BC; ++c) s.S[r * BC + c] = 0.f;
    gemm_pv(s.S, vb + j0 * it.sh->ldv, it.sh->ldv, DvP, rows_p, cols, s.O);
  }
  for (int64_t r = 0; r < it.rows; ++r) {
    const int64_t row = prow + it.i0 + r;
    float* out = p.out + row * Dv;
    const float l = s.l[r];
    const float inv = l > 0.f ? 1.f / l : 0.f;
    for (int64_t e = 0; e < Dv; ++e) out[e] = s.O[r * DvP + e] * inv;
    const float lse2 = l > 0.f ? s.m[r] + log2f(l) : -INFINITY;  // base 2
    if (p.lse != nullptr) p.lse[row] = lse2 * kLn2;
    s.m[r] = lse2;  // for the probabilities pass
  }
  if (p.probs == nullptr) return;
  for (int64_t j0 = 0; j0 < p.Nk; j0 += BC) {
    const int64_t cols = p.Nk - j0 < BC ? p.Nk - j0 : BC;
    const bool visible = j0 + cols > lo && j0 < hi;  // j0 is a multiple of BC here too
    if (visible) score_tile(it, s, j0, cols);
    for (int64_t r = 0; r < it.rows; ++r) {
      float* pr = p.probs + (prow + it.i0 + r) * p.Nk + j0;
      const float lse = s.m[r];
      if (!visible || lse == -INFINITY) {
        for (int64_t c = 0; c < cols; ++c) pr[c] = 0.f;
        continue;
      }
      const float* srow = s.S + r * BC;
      const VF lv = splatf(lse);
      alignas(64) float e[BC];
      for (int c = 0; c < BC; c += WF) storef(e + c, exp2_v(loadf(srow + c) - lv));
      for (int64_t c = 0; c < cols; ++c) pr[c] = e[c];
    }
  }
}

struct RunCtx {
  const AttentionParams<float>* p;
  const Shared* sh;
  int64_t q_tiles;
  bool failed;
};

struct PrepCtx {
  const AttentionParams<float>* p;
  float* kt;
  float* vp;  // or null
  int64_t NkP, DvP;
};

// Transposes K (and pads V) of key/value heads [begin, end).
inline void prepare_heads(void* c, int64_t begin, int64_t end) {
  PrepCtx& x = *(PrepCtx*)c;
  const AttentionParams<float>& p = *x.p;
  for (int64_t g = begin; g < end; ++g) {
    const float* k = p.k + g * p.Nk * p.D;
    float* kt = x.kt + g * p.D * x.NkP;
    for (int64_t j0 = 0; j0 < x.NkP; j0 += BC) {
      float* tile = kt + j0 * p.D;  // [D][BC]
      for (int64_t d = 0; d < p.D; ++d)
        for (int64_t c = 0; c < BC; ++c) tile[d * BC + c] = j0 + c < p.Nk ? k[(j0 + c) * p.D + d] : 0.f;
    }
    if (x.vp == nullptr) continue;
    const float* v = p.v + g * p.Nk * p.Dv;
    float* vp = x.vp + g * p.Nk * x.DvP;
    for (int64_t j = 0; j < p.Nk; ++j)
      for (int64_t e = 0; e < x.DvP; ++e) vp[j * x.DvP + e] = e < p.Dv ? v[j * p.Dv + e] : 0.f;
  }
}

inline void run_items(void* c, int64_t begin, int64_t end) {
  RunCtx& ctx = *(RunCtx*)c;
  const AttentionParams<float>& p = *ctx.p;
  float* buf = (float*)alloc(scratch_floats(p) * sizeof(float) + 64);
  if (buf == nullptr) {
    ctx.failed = true;
    return;
  }
  const int64_t DvP = round_up(p.Dv, NR);
  float* a = (float*)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
  Scratch s;
  s.Qs = a;
  a += BR * p.D;
  s.S = a;
  a += BR * BC;
  s.O = a;
  a += BR * DvP;
  s.m = a;
  a += BR;
  s.l = a;
  a += BR;
  s.words = (uint32_t*)a;
  for (int64_t w = begin; w < end; ++w) {
    Item it;
    it.p = &p;
    it.sh = ctx.sh;
    const int64_t bh = w / ctx.q_tiles;
    it.b = bh / p.H;
    it.h = bh % p.H;
    it.hk = it.h / (p.H / p.Hkv);
    it.kind = p.head_kind[it.h];
    // Threads take items in order: hand out the costliest query tiles of a head first (the last
    // ones under a causal mask) so that the cheap ones even out the end.
    const int64_t t = w % ctx.q_tiles;
    const bool late_heavy = it.kind == MASK_CAUSAL || it.kind == MASK_CAUSAL_NO_SELF;
    it.i0 = (late_heavy ? ctx.q_tiles - 1 - t : t) * BR;
    it.rows = p.Nq - it.i0 < BR ? p.Nq - it.i0 : BR;
    it.DvP = DvP;
    it.key_len = p.key_lengths != nullptr ? p.key_lengths[it.b] : p.Nk;
    run_item(it, s);
  }
  release(buf);
}

}  // namespace attn

inline Status attention_f32_run(const Exec* ex, const AttentionParams<float>& p) {
  using namespace attn;
  if (p.Nq == 0 || p.B == 0 || p.H == 0) return OK;
  PrepCtx prep{&p, nullptr, nullptr, round_up(p.Nk, BC), round_up(p.Dv, NR)};
  const int64_t groups = p.B * p.Hkv;
  const bool pad_v = prep.DvP != p.Dv;
  float* buf = (float*)alloc(((size_t)(groups * p.D * prep.NkP) + (pad_v ? (size_t)(groups * p.Nk * prep.DvP) : 0) + 1) *
                             sizeof(float));
  if (buf == nullptr) return E_OOM;
  prep.kt = buf;
  prep.vp = pad_v ? buf + groups * p.D * prep.NkP : nullptr;
  parallel_for(ex, groups, 1, prepare_heads, &prep);
  const Shared sh{prep.kt, prep.NkP, pad_v ? prep.vp : p.v, pad_v ? prep.DvP : p.Dv};
  RunCtx ctx{&p, &sh, (p.Nq + BR - 1) / BR, false};
  parallel_for(ex, p.B * p.H * ctx.q_tiles, 1, run_items, &ctx);
  release(buf);
  return ctx.failed ? E_OOM : OK;
}

}  // namespace KX_ISA_NS
}  // namespace kx
