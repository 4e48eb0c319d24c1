// Integrated gradients of a built-in MLP (mlp.h, Kernels.igMlp): the path integral
// avg_grad_b = sum_k weights[k] dF/dp(base_b + alphas[k] (x_b - base_b)) as ONE fused kernel in
// float64. Our own code because no library computes it: a framework would materialise the steps x
// batch path points and their activations (memory ~ steps x batch x width), while this kernel
// streams the points through batches of P rows on the project's GEMM (gemm.cc), so memory is
// bounded by P and the network's width, never by steps x batch. The CPU addon (g++, threaded
// through Exec) and the wasm module (clang) compile this same file.
//
// The network: h_0 = p, z_l = W_l h_{l-1} + b_l, h_l = act_l(z_l) (W_l [d_l, d_{l-1}] row-major,
// PyTorch Linear layout), F = h_L[target]. Algorithm, per chunk of up to 64 inputs:
//  1. The first layer is linear in p, so along the path z_1 = u_b + alpha_k v_b with
//     u_b = W_1 base_b + b_1 and v_b = W_1 (x_b - base_b): one GEMM over the chunk's rows
//     [x_b; base_b; x_b - base_b] gives z_1(x_b), u_b and v_b (3 rows per input, not steps).
//  2. The chunk's items, path points (b, k) in (b, k) order followed by the forward-only points
//     x_b, base_b (for outputs), go in batches of P rows: Z_1 rows = u_b + alpha_k v_b (or the
//     stage 1 rows), then layer by layer H_l = act_l(Z_l) (in place; gelu keeps a copy of Z_l)
//     and Z_{l+1} = H_l W_{l+1}^T (GEMM) + b_{l+1} (added in the activation's pass). Backward on
//     the path rows (a prefix of every batch): G_L = one-hot at the target through act_L
//     (softmax: h (e_t - h_t)), G_{l-1} = (G_l W_l) . act'_{l-1} (GEMM), down to G_1 = dF/dz_1.
//  3. Again by linearity, sum_k w_k dF/dp = (sum_k w_k G_1[b, k]) W_1: the rows of G_1 are
//     accumulated into s_b in k order (act_1' fused into that pass), and one GEMM per chunk
//     gives avg_grad = S W_1.
// So the first layer, usually the widest (784 x 256 for MNIST), costs O(batch) instead of
// O(batch x steps); the remaining layers run at GEMM speed on P-row batches. Threads: the GEMMs
// thread themselves through Exec; elementwise passes are parallel over rows (the sum over
// columns) when large enough. P = 512 measured on 784-256-256-10 relu/relu/softmax, 64 steps,
// batch 64 on a 2-core Zen 3: 2 threads 23.4 / 22.6 / 21.0 ms for P = 256 / 512 / 1024, 1
// thread 34.6 / 35.2 / 37.0 ms (scratch ~ P x 8 KiB there); one input: ~0.85 ms, 2 threads.
// Determinism: every row of a GEMM result is computed by the same operations whatever the other
// rows are (gemm.cc: an element's k order depends on k only; the micro-kernel is chosen per CPU,
// not per size), except that gemm.cc takes a plain loop for m n k <= 512: every GEMM here is
// given enough (zero) padding rows to stay off that path. Elementwise passes are per row or per
// column with a fixed order, s_b sums k ascending, so the results are bitwise the same for any
// thread count, any P and any chunking of the batch. Differences from the TypeScript reference
// (lib/backends/js/ig.ts) are rounding only (the GEMM's order and FMA, the linearity above, libm's
// erf / exp / tanh).
#include "mlp.h"

#include <math.h>
#include <string.h>

#include "linalg.h"

