// The built-in multi-layer perceptron in float64: integrated gradients, fused (Kernels.igMlp in
// lib/backends/types.ts; the pure-TypeScript reference is igMlpReference in lib/backends/js/ig.ts),
// and training (Kernels.mlpForward, mlpBackward, adam).
//   mlp.cc        the igMlp kernel: the path points in batches on the project's GEMM (linalg.h)
//   mlp_train.cc  the training forward and backward passes and the Adam(W) step
// mlp_impl below: the activations' host code, shared by both files.
#pragma once
#include <math.h>
#include <string.h>

#include "kx.h"

namespace kx {

// Activation codes (MLP_ACTIVATIONS in lib/backends/js/ig.ts).
enum MlpActivation : int32_t {
  MLP_IDENTITY = 0,
  MLP_RELU = 1,      // derivative 0 at 0 (as PyTorch)
  MLP_GELU = 2,      // exact: 0.5 z (1 + erf(z / sqrt 2))
  MLP_TANH = 3,
  MLP_SIGMOID = 4,
  MLP_SOFTMAX = 5,   // last layer only
};

// Checks the spec header [L, d_0..d_L, act_1..act_L] (spec_len == 2 L + 2, L >= 1, every d_l an
// integer in [1, 2^31), every act_l an integer code 0..5, softmax on layer L only) and gives L,
// d_0, d_L and the length of the packed parameters sum_l d_l (d_{l-1} + 1). A bad spec: E_SHAPE
// with *why (when why is not null) a static message naming the fault.
Status ig_mlp_check_spec(const double* spec, int64_t spec_len, int64_t* layers, int64_t* d_in, int64_t* d_out,
                         int64_t* params_len, const char** why);

// ig_mlp_check_spec, then params_len == the spec's parameter count and batch >= 0 (E_SHAPE with
// *why otherwise; *why = null when OK): the checks every kernel on the network starts with.
Status mlp_check_net(const double* spec, int64_t spec_len, int64_t params_len, int64_t batch, int64_t* layers,
                     int64_t* d_in, int64_t* d_out, const char** why);

// The igMlp kernel. For each input b < batch and node k < steps, the point
// p = base_b + alphas[k] (x_b - base_b) goes forward through the network (params = W_1 [d_1, d_0],
// b_1, W_2, b_2, ..., row-major) and back, and avg_grad_b = sum_k weights[k] dF/dp with
// F = h_L[target[b]]; outputs[2b] = F(x_b), outputs[2b + 1] = F(base_b). x, base and avg_grad are
// [batch, d_0]. points_per_batch: path points per internal batch (0: the kernel's choice); the
// results do not depend on it, nor on the thread count.
// Errors: a bad spec or params_len: E_SHAPE; a target outside [0, d_L) or a non-finite value in
// params, x, base, alphas or weights: E_RANGE (outputs untouched); steps < 1 or batch < 0: E_SHAPE;
// E_OOM. *why (when not null) gets a static message naming the argument.
Status ig_mlp_f64(const Exec* ex, const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                  int64_t batch, const double* x, const double* base, const int32_t* target, int64_t steps,
                  const double* alphas, const double* weights, double* avg_grad, double* outputs,
                  int64_t points_per_batch, const char** why);

// ---- training (mlp_train.cc) --------------------------------------------------------------------
// Arrays are row-major; spec and params as above (params = W_1 [d_1, d_0], b_1, W_2, b_2, ...).
// Every length is passed and checked: a bad spec or a length that does not match it gives E_SHAPE
// (batch < 0 too) with *why (when not null) a static message naming the argument; nothing is
// written then. Non-finite values are not checked: they propagate as IEEE arithmetic makes them.
// Threads: the GEMMs (gemm.cc) and the elementwise passes give the same bits for any thread count.

// The argument checks of mlp_forward_f64 (backward false: the grad_* lengths are ignored) and
// mlp_backward_f64 (backward true), and of adam_f64, as those kernels run them first (the CUDA
// forms run them too).
Status mlp_train_check_args(const double* spec, int64_t spec_len, int64_t params_len, int64_t batch, int64_t x_len,
                           int64_t acts_len, bool backward, int64_t grad_out_len, int64_t grad_params_len,
                           int64_t grad_x_len, const char** why);
Status adam_check_args(int64_t n, const double* hyper, int64_t hyper_len, const char** why);

// The length of mlp_forward_f64's acts: 2 batch (d_1 + ... + d_L) (-1 when it overflows 2^53).
int64_t mlp_acts_len(const double* spec, int64_t layers, int64_t batch);

// Forward pass on x [batch, d_0]: for l = 1..L, z_l = a_{l-1} W_l^T + b_l and a_l = act_l(z_l)
// (a_0 = x), written to acts as the blocks z_1, a_1, z_2, a_2, ..., z_L, a_L ([batch, d_l] each).
Status mlp_forward_f64(const Exec* ex, const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                       int64_t batch, const double* x, int64_t x_len, double* acts, int64_t acts_len, const char** why);

// Backward pass from mlp_forward_f64's acts and grad_out = dLoss/da_L [batch, d_L]: grad_params
// (params' layout: dW_l = G_l^T a_{l-1}, db_l = the column sums of G_l in row order, with
// G_l = dLoss/dz_l) and, when grad_x_len == batch d_0 (0: skipped, grad_x may be null),
// grad_x = dLoss/dx = G_1 W_1. Softmax's backward: a_L (g - sum_i g_i a_L,i) per row.
Status mlp_backward_f64(const Exec* ex, const double* spec, int64_t spec_len, const double* params,
                        int64_t params_len, int64_t batch, const double* x, int64_t x_len, const double* acts,
                        int64_t acts_len, const double* grad_out, int64_t grad_out_len, double* grad_params,
                        int64_t grad_params_len, double* grad_x, int64_t grad_x_len, const char** why);

// One Adam(W) step, in place on params, m and v (n elements each; grads too). hyper = [lr, beta1,
// beta2, eps, weightDecay, bc1, bc2] with the bias corrections bc1 = 1 - beta1^t and
// bc2 = 1 - beta2^t computed by the caller (t = the 1-based step). Per element, in this order and
// without FMA (bit-identical to the same expressions in JavaScript):
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) (g g);
//   p = p - lr (wd p + (m / bc1) / (sqrt(v / bc2) + eps)).
// hyper_len != 7 or mismatched lengths: E_SHAPE; a non-finite hyper value: E_RANGE.
Status adam_f64(const Exec* ex, int64_t n, double* params, const double* grads, double* m, double* v,
                const double* hyper, int64_t hyper_len, const char** why);

