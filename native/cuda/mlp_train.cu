// Training the built-in MLP on the GPU (kx_cuda.h mlp_forward_f64, mlp_backward_f64, adam_f64): the
// algorithm of the CPU kernels native/core/mlp_train.cc, in float64, with host pointers in and out.
//   forward:  per layer Z_l = bias rows, Z_l += A_{l-1} W_l^T (GEMM), A_l = act_l(Z_l)
//             (elementwise, or a row softmax); acts = z_1, a_1, ..., z_L, a_L copied back.
//   backward: G_L = dLoss/dz_L (elementwise; softmax one thread per row), then per layer
//             dW_l = G_l^T A_{l-1} (GEMM with k = batch: each element sums the rows in order),
//             db_l = column sums (one thread per column, rows in order),
//             G_{l-1} = (G_l W_l) . act'_{l-1} (GEMM + elementwise), gradX = G_1 W_1.
//   adam:     one thread per element, the documented expression order.
// The GEMM and activations are mlp_device.cuh's (shared with ig_mlp.cu). Every sum runs in a fixed
// order, so results are the same for any launch; the build's --fmad=false and IEEE double
// division and sqrt make adam bit-identical to the CPU kernel.
#include <cuda_runtime.h>

#include <vector>

#include "../core/mlp.h"
#include "cuda_util.h"
#include "kx_cuda.h"
#include "mlp_device.cuh"