namespace kx {

namespace {

using namespace mlp_impl;

constexpr int64_t kDefaultPoints = 512;       // path points per batch (measured below)
constexpr int64_t kChunkInputs = 64;          // inputs per stage-1 chunk
constexpr int64_t kScratchDoubles = 1 << 22;  // 32 MiB: bounds the automatic P and chunk sizes
constexpr int64_t kGemmTinyWork = 512;        // gemm.cc's kTinyWork: m n k up to this takes a plain loop
constexpr int64_t kMaxDim = 2147483647;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
inline int64_t round8(int64_t n) { return (n + 7) / 8 * 8; }

// Rows a GEMM with n columns and depth k needs (zero padding rows) to stay on gemm.cc's packed
// path, where a row's result does not depend on m.
inline int64_t min_rows(int64_t n, int64_t k) { return n * k > kGemmTinyWork ? 1 : kGemmTinyWork / (n * k) + 1; }

// C = A op(B) (beta 0) or C + A op(B) (beta 1): A m x k row-major; op(B) k x n with B = W [n, k]
// (tb) or [k, n]. One GEMM, threaded by gemm.cc (splitting it into column or row blocks run in
// parallel, each a serial GEMM, measured no faster at these sizes).
inline Status dense(const Exec* ex, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
                    int64_t ldb, bool tb, double* c, int64_t ldc, double beta) {
  return gemm_f64(ex, m, n, k, a, lda, false, b, ldb, tb, c, ldc, 1.0, beta);
}

// dF/dz_L for F = h_L[t] into g (length d).
void seed_row(int32_t code, const Consts& k, const double* h, const double* z, double* g, int64_t d, int64_t t) {
  if (code == MLP_SOFTMAX) {
    const double ht = h[t];  // the reference's dot = sum_i e_t[i] h[i], exactly h[t]
    for (int64_t i = 0; i < d; ++i) g[i] = h[i] * ((i == t ? 1.0 : 0.0) - ht);
    return;
  }
  for (int64_t i = 0; i < d; ++i) g[i] = 0;
  switch (code) {
    case MLP_IDENTITY: g[t] = 1; break;
    case MLP_RELU: g[t] = h[t] > 0 ? 1.0 : 0.0; break;
    case MLP_GELU: g[t] = gelu_grad(k, z[t]); break;
    case MLP_TANH: g[t] = 1 - h[t] * h[t]; break;
    case MLP_SIGMOID: g[t] = h[t] * (1 - h[t]); break;
    default: break;
  }
}

}  // namespace

Status ig_mlp_check_spec(const double* spec, int64_t spec_len, int64_t* layers, int64_t* d_in, int64_t* d_out,
                         int64_t* params_len, const char** why) {
  const char* dummy;
  if (why == nullptr) why = &dummy;
  if (spec == nullptr || spec_len < 4) return *why = "spec must hold [L, d_0..d_L, act_1..act_L] with L >= 1", E_SHAPE;
  const double Ld = spec[0];
  if (!(Ld >= 1 && Ld <= 1e6) || Ld != (double)(int64_t)Ld) return *why = "spec[0] (L) must be an integer >= 1", E_SHAPE;
  const int64_t L = (int64_t)Ld;
  if (spec_len != 2 * L + 2) return *why = "spec must have length 2 L + 2", E_SHAPE;
  double total = 0;
  for (int64_t l = 0; l <= L; ++l) {
    const double d = spec[1 + l];
    if (!(d >= 1 && d <= (double)kMaxDim) || d != (double)(int64_t)d)
      return *why = "spec: every layer size must be an integer in [1, 2^31)", E_SHAPE;
    if (l > 0) total += d * (spec[l] + 1);
  }
  for (int64_t l = 1; l <= L; ++l) {
    const double a = spec[L + 1 + l];
    if (!(a >= 0 && a <= 5) || a != (double)(int64_t)a)
      return *why = "spec: every activation must be an integer code 0..5", E_SHAPE;
    if (a == MLP_SOFTMAX && l != L) return *why = "spec: softmax is allowed on the last layer only", E_SHAPE;
  }
  if (total > 9007199254740991.0) return *why = "spec: the network has too many parameters", E_SHAPE;
  *layers = L;
  *d_in = (int64_t)spec[1];
  *d_out = (int64_t)spec[1 + L];
  *params_len = (int64_t)total;
  return OK;
}

Status mlp_check_net(const double* spec, int64_t spec_len, int64_t params_len, int64_t batch, int64_t* layers,
                     int64_t* d_in, int64_t* d_out, const char** why) {
  const char* dummy;
  if (why == nullptr) why = &dummy;
  *why = nullptr;
  int64_t plen;
  const Status st = ig_mlp_check_spec(spec, spec_len, layers, d_in, d_out, &plen, why);
  if (st != OK) return st;
  if (params_len != plen) return *why = "params has the wrong length for the spec", E_SHAPE;
  if (batch < 0) return *why = "batch must be >= 0", E_SHAPE;
  return OK;
}

Status ig_mlp_f64(const Exec* ex, const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                  int64_t batch, const double* x, const double* base, const int32_t* target, int64_t steps,
                  const double* alphas, const double* weights, double* avg_grad, double* outputs,
                  int64_t points_per_batch, const char** why) {
  const char* dummy;
  if (why == nullptr) why = &dummy;
  int64_t L, d0, dL, plen = params_len;
  Status st = mlp_check_net(spec, spec_len, params_len, batch, &L, &d0, &dL, why);
  if (st != OK) return st;
  if (steps < 1) return *why = "alphas and weights must have length >= 1", E_SHAPE;
  if (points_per_batch < 0) return *why = "points per batch must be >= 0", E_SHAPE;
  if (!all_finite(params, plen)) return *why = "params has a non-finite value", E_RANGE;
  if (!all_finite(alphas, steps)) return *why = "alphas has a non-finite value", E_RANGE;
  if (!all_finite(weights, steps)) return *why = "weights has a non-finite value", E_RANGE;
  if (!all_finite(x, batch * d0)) return *why = "x has a non-finite value", E_RANGE;
  if (!all_finite(base, batch * d0)) return *why = "base has a non-finite value", E_RANGE;
  for (int64_t b = 0; b < batch; ++b)
    if (target[b] < 0 || target[b] >= dL) return *why = "target has a value outside [0, d_L)", E_RANGE;
  if (batch == 0) return OK;

  const int64_t K = steps;
  // Layer sizes, activations, parameter offsets.
  void* meta = alloc(sizeof(int64_t) * (size_t)(2 * (L + 1)) + sizeof(int32_t) * (size_t)(L + 1));
  if (meta == nullptr) return E_OOM;
  int64_t* dims = static_cast<int64_t*>(meta);
  int64_t* woff = dims + (L + 1);
  int32_t* acts = reinterpret_cast<int32_t*>(woff + (L + 1));
  int64_t o = 0, maxd = 1, rowd = 0, mrb = 1;
  for (int64_t l = 0; l <= L; ++l) dims[l] = (int64_t)spec[1 + l];
  acts[0] = 0;
  for (int64_t l = 1; l <= L; ++l) {
    acts[l] = (int32_t)spec[L + 1 + l];
    woff[l] = o;
    o += dims[l] * (dims[l - 1] + 1);
    maxd = max64(maxd, dims[l]);
    rowd += round8(dims[l]) * (acts[l] == MLP_GELU ? 2 : 1);
    if (l >= 2) mrb = max64(mrb, max64(min_rows(dims[l], dims[l - 1]), min_rows(dims[l - 1], dims[l])));
  }
  const int64_t d1 = dims[1], mr1 = max64(min_rows(d1, d0), min_rows(d0, d1));
  rowd += 2 * round8(maxd);
  // Inputs per chunk (stages 1 and 3) and points per batch (stage 2); the results depend on neither.
  int64_t C = min64(batch, kChunkInputs);
  C = max64(1, min64(C, kScratchDoubles / (3 * d0 + 4 * d1)));
  int64_t P = points_per_batch > 0 ? points_per_batch : max64(1, min64(kDefaultPoints, kScratchDoubles / rowd));
  P = min64(P, C * (K + 2));
  const int64_t cap0 = max64(3 * C, mr1), capS = max64(C, mr1), capP = max64(P, mrb);
  const int64_t nA0 = round8(cap0 * d0), nZ1 = round8(cap0 * d1), nS = round8(capS * d1);
  const int64_t total = nA0 + nZ1 + nS + capP * rowd + 8;
  void* raw = alloc(sizeof(double) * (size_t)total);
  double** H = static_cast<double**>(alloc(sizeof(double*) * (size_t)(2 * (L + 1))));
  if (raw == nullptr || H == nullptr) {
    release(H);
    release(raw);
    release(meta);
    return E_OOM;
  }
  double* A0 = reinterpret_cast<double*>((reinterpret_cast<uintptr_t>(raw) + 63) & ~uintptr_t(63));
  double* Z1 = A0 + nA0;  // stage 1 rows: z_1(x_b) (c rows), u_b (c), v_b (c); row length d1
  double* S = Z1 + nZ1;   // s_b = sum_k w_k dF/dz_1(b, k); row length d1
  double* cur = S + nS;
  // Batch scratch (row stride round8(d)): H_l = the layer's z_l, then h_l in place (l = 1..L);
  // Zs_l = a copy of z_l for gelu layers; two gradient buffers.
  double** Zs = H + (L + 1);
  H[0] = Zs[0] = nullptr;
  for (int64_t l = 1; l <= L; ++l) {
    H[l] = cur, cur += capP * round8(dims[l]);
    Zs[l] = nullptr;
    if (acts[l] == MLP_GELU) Zs[l] = cur, cur += capP * round8(dims[l]);
  }
  double* Ga = cur;
  double* Gb = cur + capP * round8(maxd);
  const Consts kc = mlp_consts();

  const double* W1 = params + woff[1];
  const double* b1 = W1 + d1 * d0;
  const int64_t ld1 = round8(d1), ldL = round8(dL);

  for (int64_t c0 = 0; c0 < batch && st == OK; c0 += C) {
    const int64_t c = min64(C, batch - c0);
    // ---- stage 1: z_1(x_b), u_b, v_b for the chunk's inputs (rows [3c, m1): zero padding) ----
    const int64_t m1 = max64(3 * c, mr1);
    const double* xc = x + c0 * d0;
    const double* bc = base + c0 * d0;
    par(ex, m1, row_grain(d0 + d1, false), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        double* a = A0 + r * d0;
        double* z = Z1 + r * d1;
        if (r < c) {
          memcpy(a, xc + r * d0, sizeof(double) * (size_t)d0);
        } else if (r < 2 * c) {
          memcpy(a, bc + (r - c) * d0, sizeof(double) * (size_t)d0);
        } else if (r < 3 * c) {
          const double* xr = xc + (r - 2 * c) * d0;
          const double* br = bc + (r - 2 * c) * d0;
          for (int64_t i = 0; i < d0; ++i) a[i] = xr[i] - br[i];
        } else {
          for (int64_t i = 0; i < d0; ++i) a[i] = 0;
        }
        if (r < 2 * c)
          memcpy(z, b1, sizeof(double) * (size_t)d1);
        else
          for (int64_t i = 0; i < d1; ++i) z[i] = 0;
      }
    });
    st = dense(ex, m1, d1, d0, A0, d0, W1, d0, true, Z1, d1, 1.0);
    if (st != OK) break;
    const int64_t ms = max64(c, mr1);
    for (int64_t i = 0; i < ms * d1; ++i) S[i] = 0;
    const double* Zx = Z1;
    const double* U = Z1 + c * d1;
    const double* V = Z1 + 2 * c * d1;
    const int32_t* tc = target + c0;

