// Training kernels of the built-in MLP (mlp.h; Kernels.mlpForward, mlpBackward and adam in
// lib/backends/types.ts; the pure-TypeScript references are in lib/backends/js/). Our own code
// rather than a framework's: the network is the one igMlp explains (same spec, parameter layout and
// activations, sharing mlp.h's activation code), so training and attribution run the same
// arithmetic on every backend, and the CPU addon (g++, threaded through Exec) and the wasm module
// (clang) compile this same file with no BLAS or framework to ship.
//
// Forward: per layer, Z_l = A_{l-1} W_l^T + b_l is ONE GEMM (gemm.cc) onto rows pre-filled with
// the bias, then A_l = act_l(Z_l) row by row (rows in parallel). Both are kept: the backward pass
// needs a_l (relu, tanh, sigmoid, softmax) or z_l (gelu).
// Backward: G_L = dLoss/dz_L from gradOut through act_L (softmax: a (g - sum g a) per row), then
// for l = L..1: dW_l = G_l^T A_{l-1} (GEMM, k = batch), db_l = the column sums of G_l, and
// G_{l-1} = (G_l W_l) . act'_{l-1} (GEMM + elementwise pass); for l = 1 the product G_1 W_1 is
// gradX (skipped when not asked for).
// Determinism: gemm.cc sums every element's k in an order fixed by k alone (so dW's sum over the
// batch rows runs in row order whatever the thread count), the bias sums run down each column in
// row order, and every elementwise pass is per row or per element: the bits do not depend on the
// thread count. Adam is elementwise in the documented order, built with -ffp-contract=off (no FMA)
// and IEEE sqrt and division, so it is bit-identical to the same JavaScript expressions.
#include <math.h>
#include <string.h>

#include "linalg.h"
#include "mlp.h"

namespace kx {

namespace {

using namespace mlp_impl;

constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1

// Layer sizes and activation codes of a checked spec.
inline int64_t dim(const double* spec, int64_t l) { return (int64_t)spec[1 + l]; }
inline int32_t act(const double* spec, int64_t L, int64_t l) { return (int32_t)spec[L + 1 + l]; }

}  // namespace

Status mlp_train_check_args(const double* spec, int64_t spec_len, int64_t params_len, int64_t batch, int64_t x_len,
                           int64_t acts_len, bool backward, int64_t grad_out_len, int64_t grad_params_len,
                           int64_t grad_x_len, const char** why) {
  const char* dummy;
  if (why == nullptr) why = &dummy;
  int64_t L, d0, dL;
  const Status st = mlp_check_net(spec, spec_len, params_len, batch, &L, &d0, &dL, why);
  if (st != OK) return st;
  if ((double)batch * (double)d0 > kMaxSafe || x_len != batch * d0) return *why = "x must have batch * d_0 elements", E_SHAPE;
  const int64_t want = mlp_acts_len(spec, L, batch);
  if (want < 0 || acts_len != want) return *why = "acts must have 2 batch (d_1 + ... + d_L) elements", E_SHAPE;
  if (!backward) return OK;
  if (grad_out_len != batch * dL) return *why = "gradOut must have batch * d_L elements", E_SHAPE;
  if (grad_params_len != params_len) return *why = "gradParams must have params' length", E_SHAPE;
  if (grad_x_len != 0 && grad_x_len != batch * d0) return *why = "gradX must have 0 or batch * d_0 elements", E_SHAPE;
  return OK;
}

Status adam_check_args(int64_t n, const double* hyper, int64_t hyper_len, const char** why) {
  const char* dummy;
  if (why == nullptr) why = &dummy;
  *why = nullptr;
  if (n < 0) return *why = "the length must be >= 0", E_SHAPE;
  if (hyper == nullptr || hyper_len != 7)
    return *why = "hyper must be [lr, beta1, beta2, eps, weightDecay, bc1, bc2] (7 elements)", E_SHAPE;
  if (!all_finite(hyper, 7)) return *why = "hyper has a non-finite value", E_RANGE;
  return OK;
}

int64_t mlp_acts_len(const double* spec, int64_t layers, int64_t batch) {
  double s = 0;
  for (int64_t l = 1; l <= layers; ++l) s += spec[1 + l];
  const double n = 2 * (double)batch * s;
  return n > kMaxSafe ? -1 : (int64_t)n;
}

Status mlp_forward_f64(const Exec* ex, const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                       int64_t batch, const double* x, int64_t x_len, double* acts, int64_t acts_len, const char** why) {
  Status st = mlp_train_check_args(spec, spec_len, params_len, batch, x_len, acts_len, false, 0, 0, 0, why);
  if (st != OK || batch == 0) return st;
  const int64_t L = (int64_t)spec[0];
  const Consts kc = mlp_consts();
  const double* W = params;
  const double* A = x;
  double* Z = acts;
  for (int64_t l = 1; l <= L; ++l) {
    const int64_t d = dim(spec, l), dp = dim(spec, l - 1);
    const int32_t code = act(spec, L, l);
    const double* bias = W + d * dp;
    double* Al = Z + batch * d;
    par(ex, batch, row_grain(d, false), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) memcpy(Z + r * d, bias, sizeof(double) * (size_t)d);
    });
    st = gemm_f64(ex, batch, d, dp, A, dp, false, W, dp, true, Z, d, 1.0, 1.0);
    if (st != OK) return st;
    par(ex, batch, row_grain(d, is_transcendental(code)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        double* a = Al + r * d;
        memcpy(a, Z + r * d, sizeof(double) * (size_t)d);
        act_row(code, kc, a, Z + r * d, d);  // gelu rewrites z in place with the same values
      }
    });
    W = bias + d;
    A = Al;
    Z = Al + batch * d;
  }
  return OK;
}