// adam_f64's hyper-parameters, and its update of one element (host and device code: the CUDA
// kernel runs these same expressions).
struct AdamHyper {
  double lr, b1, b2, eps, wd, bc1, bc2, c1, c2;  // c1 = 1 - b1, c2 = 1 - b2
};
inline AdamHyper adam_hyper(const double* h) {
  return AdamHyper{h[0], h[1], h[2], h[3], h[4], h[5], h[6], 1 - h[1], 1 - h[2]};
}
KX_HD void adam_element(const AdamHyper& h, double g, double* p, double* m, double* v) {
  const double mi = h.b1 * *m + h.c1 * g;
  const double vi = h.b2 * *v + h.c2 * (g * g);
  *m = mi;
  *v = vi;
  *p = *p - h.lr * (h.wd * *p + (mi / h.bc1) / (sqrt(vi / h.bc2) + h.eps));
}

// ---- the activations' host code (mlp.cc, mlp_train.cc) ------------------------------------------
namespace mlp_impl {

inline bool all_finite(const double* a, int64_t n) {
  uint64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t u;
    memcpy(&u, a + i, 8);
    bad |= (uint64_t)(((u >> 52) & 0x7ff) == 0x7ff);
  }
  return bad == 0;
}

inline bool is_transcendental(int32_t code) {
  return code == MLP_GELU || code == MLP_TANH || code == MLP_SIGMOID || code == MLP_SOFTMAX;
}

// Rows per chunk of an elementwise pass over rows of width d (a chunk of ~16K cheap or ~2K
// transcendental elements: a thread hand-off costs a few microseconds).
inline int64_t row_grain(int64_t d, bool heavy) {
  const int64_t g = (heavy ? 2048 : 16384) / (d > 1 ? d : 1);
  return g > 1 ? g : 1;
}

template <class F>
void par(const Exec* ex, int64_t n, int64_t grain, const F& f) {
  parallel_for(ex, n, grain, [](void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); },
               const_cast<F*>(&f));
}

struct Consts {
  double sqrt1_2, inv_sqrt_2pi;
};

inline Consts mlp_consts() {
  Consts k;
  k.sqrt1_2 = 0.70710678118654752440;                // Math.SQRT1_2
  k.inv_sqrt_2pi = 1 / sqrt(2 * 3.141592653589793);  // as the reference computes it
  return k;
}

inline double gelu_grad(const Consts& k, double z) {
  return 0.5 * (1 + erf(z * k.sqrt1_2)) + z * k.inv_sqrt_2pi * exp(-0.5 * z * z);
}

// One row: h = act(z) in place (h holds z on entry); gelu first copies z into zs (when zs != h).
inline void act_row(int32_t code, const Consts& k, double* h, double* zs, int64_t d) {
  switch (code) {
    case MLP_IDENTITY:
      break;
    case MLP_RELU:
      for (int64_t i = 0; i < d; ++i) h[i] = h[i] > 0 ? h[i] : 0.0;
      break;
    case MLP_GELU:
      for (int64_t i = 0; i < d; ++i) {
        const double z = h[i];
        zs[i] = z;
        h[i] = 0.5 * z * (1 + erf(z * k.sqrt1_2));
      }
      break;
    case MLP_TANH:
      for (int64_t i = 0; i < d; ++i) h[i] = tanh(h[i]);
      break;
    case MLP_SIGMOID:
      for (int64_t i = 0; i < d; ++i) h[i] = 1 / (1 + exp(-h[i]));
      break;
    case MLP_SOFTMAX: {
      double mx = -HUGE_VAL;
      for (int64_t i = 0; i < d; ++i) mx = h[i] > mx ? h[i] : mx;
      double s = 0;
      for (int64_t i = 0; i < d; ++i) s += h[i] = exp(h[i] - mx);
      for (int64_t i = 0; i < d; ++i) h[i] /= s;
      break;
    }
  }
}

// Elements [j0, j1) of one row: g = dF/dz from g = dF/dh in place (h = act(z)); not softmax.
inline void act_back_row(int32_t code, const Consts& k, const double* h, const double* zs, double* g, int64_t j0,
                         int64_t j1) {
  switch (code) {
    case MLP_RELU:  // h > 0 exactly when z > 0
      for (int64_t i = j0; i < j1; ++i) g[i] = h[i] > 0 ? g[i] : 0.0;
      break;
    case MLP_GELU:
      for (int64_t i = j0; i < j1; ++i) g[i] = g[i] * gelu_grad(k, zs[i]);
      break;
    case MLP_TANH:
      for (int64_t i = j0; i < j1; ++i) g[i] = g[i] * (1 - h[i] * h[i]);
      break;
    case MLP_SIGMOID:
      for (int64_t i = j0; i < j1; ++i) g[i] = g[i] * h[i] * (1 - h[i]);
      break;
    default:
      break;
  }
}

}  // namespace mlp_impl

}  // namespace kx
