// Integrated gradients of a built-in MLP on the GPU (kx_cuda.h ig_mlp_f64): the algorithm of the
// CPU kernel native/core/mlp.cc, step for step, in float64 with host pointers in and out.
//   1. Per chunk of up to 64 inputs, one GEMM over the rows [x_b; base_b; x_b - base_b] gives
//      z_1(x_b), u_b = W_1 base_b + b_1 and v_b = W_1 (x_b - base_b) (layer 1 is linear in p).
//   2. The chunk's items, path points (b, k) in (b, k) order then the forward-only points x_b,
//      base_b, go in batches of P rows: Z_1 = u_b + alpha_k v_b, H_l = act_l(Z_l),
//      Z_{l+1} = H_l W_{l+1}^T + b_{l+1} (GEMM + elementwise pass); backward on the path rows:
//      G_L = dF/dz_L (one thread per row), G_{l-1} = (G_l W_l) . act'_{l-1} (GEMM + pass).
//   3. s_b = sum_k w_k dF/dz_1(b, k), accumulated by one thread per column over the rows in
//      (b, k) order (fixed order: deterministic), then avg_grad = S W_1 (GEMM).
// The GEMM, activations and softmax are mlp_device.cuh's (shared with mlp_train.cu); every result
// is the same for any launch; memory is bounded by the chunk (64 inputs) and P (512 points), never batch x steps.
#include <cuda_runtime.h>
#include <math.h>
#include <string.h>

#include <vector>

#include "../core/mlp.h"
#include "cuda_util.h"
#include "kx_cuda.h"
#include "mlp_device.cuh"