Status mlp_backward_f64(const Exec* ex, const double* spec, int64_t spec_len, const double* params,
                        int64_t params_len, int64_t batch, const double* x, int64_t x_len, const double* acts,
                        int64_t acts_len, const double* grad_out, int64_t grad_out_len, double* grad_params,
                        int64_t grad_params_len, double* grad_x, int64_t grad_x_len, const char** why) {
  Status st = mlp_train_check_args(spec, spec_len, params_len, batch, x_len, acts_len, true, grad_out_len,
                                   grad_params_len, grad_x_len, why);
  if (st != OK) return st;
  const int64_t L = (int64_t)spec[0], d0 = dim(spec, 0), dL = dim(spec, L), plen = params_len;
  if (batch == 0) {  // sums over no rows
    for (int64_t i = 0; i < plen; ++i) grad_params[i] = 0;
    return OK;
  }
  // Offsets of W_l in params and of z_l in acts (l = 1..L), and the widest layer.
  int64_t maxd = 1;
  for (int64_t l = 1; l <= L; ++l) maxd = dim(spec, l) > maxd ? dim(spec, l) : maxd;
  void* meta = alloc(sizeof(int64_t) * (size_t)(2 * (L + 1)));
  double* scratch = static_cast<double*>(alloc(sizeof(double) * (size_t)(2 * batch * maxd)));
  if (meta == nullptr || scratch == nullptr) {
    release(scratch);
    release(meta);
    return E_OOM;
  }
  int64_t* woff = static_cast<int64_t*>(meta);
  int64_t* zoff = woff + (L + 1);
  for (int64_t l = 1, wo = 0, zo = 0; l <= L; ++l) {
    const int64_t d = dim(spec, l);
    woff[l] = wo, zoff[l] = zo;
    wo += d * (dim(spec, l - 1) + 1);
    zo += 2 * batch * d;
  }
  const Consts kc = mlp_consts();
  double* G = scratch;
  double* Gn = scratch + batch * maxd;
  // G_L = dLoss/dz_L.
  {
    const int32_t code = act(spec, L, L);
    const double* ZL = acts + zoff[L];
    const double* AL = ZL + batch * dL;
    par(ex, batch, row_grain(dL, is_transcendental(code)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const double* a = AL + r * dL;
        const double* go = grad_out + r * dL;
        double* g = G + r * dL;
        if (code == MLP_SOFTMAX) {
          double s = 0;
          for (int64_t i = 0; i < dL; ++i) s += go[i] * a[i];
          for (int64_t i = 0; i < dL; ++i) g[i] = a[i] * (go[i] - s);
        } else {
          memcpy(g, go, sizeof(double) * (size_t)dL);
          act_back_row(code, kc, a, ZL + r * dL, g, 0, dL);
        }
      }
    });
  }
  for (int64_t l = L; l >= 1 && st == OK; --l) {
    const int64_t d = dim(spec, l), dp = dim(spec, l - 1);
    const double* W = params + woff[l];
    const double* Ap = l == 1 ? x : acts + zoff[l - 1] + batch * dp;
    double* dW = grad_params + woff[l];
    double* db = dW + d * dp;
    st = gemm_f64(ex, d, dp, batch, G, d, true, Ap, dp, false, dW, dp, 1.0, 0.0);
    if (st != OK) break;
    // db = column sums of G, down each column in row order (columns in parallel).
    const double* Gc = G;
    par(ex, d, batch * d < 65536 ? d : 64, [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) db[j] = 0;
      for (int64_t r = 0; r < batch; ++r) {
        const double* g = Gc + r * d;
        for (int64_t j = j0; j < j1; ++j) db[j] += g[j];
      }
    });
    if (l == 1) {
      if (grad_x_len != 0) st = gemm_f64(ex, batch, d0, d, G, d, false, W, d0, false, grad_x, d0, 1.0, 0.0);
      break;
    }
    st = gemm_f64(ex, batch, dp, d, G, d, false, W, dp, false, Gn, dp, 1.0, 0.0);
    if (st != OK) break;
    const int32_t code = act(spec, L, l - 1);
    if (code != MLP_IDENTITY) {
      const double* Zp = acts + zoff[l - 1];
      const double* Hp = Zp + batch * dp;
      double* Gp = Gn;
      par(ex, batch, row_grain(dp, is_transcendental(code)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) act_back_row(code, kc, Hp + r * dp, Zp + r * dp, Gp + r * dp, 0, dp);
      });
    }
    double* t = G;
    G = Gn, Gn = t;
  }
  release(scratch);
  release(meta);
  return st;
}

Status adam_f64(const Exec* ex, int64_t n, double* params, const double* grads, double* m, double* v,
                const double* hyper, int64_t hyper_len, const char** why) {
  const Status st = adam_check_args(n, hyper, hyper_len, why);
  if (st != OK) return st;
  const AdamHyper h = adam_hyper(hyper);
  par(ex, n, 32768, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) adam_element(h, grads[i], params + i, m + i, v + i);
  });
  return OK;
}

}  // namespace kx