    // ---- stage 2: the chunk's items in batches of P rows ----
    const int64_t n_path = c * K, n_all = n_path + 2 * c;
    for (int64_t i0 = 0; i0 < n_all && st == OK; i0 += P) {
      const int64_t r = min64(P, n_all - i0);
      const int64_t rp = max64(0, min64(r, n_path - i0));  // path rows: a prefix of the batch
      const int64_t m = max64(r, mrb);                     // rows [r, m): zero padding
      // Layer 1: z_1 rows (u_b + alpha_k v_b, or the stage 1 rows), then h_1 in place.
      {
        double* H1 = H[1];
        double* Z1s = Zs[1];
        const int32_t code = acts[1];
        par(ex, m, row_grain(d1, is_transcendental(code)), [&](int64_t r0, int64_t r1) {
          for (int64_t row = r0; row < r1; ++row) {
            double* z = H1 + row * ld1;
            const int64_t item = i0 + row;
            if (row >= r) {
              for (int64_t i = 0; i < d1; ++i) z[i] = 0;
            } else if (item < n_path) {
              const int64_t b = item / K;
              const double al = alphas[item - b * K];
              const double* u = U + b * d1;
              const double* v = V + b * d1;
              for (int64_t i = 0; i < d1; ++i) z[i] = u[i] + al * v[i];
            } else {
              const int64_t j = item - n_path;
              memcpy(z, ((j & 1) ? U : Zx) + (j >> 1) * d1, sizeof(double) * (size_t)d1);
            }
            act_row(code, kc, z, Z1s ? Z1s + row * ld1 : nullptr, d1);
          }
        });
      }
      // Layers 2..L: z_l = h_{l-1} W_l^T (GEMM), then z_l + b_l and h_l in place.
      for (int64_t l = 2; l <= L && st == OK; ++l) {
        const int64_t d = dims[l], dp = dims[l - 1], ld = round8(d), ldp = round8(dp);
        const double* W = params + woff[l];
        const double* bias = W + d * dp;
        st = dense(ex, m, d, dp, H[l - 1], ldp, W, dp, true, H[l], ld, 0.0);
        if (st != OK) break;
        double* Hl = H[l];
        double* Zl = Zs[l];
        const int32_t code = acts[l];
        par(ex, m, row_grain(d, is_transcendental(code)), [&](int64_t r0, int64_t r1) {
          for (int64_t row = r0; row < r1; ++row) {
            double* z = Hl + row * ld;
            for (int64_t i = 0; i < d; ++i) z[i] = z[i] + bias[i];
            act_row(code, kc, z, Zl ? Zl + row * ld : nullptr, d);
          }
        });
      }
      if (st != OK) break;
      for (int64_t row = rp; row < r; ++row) {
        const int64_t j = i0 + row - n_path, b = j >> 1;
        outputs[2 * (c0 + b) + (j & 1)] = H[L][row * ldL + tc[b]];
      }
      if (rp == 0) continue;
      // Backward on the path rows: G_L = dF/dz_L (rows [rp, mb): zero padding).
      const int64_t mb = max64(rp, mrb);
      {
        const double* HL = H[L];
        const double* ZL = Zs[L];
        const int32_t code = acts[L];
        par(ex, mb, row_grain(dL, true), [&](int64_t r0, int64_t r1) {
          for (int64_t row = r0; row < r1; ++row) {
            double* g = Ga + row * ldL;
            if (row >= rp)
              for (int64_t i = 0; i < dL; ++i) g[i] = 0;
            else
              seed_row(code, kc, HL + row * ldL, ZL ? ZL + row * ldL : nullptr, g, dL, tc[(i0 + row) / K]);
          }
        });
      }
      // G_{l-1} = (G_l W_l) . act'_{l-1} down to l = 3; G_1's activation is fused with the sum below.
      double* G = Ga;
      double* Gn = Gb;
      for (int64_t l = L; l >= 2 && st == OK; --l) {
        const int64_t d = dims[l], dp = dims[l - 1], ldp = round8(dp);
        st = dense(ex, mb, dp, d, G, round8(d), params + woff[l], dp, false, Gn, ldp, 0.0);
        if (st != OK) break;
        double* t = G;
        G = Gn, Gn = t;
        if (l == 2) break;
        const int32_t code = acts[l - 1];
        if (code == MLP_IDENTITY) continue;
        const double* Hp = H[l - 1];
        const double* Zp = Zs[l - 1];
        double* Gl = G;
        par(ex, rp, row_grain(dp, is_transcendental(code)), [&](int64_t r0, int64_t r1) {
          for (int64_t row = r0; row < r1; ++row)
            act_back_row(code, kc, Hp + row * ldp, Zp ? Zp + row * ldp : nullptr, Gl + row * ldp, 0, dp);
        });
      }
      if (st != OK) break;
      // s_b += w_k dF/dz_1 (rows in (b, k) order; columns in parallel). With L >= 2, G holds
      // dF/dh_1 and act_1' is applied here; with L == 1 it is the seed, dF/dz_1 already.
      {
        const int32_t code = L >= 2 ? acts[1] : MLP_IDENTITY;
        const double* H1 = H[1];
        const double* Z1s = Zs[1];
        double* Gf = G;
        const bool heavy = is_transcendental(code);
        const int64_t col_grain = rp * d1 < (heavy ? 8192 : 65536) ? d1 : 32;
        par(ex, d1, col_grain, [&](int64_t j0, int64_t j1) {
          for (int64_t row = 0; row < rp; ++row) {
            const int64_t item = i0 + row, b = item / K;
            const double w = weights[item - b * K];
            double* g = Gf + row * ld1;
            if (code != MLP_IDENTITY) act_back_row(code, kc, H1 + row * ld1, Z1s ? Z1s + row * ld1 : nullptr, g, j0, j1);
            double* s = S + b * d1;
            for (int64_t j = j0; j < j1; ++j) s[j] += w * g[j];
          }
        });
      }
    }
    if (st != OK) break;
    // ---- stage 3: avg_grad = S W_1 (into A0, then the chunk's rows out) ----
    st = dense(ex, ms, d0, d1, S, d1, W1, d0, false, A0, d0, 0.0);
    if (st != OK) break;
    memcpy(avg_grad + c0 * d0, A0, sizeof(double) * (size_t)(c * d0));
  }
  release(H);
  release(raw);
  release(meta);
  return st;
}

}  // namespace kx