namespace kx {
namespace cuda {

namespace {

using util::put;

// Z rows = bias (Z [r, d]).
__global__ void bias_rows_kernel(int64_t r, int64_t d, const double* bias, double* Z) {
  KX_GRID_STRIDE(i, r * d) Z[i] = bias[i % d];
}

// H = act(Z) elementwise (softmax: H = Z, the rows done by softmax_kernel afterwards).
__global__ void act_kernel(int64_t n, int32_t code, const double* Z, double* H) {
  KX_GRID_STRIDE(i, n) H[i] = code == MLP_SOFTMAX ? Z[i] : act1(code, Z[i]);
}

// G = gradOut through act_L; softmax: per row a (g - sum_i g_i a_i) (sum in i order).
__global__ void seed_kernel(int64_t batch, int64_t d, int32_t code, const double* Z, const double* A,
                            const double* go, double* G) {
  if (code == MLP_SOFTMAX) {
    KX_GRID_STRIDE(row, batch) {
      const double* a = A + row * d;
      const double* g = go + row * d;
      double s = 0;
      for (int64_t i = 0; i < d; ++i) s += g[i] * a[i];
      for (int64_t i = 0; i < d; ++i) G[row * d + i] = a[i] * (g[i] - s);
    }
    return;
  }
  KX_GRID_STRIDE(i, batch * d) G[i] = back1(code, A[i], Z[i], go[i]);
}

__global__ void back_kernel(int64_t n, int32_t code, const double* A, const double* Z, double* G) {
  KX_GRID_STRIDE(i, n) G[i] = back1(code, A[i], Z[i], G[i]);
}

// db[j] = sum over rows r (in order) of G[r, j]; one thread per column.
__global__ void colsum_kernel(int64_t batch, int64_t d, const double* G, double* db) {
  KX_GRID_STRIDE(j, d) {
    double s = 0;
    for (int64_t r = 0; r < batch; ++r) s += G[r * d + j];
    db[j] = s;
  }
}

__global__ void adam_kernel(int64_t n, double* p, const double* g, double* m, double* v, AdamHyper h) {
  KX_GRID_STRIDE(i, n) adam_element(h, g[i], p + i, m + i, v + i);
}

Status upload(Env& e, double** d, const double* h, int64_t n, const char* what, char* err, size_t errlen) {
  const Status s = dalloc(e, d, n, err, errlen);
  if (s != OK || n == 0) return s;
  KX_CU(cudaMemcpyAsync(*d, h, sizeof(double) * (size_t)n, cudaMemcpyHostToDevice, e.stream), what);
  return OK;
}

Status download(Env& e, double* h, const double* d, int64_t n, const char* what, char* err, size_t errlen) {
  if (n > 0) KX_CU(cudaMemcpyAsync(h, d, sizeof(double) * (size_t)n, cudaMemcpyDeviceToHost, e.stream), what);
  return OK;
}

// Offsets of W_l in params and of z_l in acts, l = 1..L.
void offsets(const double* spec, int64_t batch, std::vector<int64_t>* woff, std::vector<int64_t>* zoff) {
  const int64_t L = (int64_t)spec[0];
  woff->assign((size_t)L + 1, 0);
  zoff->assign((size_t)L + 1, 0);
  for (int64_t l = 1, wo = 0, zo = 0; l <= L; ++l) {
    const int64_t d = (int64_t)spec[1 + l];
    (*woff)[l] = wo, (*zoff)[l] = zo;
    wo += d * ((int64_t)spec[l] + 1);
    zo += 2 * batch * d;
  }
}

}  // namespace

Status mlp_forward_f64(const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                       int64_t batch, const double* x, int64_t x_len, double* acts, int64_t acts_len, char* err,
                       size_t errlen) {
  if (err != nullptr && errlen > 0) err[0] = 0;
  const char* why = nullptr;
  Status s = mlp_train_check_args(spec, spec_len, params_len, batch, x_len, acts_len, false, 0, 0, 0, &why);
  if (s != OK) return put(err, errlen, "%s", why), s;
  if (batch == 0) return OK;
  if (params == nullptr || x == nullptr || acts == nullptr) return put(err, errlen, "a required pointer is null"), E_INTERNAL;
  Env e;
  if ((s = open_device(e, err, errlen)) != OK) return s;
  const int64_t L = (int64_t)spec[0];
  std::vector<int64_t> woff, zoff;
  offsets(spec, batch, &woff, &zoff);
  double *dP, *dX, *dA;
  if ((s = upload(e, &dP, params, params_len, "copy params", err, errlen)) != OK ||
      (s = upload(e, &dX, x, x_len, "copy x", err, errlen)) != OK || (s = dalloc(e, &dA, acts_len, err, errlen)) != OK)
    return s;
  const double* A = dX;
  for (int64_t l = 1; l <= L; ++l) {
    const int64_t d = (int64_t)spec[1 + l], dp = (int64_t)spec[l];
    const int32_t code = (int32_t)spec[L + 1 + l];
    const double* W = dP + woff[l];
    double* Z = dA + zoff[l];
    double* H = Z + batch * d;
    bias_rows_kernel<<<blocks_for(batch * d), kThreads, 0, e.stream>>>(batch, d, W + d * dp, Z);
    if ((s = launched("mlp_forward bias launch", err, errlen)) != OK) return s;
    if ((s = gemm(e, batch, d, dp, A, dp, false, W, dp, true, Z, d, true, err, errlen)) != OK) return s;
    act_kernel<<<blocks_for(batch * d), kThreads, 0, e.stream>>>(batch * d, code, Z, H);
    if ((s = launched("mlp_forward activation launch", err, errlen)) != OK) return s;
    if (code == MLP_SOFTMAX) {
      softmax_kernel<<<blocks_for(batch), kThreads, 0, e.stream>>>(batch, d, H);
      if ((s = launched("mlp_forward softmax launch", err, errlen)) != OK) return s;
    }
    A = H;
  }
  if ((s = download(e, acts, dA, acts_len, "copy acts", err, errlen)) != OK) return s;
  KX_CU(cudaStreamSynchronize(e.stream), "mlp_forward");
  return OK;
}

Status mlp_backward_f64(const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                        int64_t batch, const double* x, int64_t x_len, const double* acts, int64_t acts_len,
                        const double* grad_out, int64_t grad_out_len, double* grad_params, int64_t grad_params_len,
                        double* grad_x, int64_t grad_x_len, char* err, size_t errlen) {
  if (err != nullptr && errlen > 0) err[0] = 0;
  const char* why = nullptr;
  Status s = mlp_train_check_args(spec, spec_len, params_len, batch, x_len, acts_len, true, grad_out_len,
                                  grad_params_len, grad_x_len, &why);
  if (s != OK) return put(err, errlen, "%s", why), s;
  if (params == nullptr || grad_params == nullptr || (grad_x_len > 0 && grad_x == nullptr) ||
      (batch > 0 && (x == nullptr || acts == nullptr || grad_out == nullptr)))
    return put(err, errlen, "a required pointer is null"), E_INTERNAL;
  if (batch == 0) {  // sums over no rows
    for (int64_t i = 0; i < params_len; ++i) grad_params[i] = 0;
    return OK;
  }
  Env e;
  if ((s = open_device(e, err, errlen)) != OK) return s;
  const int64_t L = (int64_t)spec[0], d0 = (int64_t)spec[1], dL = (int64_t)spec[1 + L];
  int64_t maxd = 1;
  for (int64_t l = 1; l <= L; ++l) maxd = max64(maxd, (int64_t)spec[1 + l]);
  std::vector<int64_t> woff, zoff;
  offsets(spec, batch, &woff, &zoff);
  double *dP, *dX, *dA, *dGo, *dGp, *dGx, *Ga, *Gb;
  if ((s = upload(e, &dP, params, params_len, "copy params", err, errlen)) != OK ||
      (s = upload(e, &dX, x, x_len, "copy x", err, errlen)) != OK ||
      (s = upload(e, &dA, acts, acts_len, "copy acts", err, errlen)) != OK ||
      (s = upload(e, &dGo, grad_out, grad_out_len, "copy gradOut", err, errlen)) != OK ||
      (s = dalloc(e, &dGp, params_len, err, errlen)) != OK || (s = dalloc(e, &dGx, grad_x_len, err, errlen)) != OK ||
      (s = dalloc(e, &Ga, batch * maxd, err, errlen)) != OK || (s = dalloc(e, &Gb, batch * maxd, err, errlen)) != OK)
    return s;
  {
    const int32_t code = (int32_t)spec[2 * L + 1];
    const double* Z = dA + zoff[L];
    seed_kernel<<<blocks_for(code == MLP_SOFTMAX ? batch : batch * dL), kThreads, 0, e.stream>>>(
        batch, dL, code, Z, Z + batch * dL, dGo, Ga);
    if ((s = launched("mlp_backward seed launch", err, errlen)) != OK) return s;
  }
  double* G = Ga;
  double* Gn = Gb;
  for (int64_t l = L; l >= 1; --l) {
    const int64_t d = (int64_t)spec[1 + l], dp = (int64_t)spec[l];
    const double* W = dP + woff[l];
    const double* Ap = l == 1 ? dX : dA + zoff[l - 1] + batch * dp;
    double* dW = dGp + woff[l];
    if ((s = gemm(e, d, dp, batch, G, d, true, Ap, dp, false, dW, dp, false, err, errlen)) != OK) return s;
    colsum_kernel<<<blocks_for(d), kThreads, 0, e.stream>>>(batch, d, G, dW + d * dp);
    if ((s = launched("mlp_backward bias launch", err, errlen)) != OK) return s;
    if (l == 1) {
      if (grad_x_len > 0 && (s = gemm(e, batch, d0, d, G, d, false, W, d0, false, dGx, d0, false, err, errlen)) != OK)
        return s;
      break;
    }
    if ((s = gemm(e, batch, dp, d, G, d, false, W, dp, false, Gn, dp, false, err, errlen)) != OK) return s;
    const int32_t code = (int32_t)spec[L + l];  // act_{l-1}
    if (code != MLP_IDENTITY) {
      const double* Zp = dA + zoff[l - 1];
      back_kernel<<<blocks_for(batch * dp), kThreads, 0, e.stream>>>(batch * dp, code, Zp + batch * dp, Zp, Gn);
      if ((s = launched("mlp_backward activation launch", err, errlen)) != OK) return s;
    }
    double* t = G;
    G = Gn, Gn = t;
  }
  if ((s = download(e, grad_params, dGp, params_len, "copy gradParams", err, errlen)) != OK ||
      (s = download(e, grad_x, dGx, grad_x_len, "copy gradX", err, errlen)) != OK)
    return s;
  KX_CU(cudaStreamSynchronize(e.stream), "mlp_backward");
  return OK;
}

Status adam_f64(int64_t n, double* params, const double* grads, double* m, double* v, const double* hyper,
                int64_t hyper_len, char* err, size_t errlen) {
  if (err != nullptr && errlen > 0) err[0] = 0;
  const char* why = nullptr;
  Status s = adam_check_args(n, hyper, hyper_len, &why);
  if (s != OK) return put(err, errlen, "%s", why), s;
  if (n == 0) return OK;
  if (params == nullptr || grads == nullptr || m == nullptr || v == nullptr)
    return put(err, errlen, "a required pointer is null"), E_INTERNAL;
  Env e;
  if ((s = open_device(e, err, errlen)) != OK) return s;
  double *dp, *dg, *dm, *dv;
  if ((s = upload(e, &dp, params, n, "copy params", err, errlen)) != OK ||
      (s = upload(e, &dg, grads, n, "copy grads", err, errlen)) != OK ||
      (s = upload(e, &dm, m, n, "copy m", err, errlen)) != OK || (s = upload(e, &dv, v, n, "copy v", err, errlen)) != OK)
    return s;
  adam_kernel<<<blocks_for(n), kThreads, 0, e.stream>>>(n, dp, dg, dm, dv, adam_hyper(hyper));
  if ((s = launched("adam launch", err, errlen)) != OK) return s;
  if ((s = download(e, params, dp, n, "copy params", err, errlen)) != OK ||
      (s = download(e, m, dm, n, "copy m", err, errlen)) != OK || (s = download(e, v, dv, n, "copy v", err, errlen)) != OK)
    return s;
  KX_CU(cudaStreamSynchronize(e.stream), "adam");
  return OK;
}

}  // namespace cuda
}  // namespace kx