namespace kx {
namespace cuda {

namespace {

using util::put;

constexpr int64_t kDefaultPoints = 512;
constexpr int64_t kChunkInputs = 64;
constexpr int64_t kScratchDoubles = 1 << 22;
using mlp_impl::all_finite;

// Stage 1 rows: A0 = [x; base; x - base] (c rows each, width d0); Z1 = [b1; b1; 0] (width d1).
__global__ void stage1_kernel(int64_t c, int64_t d0, int64_t d1, const double* x, const double* base,
                              const double* b1, double* A0, double* Z1) {
  KX_GRID_STRIDE(i, 3 * c * d0) {
    const int64_t r = i / d0, j = i - r * d0;
    double v;
    if (r < c) v = x[r * d0 + j];
    else if (r < 2 * c) v = base[(r - c) * d0 + j];
    else v = x[(r - 2 * c) * d0 + j] - base[(r - 2 * c) * d0 + j];
    A0[i] = v;
  }
  KX_GRID_STRIDE(i, 3 * c * d1) {
    const int64_t r = i / d1, j = i - r * d1;
    Z1[i] = r < 2 * c ? b1[j] : 0.0;
  }
}

// Layer 1 of a batch: Z rows (u_b + alpha_k v_b for path items, z_1(x_b) / u_b for the forward-only
// items), H = act_1(Z) (softmax: rows are done by softmax_kernel afterwards).
__global__ void layer1_kernel(int64_t r, int64_t i0, int64_t n_path, int64_t K, int64_t c, int64_t d1,
                              const double* Z1, const double* alphas, int32_t code, double* Z, double* H) {
  const double* Zx = Z1;
  const double* U = Z1 + c * d1;
  const double* V = Z1 + 2 * c * d1;
  KX_GRID_STRIDE(i, r * d1) {
    const int64_t row = i / d1, j = i - row * d1, item = i0 + row;
    double z;
    if (item < n_path) {
      const int64_t b = item / K;
      z = U[b * d1 + j] + alphas[item - b * K] * V[b * d1 + j];
    } else {
      const int64_t q = item - n_path;
      z = ((q & 1) ? U : Zx)[(q >> 1) * d1 + j];
    }
    Z[i] = z;
    H[i] = code == MLP_SOFTMAX ? z : act1(code, z);
  }
}

// Z += bias (per column), H = act(Z) (softmax rows afterwards).
__global__ void bias_act_kernel(int64_t r, int64_t d, const double* bias, int32_t code, double* Z, double* H) {
  KX_GRID_STRIDE(i, r * d) {
    const int64_t j = i % d;
    const double z = Z[i] + bias[j];
    Z[i] = z;
    H[i] = code == MLP_SOFTMAX ? z : act1(code, z);
  }
}

// outputs[2 (c0 + b) + (q & 1)] = H_L[row, target[b]] for the forward-only rows [rp, r).
__global__ void outputs_kernel(int64_t rp, int64_t r, int64_t i0, int64_t n_path, int64_t dL, const double* HL,
                               const int32_t* tc, double* out) {
  KX_GRID_STRIDE(t, r - rp) {
    const int64_t row = rp + t, q = i0 + row - n_path, b = q >> 1;
    out[2 * b + (q & 1)] = HL[row * dL + tc[b]];
  }
}

// G = dF/dz_L for the path rows [0, rp), one thread per row.
__global__ void seed_kernel(int64_t rp, int64_t i0, int64_t K, int64_t dL, int32_t code, const double* HL,
                            const double* ZL, const int32_t* tc, double* G) {
  KX_GRID_STRIDE(row, rp) {
    const double* h = HL + row * dL;
    double* g = G + row * dL;
    const int64_t t = tc[(i0 + row) / K];
    if (code == MLP_SOFTMAX) {
      const double ht = h[t];
      for (int64_t i = 0; i < dL; ++i) g[i] = h[i] * ((i == t ? 1.0 : 0.0) - ht);
      continue;
    }
    for (int64_t i = 0; i < dL; ++i) g[i] = 0;
    switch (code) {
      case MLP_IDENTITY: g[t] = 1; break;
      case MLP_RELU: g[t] = h[t] > 0 ? 1.0 : 0.0; break;
      case MLP_GELU: g[t] = gelu_grad(ZL[row * dL + t]); break;
      case MLP_TANH: g[t] = 1 - h[t] * h[t]; break;
      case MLP_SIGMOID: g[t] = h[t] * (1 - h[t]); break;
      default: break;
    }
  }
}

__global__ void back_kernel(int64_t n, int32_t code, const double* H, const double* Z, double* G) {
  KX_GRID_STRIDE(i, n) G[i] = back1(code, H[i], Z[i], G[i]);
}

// S[b, j] += w_k act_1'(G[row, j]) over the path rows in order; one thread per column.
__global__ void accumulate_kernel(int64_t rp, int64_t i0, int64_t K, int64_t d1, int32_t code, const double* H1,
                                  const double* Z1, const double* G, const double* weights, double* S) {
  KX_GRID_STRIDE(j, d1) {
    for (int64_t row = 0; row < rp; ++row) {
      const int64_t item = i0 + row, b = item / K;
      const int64_t e = row * d1 + j;
      const double g = back1(code, H1[e], Z1[e], G[e]);
      S[b * d1 + j] += weights[item - b * K] * g;
    }
  }
}

}  // namespace

Status ig_mlp_f64(const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                  int64_t batch, const double* x, const double* base, const int32_t* target,
                  const double* alphas, const double* weights, int64_t steps, double* avg_grad,
                  double* outputs, char* err, size_t errlen) {
  if (err != nullptr && errlen > 0) err[0] = 0;
  // ---- the CPU kernel's checks, in its order (no device needed) ----
  int64_t L, d0, dL, plen;
  const char* why = nullptr;
  Status st = ig_mlp_check_spec(spec, spec_len, &L, &d0, &dL, &plen, &why);
  if (st != OK) return put(err, errlen, "%s", why), st;
  if (params_len != plen) return put(err, errlen, "params has the wrong length for the spec"), E_SHAPE;
  if (batch < 0) return put(err, errlen, "batch must be >= 0"), E_SHAPE;
  if (steps < 1) return put(err, errlen, "alphas and weights must have length >= 1"), E_SHAPE;
  if (params == nullptr || alphas == nullptr || weights == nullptr ||
      (batch > 0 && (x == nullptr || base == nullptr || target == nullptr || avg_grad == nullptr || outputs == nullptr)))
    return put(err, errlen, "a required pointer is null"), E_INTERNAL;
  if (!all_finite(params, plen)) return put(err, errlen, "params has a non-finite value"), E_RANGE;
  if (!all_finite(alphas, steps)) return put(err, errlen, "alphas has a non-finite value"), E_RANGE;
  if (!all_finite(weights, steps)) return put(err, errlen, "weights has a non-finite value"), E_RANGE;
  if (!all_finite(x, batch * d0)) return put(err, errlen, "x has a non-finite value"), E_RANGE;
  if (!all_finite(base, batch * d0)) return put(err, errlen, "base has a non-finite value"), E_RANGE;
  for (int64_t b = 0; b < batch; ++b)
    if (target[b] < 0 || target[b] >= dL) return put(err, errlen, "target has a value outside [0, d_L)"), E_RANGE;
  if (batch == 0) return OK;

  // ---- the device ----
  Env e;
  if ((st = open_device(e, err, errlen)) != OK) return st;

  const int64_t K = steps;
  std::vector<int64_t> dims((size_t)L + 1), woff((size_t)L + 1);
  std::vector<int32_t> acts((size_t)L + 1);
  std::vector<double*> Zl((size_t)L + 1), Hl((size_t)L + 1);
  int64_t o = 0, sumd = 0, maxd = 1;
  for (int64_t l = 0; l <= L; ++l) dims[l] = (int64_t)spec[1 + l];
  acts[0] = 0;
  for (int64_t l = 1; l <= L; ++l) {
    acts[l] = (int32_t)spec[L + 1 + l];
    woff[l] = o;
    o += dims[l] * (dims[l - 1] + 1);
    sumd += dims[l];
    maxd = max64(maxd, dims[l]);
  }
  const int64_t d1 = dims[1];
  int64_t C = min64(batch, kChunkInputs);
  C = max64(1, min64(C, kScratchDoubles / (3 * d0 + 4 * d1)));
  const int64_t rowd = 2 * sumd + 2 * maxd;
  int64_t P = max64(1, min64(kDefaultPoints, kScratchDoubles / rowd));
  P = min64(P, C * (K + 2));

  double *dP, *dAl, *dW, *dX, *dB, *dA0, *dZ1, *dS, *dOut, *Ga, *Gb, *dT;
  Status s;
  if ((s = dalloc(e, &dP, plen, err, errlen)) != OK || (s = dalloc(e, &dAl, K, err, errlen)) != OK ||
      (s = dalloc(e, &dW, K, err, errlen)) != OK || (s = dalloc(e, &dX, C * d0, err, errlen)) != OK ||
      (s = dalloc(e, &dB, C * d0, err, errlen)) != OK || (s = dalloc(e, &dA0, 3 * C * d0, err, errlen)) != OK ||
      (s = dalloc(e, &dZ1, 3 * C * d1, err, errlen)) != OK || (s = dalloc(e, &dS, C * d1, err, errlen)) != OK ||
      (s = dalloc(e, &dOut, 2 * C, err, errlen)) != OK || (s = dalloc(e, &Ga, P * maxd, err, errlen)) != OK ||
      (s = dalloc(e, &Gb, P * maxd, err, errlen)) != OK || (s = dalloc(e, &dT, (C + 1) / 2, err, errlen)) != OK)
    return s;
  // Z_l and H_l for every layer (P rows each): one buffer.
  double* dZH;
  if ((s = dalloc(e, &dZH, 2 * P * sumd, err, errlen)) != OK) return s;
  {
    double* cur = dZH;
    for (int64_t l = 1; l <= L; ++l) {
      Zl[l] = cur, cur += P * dims[l];
      Hl[l] = cur, cur += P * dims[l];
    }
  }
  int32_t* dTc = reinterpret_cast<int32_t*>(dT);
  KX_CU(cudaMemcpyAsync(dP, params, sizeof(double) * (size_t)plen, cudaMemcpyHostToDevice, e.stream), "copy params");
  KX_CU(cudaMemcpyAsync(dAl, alphas, sizeof(double) * (size_t)K, cudaMemcpyHostToDevice, e.stream), "copy alphas");
  KX_CU(cudaMemcpyAsync(dW, weights, sizeof(double) * (size_t)K, cudaMemcpyHostToDevice, e.stream), "copy weights");

  const double* W1 = dP + woff[1];
  const double* b1 = W1 + d1 * d0;
  for (int64_t c0 = 0; c0 < batch; c0 += C) {
    const int64_t c = min64(C, batch - c0);
    KX_CU(cudaMemcpyAsync(dX, x + c0 * d0, sizeof(double) * (size_t)(c * d0), cudaMemcpyHostToDevice, e.stream), "copy x");
    KX_CU(cudaMemcpyAsync(dB, base + c0 * d0, sizeof(double) * (size_t)(c * d0), cudaMemcpyHostToDevice, e.stream),
          "copy base");
    KX_CU(cudaMemcpyAsync(dTc, target + c0, sizeof(int32_t) * (size_t)c, cudaMemcpyHostToDevice, e.stream), "copy target");
    // ---- stage 1 ----
    stage1_kernel<<<blocks_for(3 * c * max64(d0, d1)), kThreads, 0, e.stream>>>(c, d0, d1, dX, dB, b1, dA0, dZ1);
    if ((s = launched("ig_mlp stage 1 launch", err, errlen)) != OK) return s;
    if ((s = gemm(e, 3 * c, d1, d0, dA0, d0, false, W1, d0, true, dZ1, d1, true, err, errlen)) != OK) return s;
    KX_CU(cudaMemsetAsync(dS, 0, sizeof(double) * (size_t)(c * d1), e.stream), "memset");
    // ---- stage 2 ----
    const int64_t n_path = c * K, n_all = n_path + 2 * c;
    for (int64_t i0 = 0; i0 < n_all; i0 += P) {
      const int64_t r = min64(P, n_all - i0);
      const int64_t rp = max64(0, min64(r, n_path - i0));
      layer1_kernel<<<blocks_for(r * d1), kThreads, 0, e.stream>>>(r, i0, n_path, K, c, d1, dZ1, dAl, acts[1], Zl[1],
                                                                     Hl[1]);
      if ((s = launched("ig_mlp layer 1 launch", err, errlen)) != OK) return s;
      if (acts[1] == MLP_SOFTMAX) {
        softmax_kernel<<<blocks_for(r), kThreads, 0, e.stream>>>(r, d1, Hl[1]);
        if ((s = launched("ig_mlp softmax launch", err, errlen)) != OK) return s;
      }
      for (int64_t l = 2; l <= L; ++l) {
        const int64_t d = dims[l], dp = dims[l - 1];
        const double* W = dP + woff[l];
        if ((s = gemm(e, r, d, dp, Hl[l - 1], dp, false, W, dp, true, Zl[l], d, false, err, errlen)) != OK) return s;
        bias_act_kernel<<<blocks_for(r * d), kThreads, 0, e.stream>>>(r, d, W + d * dp, acts[l], Zl[l], Hl[l]);
        if ((s = launched("ig_mlp activation launch", err, errlen)) != OK) return s;
        if (acts[l] == MLP_SOFTMAX) {
          softmax_kernel<<<blocks_for(r), kThreads, 0, e.stream>>>(r, d, Hl[l]);
          if ((s = launched("ig_mlp softmax launch", err, errlen)) != OK) return s;
        }
      }
      if (rp < r) {
        outputs_kernel<<<blocks_for(r - rp), kThreads, 0, e.stream>>>(rp, r, i0, n_path, dL, Hl[L], dTc, dOut);
        if ((s = launched("ig_mlp outputs launch", err, errlen)) != OK) return s;
      }
      if (rp == 0) continue;
      seed_kernel<<<blocks_for(rp), kThreads, 0, e.stream>>>(rp, i0, K, dL, acts[L], Hl[L], Zl[L], dTc, Ga);
      if ((s = launched("ig_mlp seed launch", err, errlen)) != OK) return s;
      double* G = Ga;
      double* Gn = Gb;
      for (int64_t l = L; l >= 2; --l) {
        const int64_t d = dims[l], dp = dims[l - 1];
        if ((s = gemm(e, rp, dp, d, G, d, false, dP + woff[l], dp, false, Gn, dp, false, err, errlen)) != OK) return s;
        double* t = G;
        G = Gn, Gn = t;
        if (l == 2) break;
        const int32_t code = acts[l - 1];
        if (code == MLP_IDENTITY) continue;
        back_kernel<<<blocks_for(rp * dp), kThreads, 0, e.stream>>>(rp * dp, code, Hl[l - 1], Zl[l - 1], G);
        if ((s = launched("ig_mlp backward launch", err, errlen)) != OK) return s;
      }
      const int32_t code1 = L >= 2 ? acts[1] : MLP_IDENTITY;
      accumulate_kernel<<<blocks_for(d1), kThreads, 0, e.stream>>>(rp, i0, K, d1, code1, Hl[1], Zl[1], G, dW, dS);
      if ((s = launched("ig_mlp accumulate launch", err, errlen)) != OK) return s;
    }
    // ---- stage 3 ----
    if ((s = gemm(e, c, d0, d1, dS, d1, false, W1, d0, false, dA0, d0, false, err, errlen)) != OK) return s;
    KX_CU(cudaMemcpyAsync(avg_grad + c0 * d0, dA0, sizeof(double) * (size_t)(c * d0), cudaMemcpyDeviceToHost, e.stream),
          "copy avg_grad");
    KX_CU(cudaMemcpyAsync(outputs + 2 * c0, dOut, sizeof(double) * (size_t)(2 * c), cudaMemcpyDeviceToHost, e.stream),
          "copy outputs");
    // The next chunk overwrites dX / dA0 / dOut: wait (pageable host memory copies are synchronous
    // for the host anyway; this also surfaces kernel faults here).
    KX_CU(cudaStreamSynchronize(e.stream), "ig_mlp");
  }
  return OK;
}

}  // namespace cuda
}  // namespace kx
