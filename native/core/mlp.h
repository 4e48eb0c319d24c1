// Integrated gradients of a built-in multi-layer perceptron, fused and in float64 (Kernels.igMlp in
// lib/backends/types.ts; the pure-TypeScript reference is igMlpReference in lib/backends/js/ig.ts).
//   mlp.cc  the kernel: the path points in batches on the project's GEMM (linalg.h)
#pragma once
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

}  // namespace kx
