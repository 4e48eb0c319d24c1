// What the built-in MLP's CUDA kernels share (ig_mlp.cu: integrated gradients; mlp_train.cu:
// training): the float64 tiled GEMM, the activations and their derivatives (mlp.h's codes, the
// CPU's formulas), a row softmax, and the per-call stream and buffers. Internal to native/cuda;
// everything is in an anonymous namespace, so each .cu gets its own copy of the kernels.
#pragma once
#include <cuda_runtime.h>
#include <math.h>
#include <string.h>

#include "../core/mlp.h"
#include "cuda_util.h"
#include "kx_cuda.h"

namespace kx {
namespace cuda {
namespace {

constexpr int kT = 16;  // GEMM tile
constexpr int kThreads = 256;

__host__ __device__ inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__host__ __device__ inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// C[m, n] = op(A) op(B) (+ C when beta): op(A) = A [m, k], or A^T with A [k, m] (TA); op(B) = B^T
// with B [n, k] (TB), else B [k, n]. A plain 16 x 16 shared-memory tiled kernel: each element sums
// k ascending in one accumulator with separate multiply and add (the build uses --fmad=false), so
// every result is the same for any launch.
template <bool TA, bool TB>
__global__ void gemm_kernel(int64_t m, int64_t n, int64_t k, const double* __restrict__ a, int64_t lda,
                            const double* __restrict__ b, int64_t ldb, double* c, int64_t ldc, bool beta) {
  __shared__ double As[kT][kT + 1];
  __shared__ double Bs[kT][kT + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row = (int64_t)blockIdx.y * kT + ty, col = (int64_t)blockIdx.x * kT + tx;
  double acc = 0;
  for (int64_t k0 = 0; k0 < k; k0 += kT) {
    // As[r][kk] = op(A)[blockIdx.y kT + r, k0 + kk]; Bs[kk][j] = op(B)[k0 + kk, blockIdx.x kT + j]
    if (TA) {
      // op(A)[i, kk] = A[kk, i]: load coalesced along i, store transposed
      const int64_t i = (int64_t)blockIdx.y * kT + tx, kk = k0 + ty;
      As[tx][ty] = (i < m && kk < k) ? a[kk * lda + i] : 0.0;
    } else {
      const int64_t ka = k0 + tx;
      As[ty][tx] = (row < m && ka < k) ? a[row * lda + ka] : 0.0;
    }
    if (TB) {
      // op(B)[kk, j] = B[j, kk]: load coalesced along kk, then read transposed
      const int64_t j = (int64_t)blockIdx.x * kT + ty, kk = k0 + tx;
      Bs[tx][ty] = (j < n && kk < k) ? b[j * ldb + kk] : 0.0;
    } else {
      const int64_t kb = k0 + ty;
      Bs[ty][tx] = (kb < k && col < n) ? b[kb * ldb + col] : 0.0;
    }
    __syncthreads();
    const int kmax = (int)min64(kT, k - k0);
    for (int t = 0; t < kmax; ++t) acc = acc + As[ty][t] * Bs[t][tx];
    __syncthreads();
  }
  if (row < m && col < n) c[row * ldc + col] = beta ? c[row * ldc + col] + acc : acc;
}

__device__ inline double gelu_grad(double z) {
  const double sqrt1_2 = 0.70710678118654752440;
  const double inv_sqrt_2pi = 1 / sqrt(2 * 3.141592653589793);
  return 0.5 * (1 + erf(z * sqrt1_2)) + z * inv_sqrt_2pi * exp(-0.5 * z * z);
}

__device__ inline double act1(int32_t code, double z) {
  switch (code) {
    case MLP_RELU: return z > 0 ? z : 0.0;
    case MLP_GELU: return 0.5 * z * (1 + erf(z * 0.70710678118654752440));
    case MLP_TANH: return tanh(z);
    case MLP_SIGMOID: return 1 / (1 + exp(-z));
    default: return z;
  }
}

// g = dF/dz from g = dF/dh (h = act(z)); not softmax.
__device__ inline double back1(int32_t code, double h, double z, double g) {
  switch (code) {
    case MLP_RELU: return h > 0 ? g : 0.0;
    case MLP_GELU: return g * gelu_grad(z);
    case MLP_TANH: return g * (1 - h * h);
    case MLP_SIGMOID: return g * h * (1 - h);
    default: return g;
  }
}

#define KX_GRID_STRIDE(i, n) \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// Softmax of each row of H (holding z), one thread per row, the CPU's order.
__global__ void softmax_kernel(int64_t r, int64_t d, double* H) {
  KX_GRID_STRIDE(row, r) {
    double* h = H + row * d;
    double mx = -HUGE_VAL;
    for (int64_t i = 0; i < d; ++i) mx = h[i] > mx ? h[i] : mx;
    double s = 0;
    for (int64_t i = 0; i < d; ++i) s += h[i] = exp(h[i] - mx);
    for (int64_t i = 0; i < d; ++i) h[i] /= s;
  }
}

inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return (unsigned)max64(1, min64(b, 65535));
}

// Device buffers and the stream of one call, released on every return path.
struct Env {
  cudaStream_t stream = nullptr;
  void* bufs[16] = {};
  int nbufs = 0;
  ~Env() {
    if (stream != nullptr) cudaStreamSynchronize(stream);
    for (int i = 0; i < nbufs; ++i) cudaFree(bufs[i]);
    if (stream != nullptr) cudaStreamDestroy(stream);
    cudaGetLastError();
  }
};

Status dalloc(Env& e, double** p, int64_t n, char* err, size_t errlen) {
  void* q = nullptr;
  KX_CU(cudaMalloc(&q, sizeof(double) * (size_t)max64(n, 1)), "cudaMalloc");
  e.bufs[e.nbufs++] = q;
  *p = static_cast<double*>(q);
  return OK;
}

Status launched(const char* what, char* err, size_t errlen) {
  KX_CU(cudaGetLastError(), what);
  return OK;
}

// C = op(A) op(B) (+ C when beta) on e's stream (gemm_kernel).
Status gemm(Env& e, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool ta, const double* b,
            int64_t ldb, bool tb, double* c, int64_t ldc, bool beta, char* err, size_t errlen) {
  if (m == 0 || n == 0) return OK;
  // The grid's y dimension holds at most 65535 row tiles: larger m runs in row slices (row r of
  // op(A) starts at a + r lda, or at a + r when A is transposed; row r of C at c + r ldc).
  constexpr int64_t kMaxRows = (int64_t)65535 * kT;
  for (int64_t r0 = 0; r0 < m; r0 += kMaxRows) {
    const int64_t mr = m - r0 < kMaxRows ? m - r0 : kMaxRows;
    const double* ar = ta ? a + r0 : a + r0 * lda;
    double* cr = c + r0 * ldc;
    const dim3 grid((unsigned)((n + kT - 1) / kT), (unsigned)((mr + kT - 1) / kT)), block(kT, kT);
    if (ta && tb)
      gemm_kernel<true, true><<<grid, block, 0, e.stream>>>(mr, n, k, ar, lda, b, ldb, cr, ldc, beta);
    else if (ta)
      gemm_kernel<true, false><<<grid, block, 0, e.stream>>>(mr, n, k, ar, lda, b, ldb, cr, ldc, beta);
    else if (tb)
      gemm_kernel<false, true><<<grid, block, 0, e.stream>>>(mr, n, k, ar, lda, b, ldb, cr, ldc, beta);
    else
      gemm_kernel<false, false><<<grid, block, 0, e.stream>>>(mr, n, k, ar, lda, b, ldb, cr, ldc, beta);
    Status s = launched("gemm launch", err, errlen);
    if (s != OK) return s;
  }
  return OK;
}

// The device every call of these kernels runs on, its stream in e (errors: E_BACKEND with why).
Status open_device(Env& e, char* err, size_t errlen) {
  char reason[256] = {0};
  const int dev = default_device(reason, sizeof reason);
  if (dev < 0) return util::put(err, errlen, "no CUDA device: %s", reason), E_BACKEND;
  KX_CU(cudaSetDevice(dev), "cudaSetDevice");
  KX_CU(cudaStreamCreateWithFlags(&e.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  return OK;
}

}  // namespace
}  // namespace cuda
}  // namespace kx
