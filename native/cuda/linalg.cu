// CUDA linear algebra for sqrtm and the Gaussian distances: the coupled Newton-Schulz square root
// (and inverse square root) of many or large matrices, and batched Cholesky and symmetric
// eigendecomposition of many small matrices. float64 and float32, row-major, host pointers.
//
// Why written here: the CUDA toolkit we may assume on a user's machine (and in CI) is the compiler
// plus cudart; cuBLAS and cuSOLVER are separate, large, versioned libraries. Writing the few
// kernels sqrtm needs (one GEMM with a small epilogue, a norm, a Cholesky and a Jacobi
// eigensolver) keeps the CUDA backend one dependency-free build that links cudart statically.
//
// Kernels:
//   gemm        C = alpha s_m (A B) + diag I - r_m R for a batch of n x n matrices (grid.z = the
//               matrix; matrices a per-matrix flag marks finished are skipped). 64 x 64 output
//               tile per block of 256 threads (16 x 16), 4 x 4 outputs per thread (rows ty + 16 i,
//               columns tx + 16 j), k in steps of 16 through shared memory (A stored transposed,
//               one column of padding), explicit fma (the build has --fmad=false; linear algebra
//               needs no bit identity with other backends, but the emulation below gets the same
//               bits as the GPU because fma is exact on both). Accumulator type Acc: float for
//               the float32 iteration, double for float64 and for every residual. An optional
//               epilogue writes each block's sum of squares of the result (no C store needed),
//               summed per matrix in a fixed order: the residual is deterministic.
//   norm        one block per matrix: max |a|, non-finite flag, then ||A||_F = m sqrt(sum (a/m)^2)
//               (no overflow for float64 entries near the range limit).
//   control     one thread per matrix: residual from the block sums, stopping rules, flags.
//   emit        X = sqrt(c) Y (inverse: Z / sqrt(c)) for the matrices that just finished.
//   cholesky    one block (one warp) per matrix, n <= kBatchedMaxN, in shared memory:
//               left-looking, thread i owns row i; the pivot test is the CPU kernel's !(d > 0).
//   jacobi      one block (128 threads) per matrix, n <= kBatchedMaxN, A and V in shared memory.
//               Parallel cyclic Jacobi: each sweep is m - 1 steps (m = n rounded up to even; an odd
//               n gets a zero dummy row/column whose rotations are the identity) of m / 2 disjoint
//               pairs in round-robin (circle method) order; a step computes the m / 2 rotations
//               (Rutishauser's formulas, |a_pq| <= eps sqrt|a_pp| sqrt|a_qq| skips a pair), then
//               applies all of them at once: one thread per pair of pairs updates that 2 x 2 block
//               and its mirror (so A stays exactly symmetric, deterministically), the pair's own
//               block gets the exact 2 x 2 diagonalisation, V = V J by rows. A sweep without a
//               rotation ends the iteration. Eigenvalues are sorted by rank (stable).
//
// Newton-Schulz per matrix (the CPU kernel's semantics, native/core/linalg.cc sqrtm_ns): c =
// ||A||_F, Y = A / c, Z = I; per iteration T = (3 I - Z Y) / 2 (its GEMM also sums the free proxy
// ||I - Z Y||_F), Y <- Y T, Z <- T Z (three GEMMs); once the proxy is below 1e-2 the relative
// residual, computed exactly from the new iterate with float64 accumulation:
//   forward ||X X - A||_F / ||A||_F = ||Y Y - A / c||_F             (one GEMM, no store)
//   inverse ||X A X - I||_F / sqrt(n) = ||Z ((A / c) Z) - I||_F / sqrt(n)  (two GEMMs)
// It stops below tol (X emitted), or fails (E_NO_CONVERGENCE) when the proxy is non-finite or
// above 1e6, the residual is non-finite, either stalls (after 10 iterations, above 0.999 x its
// best so far) or max_iterations pass. A batch iterates together; finished matrices are skipped
// by every later launch. The host reads one counter per iteration. The batch is processed in
// chunks so device memory stays within half the free memory (set_linalg_chunk_bytes overrides);
// results do not depend on the chunking.
//
// Every kernel is a "block program" over an execution policy, as in attention.cu: DevX runs it on
// the GPU, HostX runs the same code for a whole block on the CPU (phases thread by thread; no
// shuffles; the one atomic is the control kernel's running-matrix counter). kx::cuda::emu
// exposes that, so the check program verifies index arithmetic, edge tiles, the sweep order and
// the stopping logic without a GPU.
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>

#include "cuda_util.h"
#include "kx_cuda.h"

namespace kx {
namespace cuda {

namespace {

using util::cuda_fail;
using util::put;

#define KX_LHD __host__ __device__ __forceinline__

enum Where { ON_DEVICE, ON_HOST };
constexpr int64_t kHostBudget = int64_t(1) << 30;  // emu: bytes of "device" buffers
std::atomic<int64_t> g_chunk_bytes{0};             // 0: half the free device memory
constexpr int64_t kMaxGridY = 65535;               // grid.y / grid.z limit: matrices per chunk

KX_LHD double fma_(double a, double b, double c) { return fma(a, b, c); }
KX_LHD float fma_(float a, float b, float c) { return fmaf(a, b, c); }
KX_LHD double sqrt_(double a) { return sqrt(a); }
KX_LHD float sqrt_(float a) { return sqrtf(a); }
KX_LHD double abs_(double a) { return fabs(a); }
KX_LHD float abs_(float a) { return fabsf(a); }
template <class T>
KX_LHD bool finite_(T v) {
  return v - v == T(0);  // false for inf and NaN
}
template <class T>
struct Eps;
template <>
struct Eps<double> {
  static constexpr double u = 1.1102230246251565e-16;  // 2^-53
  static constexpr double big = 1e150;                 // theta^2 would overflow above this
};
template <>
struct Eps<float> {
  static constexpr float u = 5.9604645e-08f;  // 2^-24
  static constexpr float big = 1e18f;
};

// ---- execution policies ------------------------------------------------------------------------

struct NoState {};

// One GPU thread (its state in registers).
template <class S>
struct DevX {
  S st;
  int tid;
  template <class F>
  KX_LHD void each(F&& f) {
    f(tid, st);
  }
  KX_LHD void sync() {
#if defined(__CUDA_ARCH__)
    __syncthreads();
#endif
  }
};

// A whole block on the CPU: nthreads states, each phase run thread by thread.
template <class S>
struct HostX {
  S* st;
  int nthreads;
  template <class F>
  KX_LHD void each(F&& f) {
    for (int t = 0; t < nthreads; ++t) f(t, st[t]);
  }
  KX_LHD void sync() {}
};

template <class S, class Sm, class Fn>
Status emulate(int nthreads, int64_t gx, int64_t gy, int64_t gz, char* err, size_t errlen,
               Fn fn) {
  S* st = (S*)calloc((size_t)nthreads, sizeof(S));
  Sm* sm = (Sm*)calloc(1, sizeof(Sm));
  if (st == nullptr || sm == nullptr) {
    free(st), free(sm);
    put(err, errlen, "out of host memory for the emulation");
    return E_OOM;
  }
  HostX<S> x{st, nthreads};
  for (int64_t z = 0; z < gz; ++z)
    for (int64_t y = 0; y < gy; ++y)
      for (int64_t b = 0; b < gx; ++b) fn(x, (int)b, (int)y, (int)z, sm);
  free(st), free(sm);
  return OK;
}

// ---- GEMM ----------------------------------------------------------------------------------------

constexpr int kGT = 256;  // threads
constexpr int kGM = 64;   // output tile (kGM x kGM)
constexpr int kGK = 16;   // k step

template <class Acc>
struct GemmState {
  Acc acc[4][4];
};

template <class Acc>
struct GemmSmem {
  Acc As[kGK][kGM + 1];  // A tile, transposed: As[k][row]
  Acc Bs[kGK][kGM];
  double red[kGT];
};

// v = alpha s_m (A B) + diag I - r_m R, for matrix m of the batch; all matrices n x n. The block
// sums are of (v - ssdiag I)^2.
template <class TA, class TB, class TC>
struct GemmArgs {
  int64_t n;
  const TA* A;
  const TB* B;
  TC* C;                  // or null (only the sum of squares)
  double alpha, diag, ssdiag;
  const double* mscale;   // s_m, or null (1)
  const TA* R;            // or null
  const double* rscale;   // r_m (with R)
  double* part;           // per block sum of v^2 at [m][by][bx], or null
  const int32_t* active;  // skip matrix m when active[m] == 0; null: all
};

template <class TA, class TB, class TC, class Acc, class X>
KX_LHD void gemm_block(X& x, const GemmArgs<TA, TB, TC>& g, int bx, int by, int bz, int gx, int gy,
                       GemmSmem<Acc>* sm) {
  if (g.active != nullptr && g.active[bz] == 0) return;  // uniform over the block
  const int64_t n = g.n, nn = n * n;
  const TA* A = g.A + bz * nn;
  const TB* B = g.B + bz * nn;
  const int64_t i0 = (int64_t)by * kGM, j0 = (int64_t)bx * kGM;
  x.each([&](int, GemmState<Acc>& s) {
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) s.acc[i][j] = Acc(0);
  });
  for (int64_t k0 = 0; k0 < n; k0 += kGK) {
    x.each([&](int tid, GemmState<Acc>&) {
#pragma unroll
      for (int r = 0; r < (kGM * kGK) / kGT; ++r) {
        const int e = tid + r * kGT;
        {
          const int m = e / kGK, k = e % kGK;  // A: kGM rows x kGK columns, k fastest
          const int64_t gi = i0 + m, gk = k0 + k;
          sm->As[k][m] = gi < n && gk < n ? (Acc)A[gi * n + gk] : Acc(0);
        }
        {
          const int k = e / kGM, j = e % kGM;  // B: kGK rows x kGM columns
          const int64_t gk = k0 + k, gj = j0 + j;
          sm->Bs[k][j] = gk < n && gj < n ? (Acc)B[gk * n + gj] : Acc(0);
        }
      }
    });
    x.sync();
    x.each([&](int tid, GemmState<Acc>& s) {
      const int ty = tid / 16, tx = tid % 16;
#pragma unroll
      for (int k = 0; k < kGK; ++k) {
        Acc a[4], b[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) a[i] = sm->As[k][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < 4; ++j) b[j] = sm->Bs[k][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) s.acc[i][j] = fma_(a[i], b[j], s.acc[i][j]);
      }
    });
    x.sync();
  }
  const Acc al = (Acc)(g.alpha * (g.mscale != nullptr ? g.mscale[bz] : 1.0));
  const Acc dg = (Acc)g.diag, sd = (Acc)g.ssdiag;
  const Acc rs = g.R != nullptr ? (Acc)g.rscale[bz] : Acc(0);
  x.each([&](int tid, GemmState<Acc>& s) {
    const int ty = tid / 16, tx = tid % 16;
    double ss = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int64_t gi = i0 + ty + 16 * i, gj = j0 + tx + 16 * j;
        if (gi >= n || gj >= n) continue;
        Acc v = al * s.acc[i][j];
        if (gi == gj) v += dg;
        if (g.R != nullptr) v -= rs * (Acc)g.R[bz * nn + gi * n + gj];
        if (g.C != nullptr) g.C[bz * nn + gi * n + gj] = (TC)v;
        const double w = (double)(gi == gj ? v - sd : v);
        ss += w * w;
      }
    sm->red[tid] = ss;
  });
  if (g.part == nullptr) return;
  x.sync();
  for (int h = kGT / 2; h > 0; h /= 2) {
    x.each([&](int tid, GemmState<Acc>&) {
      if (tid < h) sm->red[tid] += sm->red[tid + h];
    });
    x.sync();
  }
  x.each([&](int tid, GemmState<Acc>&) {
    if (tid == 0) g.part[((int64_t)bz * gy + by) * gx + bx] = sm->red[0];
  });
}

template <class TA, class TB, class TC, class Acc>
__global__ void __launch_bounds__(kGT) gemm_kernel(GemmArgs<TA, TB, TC> g) {
  __shared__ GemmSmem<Acc> sm;
  DevX<GemmState<Acc>> x;
  x.tid = (int)threadIdx.x;
  gemm_block<TA, TB, TC, Acc>(x, g, (int)blockIdx.x, (int)blockIdx.y, (int)blockIdx.z,
                              (int)gridDim.x, (int)gridDim.y, &sm);
}

int64_t gemm_tiles(int64_t n) { return (n + kGM - 1) / kGM; }

// ---- per-matrix norms, init, control, emit (Newton-Schulz) -----------------------------------

constexpr int kNT = 256;

struct NormSmem {
  double red[kNT];
  int bad;
};

// nrm[bz] = ||A||_F, bad[bz] = 1 when A has a non-finite entry.
template <class T, class X>
KX_LHD void norm_block(X& x, int64_t n, const T* a, double* nrm, int32_t* bad, int bz,
                       NormSmem* sm) {
  const int64_t nn = n * n;
  const T* A = a + bz * nn;
  x.each([&](int tid, NoState&) {
    if (tid == 0) sm->bad = 0;
  });
  x.sync();
  x.each([&](int tid, NoState&) {
    double m = 0;
    bool b = false;
    for (int64_t e = tid; e < nn; e += kNT) {
      const double v = (double)A[e];
      if (!finite_(v)) b = true;
      else if (fabs(v) > m) m = fabs(v);
    }
    sm->red[tid] = m;
    if (b) sm->bad = 1;
  });
  x.sync();
  for (int h = kNT / 2; h > 0; h /= 2) {
    x.each([&](int tid, NoState&) {
      if (tid < h && sm->red[tid + h] > sm->red[tid]) sm->red[tid] = sm->red[tid + h];
    });
    x.sync();
  }
  const double m = sm->red[0];
  const int isbad = sm->bad;
  x.sync();
  if (isbad || m == 0) {
    x.each([&](int tid, NoState&) {
      if (tid == 0) nrm[bz] = isbad ? NAN : 0.0, bad[bz] = isbad;
    });
    return;
  }
  const double inv = 1.0 / m;
  x.each([&](int tid, NoState&) {
    double s = 0;
    for (int64_t e = tid; e < nn; e += kNT) {
      const double v = (double)A[e] * inv;
      s = fma(v, v, s);
    }
    sm->red[tid] = s;
  });
  x.sync();
  for (int h = kNT / 2; h > 0; h /= 2) {
    x.each([&](int tid, NoState&) {
      if (tid < h) sm->red[tid] += sm->red[tid + h];
    });
    x.sync();
  }
  x.each([&](int tid, NoState&) {
    if (tid == 0) nrm[bz] = m * sqrt(sm->red[0]), bad[bz] = 0;
  });
}

template <class T>
__global__ void __launch_bounds__(kNT) norm_kernel(int64_t n, const T* a, double* nrm,
                                                    int32_t* bad) {
  __shared__ NormSmem sm;
  DevX<NoState> x;
  x.tid = (int)threadIdx.x;
  norm_block<T>(x, n, a, nrm, bad, (int)blockIdx.x, &sm);
}

enum NsStatus : int32_t { NS_RUNNING = 0, NS_CONVERGED = 1, NS_STAGNATED = 2, NS_NONFINITE = 3,
                          NS_MAX_ITER = 4, NS_DIVERGED = 5 };

struct NsState {
  double c, sq, isq;  // ||A||_F, sqrt(c), 1 / sqrt(c)
  double best, best_proxy, res;
  int32_t it, status, emit, pad;
};

struct EwSmem {
  int dummy;
};

// Elementwise over (matrix bz, elements of block bx): Y = A / c and Z = I for active matrices.
template <class T, class X>
KX_LHD void init_block(X& x, int64_t n, const T* a, const double* invc, const int32_t* act, T* Y,
                       T* Z, int bx, int bz) {
  if (act[bz] == 0) return;
  const int64_t nn = n * n;
  x.each([&](int tid, NoState&) {
    const int64_t e = (int64_t)bx * kNT + tid;
    if (e >= nn) return;
    Y[bz * nn + e] = (T)((double)a[bz * nn + e] * invc[bz]);
    Z[bz * nn + e] = e / n == e % n ? T(1) : T(0);
  });
}

template <class T>
__global__ void __launch_bounds__(kNT) init_kernel(int64_t n, const T* a, const double* invc,
                                                    const int32_t* act, T* Y, T* Z) {
  DevX<NoState> x;
  x.tid = (int)threadIdx.x;
  init_block<T>(x, n, a, invc, act, Y, Z, (int)blockIdx.x, (int)blockIdx.y);
}

// X = sqrt(c) Y (inverse: Z / sqrt(c)) for the matrices that finished in the last step; X = 0
// for A = 0.
template <class T, class X>
KX_LHD void emit_block(X& x, int64_t n, const NsState* st, const T* Y, const T* Z, bool inverse,
                       T* out, int bx, int bz) {
  if (st[bz].emit == 0) return;
  const int64_t nn = n * n;
  const double c = st[bz].c, s = inverse ? st[bz].isq : st[bz].sq;
  const T* src = inverse ? Z : Y;
  x.each([&](int tid, NoState&) {
    const int64_t e = (int64_t)bx * kNT + tid;
    if (e >= nn) return;
    out[bz * nn + e] = c == 0 ? T(0) : (T)(s * (double)src[bz * nn + e]);
  });
}

template <class T>
__global__ void __launch_bounds__(kNT) emit_kernel(int64_t n, const NsState* st, const T* Y,
                                                    const T* Z, bool inverse, T* out) {
  DevX<NoState> x;
  x.tid = (int)threadIdx.x;
  emit_block<T>(x, n, st, Y, Z, inverse, out, (int)blockIdx.x, (int)blockIdx.y);
}

constexpr int kCT = 128;

// The CPU kernel's rules (linalg.cc sqrtm_ns): stage 0 (after the three GEMMs; the block sums are
// ||(I - Z Y) / 2||^2 of the step) takes the free proxy ||I - Z Y||_F: non-finite or > 1e6 fails,
// below 1e-2 the true residual is computed (chk), else it must not stall. Stage 1 (after the
// residual GEMMs of the chk matrices) applies tol, non-finite, stall and max_iterations to the
// residual, and counts the matrices still running.
struct Control {
  int64_t count, nblk;
  int32_t stage;
  double rnorm, tol;
  int32_t max_iterations;
  const double* part;
  NsState* st;
  int32_t* act;
  int32_t* chk;
  int32_t* running;  // += 1 per matrix still iterating (stage 1)
};

KX_LHD bool stalled(int32_t it, double res, double best) { return it > 10 && res > 0.999 * best; }

KX_LHD void control_one(const Control& k, int64_t m) {
  NsState& s = k.st[m];
  if (k.stage == 0) {
    s.emit = 0;
    k.chk[m] = 0;
  }
  if (k.act[m] == 0) return;
  int32_t status = NS_RUNNING;
  if (k.stage == 0) {
    double sum = 0;
    for (int64_t b = 0; b < k.nblk; ++b) sum += k.part[m * k.nblk + b];
    const double proxy = 2 * sqrt(sum);
    s.it += 1;
    if (!finite_(proxy) || proxy > 1e6) status = NS_DIVERGED;
    else if (proxy < 1e-2) k.chk[m] = 1;
    else if (stalled(s.it, proxy, s.best_proxy)) status = NS_STAGNATED;
    else if (s.it >= k.max_iterations) status = NS_MAX_ITER;
    if (proxy < s.best_proxy) s.best_proxy = proxy;
  } else if (k.chk[m]) {
    double sum = 0;
    for (int64_t b = 0; b < k.nblk; ++b) sum += k.part[m * k.nblk + b];
    const double res = sqrt(sum) * k.rnorm;
    s.res = res;
    if (!finite_(res)) status = NS_NONFINITE;
    else if (res < k.tol) status = NS_CONVERGED;
    else if (stalled(s.it, res, s.best)) status = NS_STAGNATED;
    else if (s.it >= k.max_iterations) status = NS_MAX_ITER;
    if (res < s.best) s.best = res;
  }
  if (status != NS_RUNNING) {
    s.status = status;
    s.emit = 1;
    k.act[m] = 0;
  } else if (k.stage == 1) {
#if defined(__CUDA_ARCH__)
    atomicAdd(k.running, 1);
#else
    *k.running += 1;
#endif
  }
}

template <class X>
KX_LHD void control_block(X& x, const Control& k, int bx) {
  x.each([&](int tid, NoState&) {
    const int64_t m = (int64_t)bx * kCT + tid;
    if (m < k.count) control_one(k, m);
  });
}

__global__ void __launch_bounds__(kCT) control_kernel(Control k) {
  DevX<NoState> x;
  x.tid = (int)threadIdx.x;
  control_block(x, k, (int)blockIdx.x);
}

// ---- batched Cholesky ------------------------------------------------------------------------

constexpr int kLd = (int)kBatchedMaxN + 1;
constexpr int kChT = 32;  // threads per block: thread i owns row i
static_assert(kChT >= kBatchedMaxN, "one thread per row");
static_assert(kBatchedMaxN % 2 == 0, "the Jacobi dummy row fits");

template <class T>
struct CholSmem {
  T L[kBatchedMaxN][kLd];
  T tmp[kBatchedMaxN];
};

template <class T, class X>
KX_LHD void chol_block(X& x, int n, const T* a, T* Lout, int64_t* failed, int bz,
                       CholSmem<T>* sm) {
  const int64_t nn = (int64_t)n * n;
  const T* A = a + bz * nn;
  x.each([&](int tid, NoState&) {
    for (int e = tid; e < n * n; e += kChT) {
      const int i = e / n, j = e % n;
      sm->L[i][j] = j <= i ? A[e] : T(0);
    }
  });
  x.sync();
  int fail = -1;
  for (int j = 0; j < n; ++j) {
    x.each([&](int i, NoState&) {
      if (i < j || i >= n) return;
      T s = sm->L[i][j];
      for (int k = 0; k < j; ++k) s = fma_(-sm->L[i][k], sm->L[j][k], s);
      sm->tmp[i] = s;
    });
    x.sync();
    const T d = sm->tmp[j];  // uniform
    if (!(d > T(0))) {
      fail = j;
      break;
    }
    const T r = sqrt_(d);
    x.each([&](int i, NoState&) {
      if (i == j) sm->L[j][j] = r;
      else if (i > j && i < n) sm->L[i][j] = sm->tmp[i] / r;
    });
    x.sync();
  }
  T* L = Lout + bz * nn;
  x.each([&](int tid, NoState&) {
    for (int e = tid; e < n * n; e += kChT) {
      const int i = e / n, j = e % n;
      L[e] = fail >= 0 || j > i ? T(0) : sm->L[i][j];
    }
    if (tid == 0) failed[bz] = fail;
  });
}

template <class T>
__global__ void __launch_bounds__(kChT) chol_kernel(int n, const T* a, T* L, int64_t* failed) {
  __shared__ CholSmem<T> sm;
  DevX<NoState> x;
  x.tid = (int)threadIdx.x;
  chol_block<T>(x, n, a, L, failed, (int)blockIdx.x, &sm);
}

// ---- batched Jacobi eigensolver ----------------------------------------------------------------

constexpr int kJT = 128;
constexpr int kMaxSweeps = 60;
constexpr int kHalf = (int)(kBatchedMaxN + 1) / 2;

template <class T>
struct JacobiSmem {
  T A[kBatchedMaxN][kLd];  // m <= kBatchedMaxN (n rounded up to even)
  T V[kBatchedMaxN][kLd];
  T c[kHalf], s[kHalf], t[kHalf];
  int p[kHalf], q[kHalf];
  int bad, rotated;
};

// The pair k (0 <= k < m/2) of step s (0 <= s < m - 1) of a sweep, m even: round robin by the
// circle method (index 0 fixed, 1 .. m-1 rotate); every pair of 0 .. m-1 occurs once per sweep.
KX_LHD void jacobi_pair(int m, int s, int k, int* p, int* q) {
  const int a = k == 0 ? 0 : (k - 1 + s) % (m - 1) + 1;
  const int b = (m - 2 - k + s) % (m - 1) + 1;
  *p = a < b ? a : b;
  *q = a < b ? b : a;
}

// info[bz]: 0 ok, 1 non-finite input, 2 not converged in kMaxSweeps sweeps.
template <class T, class X>
KX_LHD void jacobi_block(X& x, int n, const T* a, T* values, T* vectors, int32_t* info,
                         int32_t* sweeps, int bz, JacobiSmem<T>* sm) {
  const int64_t nn = (int64_t)n * n;
  const T* A = a + bz * nn;
  const int m = n + (n & 1), P = m / 2;
  x.each([&](int tid, NoState&) {
    if (tid == 0) sm->bad = 0;
  });
  x.sync();
  x.each([&](int tid, NoState&) {
    bool b = false;
    for (int e = tid; e < m * m; e += kJT) {
      const int i = e / m, j = e % m;
      T v = T(0);
      if (i < n && j < n) {
        v = i >= j ? A[i * n + j] : A[j * n + i];  // lower triangle read
        if (!finite_(v)) b = true;
      }
      sm->A[i][j] = v;
      sm->V[i][j] = i == j ? T(1) : T(0);
    }
    if (b) sm->bad = 1;
  });
  x.sync();
  const int isbad = sm->bad;
  int sweep = 0, converged = 0;
  if (!isbad) {
    for (sweep = 0; sweep < kMaxSweeps; ++sweep) {
      x.each([&](int tid, NoState&) {
        if (tid == 0) sm->rotated = 0;
      });
      x.sync();
      for (int s = 0; s < m - 1; ++s) {
        // The m/2 rotations of this step.
        x.each([&](int k, NoState&) {
          if (k >= P) return;
          int p, q;
          jacobi_pair(m, s, k, &p, &q);
          const T app = sm->A[p][p], aqq = sm->A[q][q], apq = sm->A[p][q];
          T c = T(1), sn = T(0), t = T(0);
          if (abs_(apq) > Eps<T>::u * sqrt_(abs_(app)) * sqrt_(abs_(aqq))) {
            const T theta = (aqq - app) / (T(2) * apq);
            if (abs_(theta) > Eps<T>::big) {
              t = T(0.5) / theta;
            } else {
              t = T(1) / (abs_(theta) + sqrt_(T(1) + theta * theta));
              if (theta < T(0)) t = -t;
            }
            c = T(1) / sqrt_(T(1) + t * t);
            sn = t * c;
            sm->rotated = 1;
          }
          sm->c[k] = c, sm->s[k] = sn, sm->t[k] = t, sm->p[k] = p, sm->q[k] = q;
        });
        x.sync();
        // A = J^T A J: one thread per pair of pairs (i <= j) owns those 2 x 2 blocks and their
        // mirrors; V = V J by rows.
        x.each([&](int tid, NoState&) {
          for (int e = tid; e < P * P; e += kJT) {
            const int i = e / P, j = e % P;
            if (i > j) continue;
            const int p1 = sm->p[i], q1 = sm->q[i];
            const T c1 = sm->c[i], s1 = sm->s[i];
            if (i == j) {
              if (s1 == T(0)) continue;
              const T t1 = sm->t[i], apq = sm->A[p1][q1];
              sm->A[p1][p1] = sm->A[p1][p1] - t1 * apq;
              sm->A[q1][q1] = sm->A[q1][q1] + t1 * apq;
              sm->A[p1][q1] = T(0);
              sm->A[q1][p1] = T(0);
              continue;
            }
            const int p2 = sm->p[j], q2 = sm->q[j];
            const T c2 = sm->c[j], s2 = sm->s[j];
            if (s1 == T(0) && s2 == T(0)) continue;
            const T a11 = sm->A[p1][p2], a12 = sm->A[p1][q2];
            const T a21 = sm->A[q1][p2], a22 = sm->A[q1][q2];
            const T b11 = c1 * a11 - s1 * a21, b12 = c1 * a12 - s1 * a22;
            const T b21 = s1 * a11 + c1 * a21, b22 = s1 * a12 + c1 * a22;
            const T d11 = c2 * b11 - s2 * b12, d12 = s2 * b11 + c2 * b12;
            const T d21 = c2 * b21 - s2 * b22, d22 = s2 * b21 + c2 * b22;
            sm->A[p1][p2] = d11, sm->A[p2][p1] = d11;
            sm->A[p1][q2] = d12, sm->A[q2][p1] = d12;
            sm->A[q1][p2] = d21, sm->A[p2][q1] = d21;
            sm->A[q1][q2] = d22, sm->A[q2][q1] = d22;
          }
          for (int e = tid; e < m * P; e += kJT) {
            const int r = e / P, k = e % P;
            const T sn = sm->s[k];
            if (sn == T(0)) continue;
            const T c = sm->c[k];
            const int p = sm->p[k], q = sm->q[k];
            const T vp = sm->V[r][p], vq = sm->V[r][q];
            sm->V[r][p] = c * vp - sn * vq;
            sm->V[r][q] = sn * vp + c * vq;
          }
        });
        x.sync();
      }
      const int rotated = sm->rotated;
      x.sync();
      if (!rotated) {
        converged = 1;
        break;
      }
    }
  }
  // Sort by rank (ties by index: stable), write values and the columns of V.
  x.each([&](int k, NoState&) {
    if (k == 0) {
      info[bz] = isbad ? 1 : converged ? 0 : 2;
      if (sweeps != nullptr) sweeps[bz] = sweep + (converged ? 1 : 0);
    }
    if (k < n) {
      if (isbad) {
        values[bz * n + k] = (T)NAN;
        if (vectors != nullptr)
          for (int r = 0; r < n; ++r) vectors[bz * nn + r * n + k] = (T)NAN;
        return;
      }
      const T d = sm->A[k][k];
      int rank = 0;
      for (int j = 0; j < n; ++j) {
        const T dj = sm->A[j][j];
        if (dj < d || (dj == d && j < k)) ++rank;
      }
      values[bz * n + rank] = d;
      if (vectors != nullptr)
        for (int r = 0; r < n; ++r) vectors[bz * nn + r * n + rank] = sm->V[r][k];
    }
  });
}

template <class T>
__global__ void __launch_bounds__(kJT) jacobi_kernel(int n, const T* a, T* values, T* vectors,
                                                      int32_t* info, int32_t* sweeps) {
  __shared__ JacobiSmem<T> sm;
  DevX<NoState> x;
  x.tid = (int)threadIdx.x;
  jacobi_block<T>(x, n, a, values, vectors, info, sweeps, (int)blockIdx.x, &sm);
}

// ---- where the buffers live: device memory + stream, or host memory (emu) ---------------------

struct Env {
  Where where;
  bool own_stream = false;
  bool sync_on_exit = true;  // false: the device-pointer API only enqueues
  cudaStream_t stream = nullptr;
  char* err;
  size_t errlen;
  void* bufs[24];
  int nbufs = 0;
  Env(Where w, char* e, size_t el) : where(w), err(e), errlen(el) {}
  ~Env() {
    if (where == ON_DEVICE) {
      if (sync_on_exit || nbufs > 0) cudaStreamSynchronize(stream);
      for (int i = 0; i < nbufs; ++i) cudaFree(bufs[i]);
      if (own_stream && stream != nullptr) cudaStreamDestroy(stream);
      cudaGetLastError();
    } else {
      for (int i = 0; i < nbufs; ++i) free(bufs[i]);
    }
  }
};

// Host-memory API: the first usable device and a stream of our own; emu: nothing. budget: bytes
// one chunk may use.
Status env_open(Env& e, int64_t* budget) {
  char* err = e.err;
  const size_t errlen = e.errlen;
  *budget = kHostBudget;
  if (e.where == ON_DEVICE) {
    char reason[256] = {0};
    const int dev = default_device(reason, sizeof reason);
    if (dev < 0) {
      put(err, errlen, "no CUDA device: %s", reason);
      return E_BACKEND;
    }
    KX_CU(cudaSetDevice(dev), "cudaSetDevice");
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) *budget = (int64_t)(free_b / 2);
    cudaGetLastError();
    KX_CU(cudaStreamCreateWithFlags(&e.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    e.own_stream = true;
  }
  const int64_t forced = g_chunk_bytes.load();
  if (forced > 0) *budget = forced;
  return OK;
}

// Device-pointer API: the current device, the caller's stream.
Status env_open_dev(Env& e, void* stream, int64_t* budget) {
  char* err = e.err;
  const size_t errlen = e.errlen;
  e.stream = (cudaStream_t)stream;
  size_t free_b = 0, total_b = 0;
  KX_CU(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  *budget = (int64_t)(free_b / 2);
  const int64_t forced = g_chunk_bytes.load();
  if (forced > 0) *budget = forced;
  return OK;
}

template <class P>
Status env_alloc(Env& e, P** p, int64_t elems) {
  char* err = e.err;
  const size_t errlen = e.errlen;
  *p = nullptr;
  const size_t bytes = (size_t)(elems > 0 ? elems : 1) * sizeof(P);
  if (e.nbufs == (int)(sizeof e.bufs / sizeof e.bufs[0])) {
    put(err, errlen, "linalg: too many scratch buffers");
    return E_INTERNAL;
  }
  void* q = nullptr;
  if (e.where == ON_DEVICE) {
    char what[96];
    snprintf(what, sizeof what, "cudaMalloc(%zu bytes)", bytes);
    KX_CU(cudaMalloc(&q, bytes), what);
  } else {
    q = malloc(bytes);
    if (q == nullptr) {
      put(err, errlen, "out of host memory (%zu bytes) for the emulation", bytes);
      return E_OOM;
    }
  }
  e.bufs[e.nbufs++] = q;
  *p = (P*)q;
  return OK;
}

Status env_copy(Env& e, void* dst, const void* src, size_t bytes, bool to_device) {
  char* err = e.err;
  const size_t errlen = e.errlen;
  if (bytes == 0) return OK;
  if (e.where == ON_HOST) {
    memcpy(dst, src, bytes);
    return OK;
  }
  KX_CU(cudaMemcpyAsync(dst, src, bytes, to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                        e.stream),
        to_device ? "cudaMemcpy (host to device)" : "cudaMemcpy (device to host)");
  return OK;
}

Status env_sync(Env& e, const char* what) {
  char* err = e.err;
  const size_t errlen = e.errlen;
  if (e.where == ON_DEVICE) KX_CU(cudaStreamSynchronize(e.stream), what);
  return OK;
}

Status launched(Env& e, const char* what) {
  char* err = e.err;
  const size_t errlen = e.errlen;
  if (e.where == ON_DEVICE) KX_CU(cudaGetLastError(), what);
  return OK;
}

template <class TA, class TB, class TC, class Acc>
Status run_gemm(Env& e, const GemmArgs<TA, TB, TC>& g, int64_t batch) {
  const int64_t t = gemm_tiles(g.n);
  if (batch <= 0 || t == 0) return OK;
  if (e.where == ON_HOST)
    return emulate<GemmState<Acc>, GemmSmem<Acc>>(
        kGT, t, t, batch, e.err, e.errlen,
        [&](HostX<GemmState<Acc>>& x, int bx, int by, int bz, GemmSmem<Acc>* sm) {
          gemm_block<TA, TB, TC, Acc>(x, g, bx, by, bz, (int)t, (int)t, sm);
        });
  gemm_kernel<TA, TB, TC, Acc><<<dim3((unsigned)t, (unsigned)t, (unsigned)batch), kGT, 0, e.stream>>>(g);
  return launched(e, "gemm kernel launch");
}

// ---- Newton-Schulz driver ----------------------------------------------------------------------

bool mul_ok(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > INT64_MAX / a) return false;
  *out = a * b;
  return true;
}

// Bytes of buffers per matrix for a Newton-Schulz chunk (io: also the input and output copies).
int64_t ns_bytes_per_matrix(int64_t n, size_t es, bool inverse, bool io) {
  const int64_t nn = n * n, t = gemm_tiles(n);
  return nn * (int64_t)es * (5 + (io ? 2 : 0)) + (inverse ? nn * 8 : 0) + t * t * 8 +
         (int64_t)sizeof(NsState) + 32;
}

template <class T>
struct NsBufs {
  T *Y, *Y2, *Z, *Z2, *Tm;
  double* W;  // inverse: (A / c) Z
  double *nrm, *invc, *part;
  int32_t *bad, *act, *chk, *running;
  NsState* st;
  NsState* host_st;  // host copy (malloc)
  ~NsBufs() { free(host_st); }
};

template <class T>
Status ns_alloc(Env& e, int64_t cap, int64_t n, bool inverse, NsBufs<T>* b) {
  const int64_t nn = n * n, t = gemm_tiles(n);
  Status s;
  b->host_st = nullptr;
  if ((s = env_alloc(e, &b->Y, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &b->Y2, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &b->Z, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &b->Z2, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &b->Tm, cap * nn)) != OK) return s;
  b->W = nullptr;
  if (inverse && (s = env_alloc(e, &b->W, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &b->nrm, cap)) != OK) return s;
  if ((s = env_alloc(e, &b->invc, cap)) != OK) return s;
  if ((s = env_alloc(e, &b->part, cap * t * t)) != OK) return s;
  if ((s = env_alloc(e, &b->bad, cap)) != OK) return s;
  if ((s = env_alloc(e, &b->act, cap)) != OK) return s;
  if ((s = env_alloc(e, &b->chk, cap)) != OK) return s;
  if ((s = env_alloc(e, &b->running, 1)) != OK) return s;
  if ((s = env_alloc(e, &b->st, cap)) != OK) return s;
  b->host_st = (NsState*)malloc(sizeof(NsState) * (size_t)cap);
  if (b->host_st == nullptr) {
    put(e.err, e.errlen, "out of host memory");
    return E_OOM;
  }
  return OK;
}

const char* ns_reason(int32_t status) {
  switch (status) {
    case NS_STAGNATED: return "the residual stagnated";
    case NS_NONFINITE: return "the iterates became non-finite";
    case NS_MAX_ITER: return "max_iterations reached";
    case NS_DIVERGED: return "the iteration diverged (||I - Z Y||_F non-finite or above 1e6)";
  }
  return "?";
}

// One chunk of cnt matrices: dA (input, buffer space) -> dX. Fills iterations / residual (host,
// may be null) for matrices [first, first + cnt). *first_fail: set to the first matrix that did
// not converge (when still -1); its message goes to err.
template <class T>
Status ns_chunk(Env& e, NsBufs<T>& b, int64_t first, int64_t cnt, int64_t n, const T* dA, T* dX,
                bool inverse, double tol, int32_t max_iterations, int32_t* iterations,
                double* residual, int64_t* first_fail) {
  char* err = e.err;
  const size_t errlen = e.errlen;
  const int64_t nn = n * n, t = gemm_tiles(n), nblk = t * t;
  const int64_t eb = (nn + kNT - 1) / kNT;  // elementwise blocks per matrix
  Status s;
  // Norms and the non-finite check.
  if (e.where == ON_HOST) {
    s = emulate<NoState, NormSmem>(kNT, cnt, 1, 1, err, errlen,
                                   [&](HostX<NoState>& x, int bx, int, int, NormSmem* sm) {
                                     norm_block<T>(x, n, dA, b.nrm, b.bad, bx, sm);
                                   });
    if (s != OK) return s;
  } else {
    norm_kernel<T><<<(unsigned)cnt, kNT, 0, e.stream>>>(n, dA, b.nrm, b.bad);
    if ((s = launched(e, "norm kernel launch")) != OK) return s;
  }
  double* nrm_h = (double*)malloc(sizeof(double) * (size_t)cnt);
  int32_t* bad_h = (int32_t*)malloc(sizeof(int32_t) * (size_t)cnt);
  double* invc_h = (double*)malloc(sizeof(double) * (size_t)cnt);
  int32_t* act_h = (int32_t*)malloc(sizeof(int32_t) * (size_t)cnt);
  struct Freer {
    void* p[4];
    ~Freer() {
      for (void* q : p) free(q);
    }
  } fr{{nrm_h, bad_h, invc_h, act_h}};
  if (nrm_h == nullptr || bad_h == nullptr || invc_h == nullptr || act_h == nullptr) {
    put(err, errlen, "out of host memory");
    return E_OOM;
  }
  if ((s = env_copy(e, nrm_h, b.nrm, sizeof(double) * cnt, false)) != OK) return s;
  if ((s = env_copy(e, bad_h, b.bad, sizeof(int32_t) * cnt, false)) != OK) return s;
  if ((s = env_sync(e, "norm kernel execution")) != OK) return s;
  int64_t running = 0;
  for (int64_t m = 0; m < cnt; ++m) {
    if (bad_h[m]) {
      put(err, errlen, "sqrtm (newton-schulz): matrix %lld has a non-finite entry",
          (long long)(first + m));
      return E_RANGE;
    }
    NsState& st = b.host_st[m];
    const double c = nrm_h[m];
    st.c = c;
    st.sq = sqrt(c);
    st.isq = c > 0 ? 1.0 / st.sq : 0.0;
    st.best = HUGE_VAL;
    st.best_proxy = HUGE_VAL;
    st.res = HUGE_VAL;  // until a residual is computed: a matrix that stops before never passes tol
    st.it = 0;
    st.pad = 0;
    if (c == 0 && inverse) {
      put(err, errlen, "sqrtm (newton-schulz): matrix %lld is zero (no inverse square root)",
          (long long)(first + m));
      return E_NOT_SPD;
    }
    if (c == 0) {  // X = 0, no iteration, exact
      st.status = NS_CONVERGED, st.emit = 1, act_h[m] = 0, invc_h[m] = 0, st.res = 0;
    } else {
      st.status = NS_RUNNING, st.emit = 0, act_h[m] = 1, invc_h[m] = 1.0 / c;
      ++running;
    }
  }
  if ((s = env_copy(e, b.st, b.host_st, sizeof(NsState) * cnt, true)) != OK) return s;
  if ((s = env_copy(e, b.act, act_h, sizeof(int32_t) * cnt, true)) != OK) return s;
  if ((s = env_copy(e, b.invc, invc_h, sizeof(double) * cnt, true)) != OK) return s;

  auto init = [&]() -> Status {
    if (e.where == ON_HOST)
      return emulate<NoState, EwSmem>(kNT, eb, 1, cnt, err, errlen,
                                      [&](HostX<NoState>& x, int bx, int, int bz, EwSmem*) {
                                        init_block<T>(x, n, dA, b.invc, b.act, b.Y, b.Z, bx, bz);
                                      });
    init_kernel<T><<<dim3((unsigned)eb, (unsigned)cnt), kNT, 0, e.stream>>>(n, dA, b.invc, b.act,
                                                                            b.Y, b.Z);
    return launched(e, "init kernel launch");
  };
  auto emit = [&]() -> Status {
    if (e.where == ON_HOST)
      return emulate<NoState, EwSmem>(kNT, eb, 1, cnt, err, errlen,
                                      [&](HostX<NoState>& x, int bx, int, int bz, EwSmem*) {
                                        emit_block<T>(x, n, b.st, b.Y, b.Z, inverse, dX, bx, bz);
                                      });
    emit_kernel<T><<<dim3((unsigned)eb, (unsigned)cnt), kNT, 0, e.stream>>>(n, b.st, b.Y, b.Z,
                                                                            inverse, dX);
    return launched(e, "emit kernel launch");
  };
  Control ctl{cnt, nblk, 0, inverse ? 1.0 / sqrt((double)n) : 1.0, tol, max_iterations,
              b.part, b.st, b.act, b.chk, b.running};
  auto control = [&](int32_t stage) -> Status {
    ctl.stage = stage;
    const int64_t blocks = (cnt + kCT - 1) / kCT;
    if (e.where == ON_HOST) {
      if (stage == 1) *b.running = 0;
      return emulate<NoState, EwSmem>(kCT, blocks, 1, 1, err, errlen,
                                      [&](HostX<NoState>& x, int bx, int, int, EwSmem*) {
                                        control_block(x, ctl, bx);
                                      });
    }
    if (stage == 1) KX_CU(cudaMemsetAsync(b.running, 0, sizeof(int32_t), e.stream), "cudaMemset");
    control_kernel<<<(unsigned)blocks, kCT, 0, e.stream>>>(ctl);
    return launched(e, "control kernel launch");
  };

  if ((s = init()) != OK) return s;
  if ((s = emit()) != OK) return s;  // A = 0
  for (int32_t it = 0; it < max_iterations && running > 0; ++it) {
    // T = (3 I - Z Y) / 2 (block sums: ||(I - Z Y) / 2||^2), Y <- Y T, Z <- T Z.
    GemmArgs<T, T, T> g{n, b.Z, b.Y, b.Tm, -0.5, 1.5, 1.0, nullptr, nullptr, nullptr, b.part, b.act};
    if ((s = run_gemm<T, T, T, T>(e, g, cnt)) != OK) return s;
    g = GemmArgs<T, T, T>{n, b.Y, b.Tm, b.Y2, 1.0, 0.0, 0.0, nullptr, nullptr, nullptr, nullptr, b.act};
    if ((s = run_gemm<T, T, T, T>(e, g, cnt)) != OK) return s;
    g = GemmArgs<T, T, T>{n, b.Tm, b.Z, b.Z2, 1.0, 0.0, 0.0, nullptr, nullptr, nullptr, nullptr, b.act};
    if ((s = run_gemm<T, T, T, T>(e, g, cnt)) != OK) return s;
    T* tmp = b.Y;
    b.Y = b.Y2, b.Y2 = tmp;
    tmp = b.Z;
    b.Z = b.Z2, b.Z2 = tmp;
    if ((s = control(0)) != OK) return s;
    // The residual of the matrices whose proxy is below 1e-2, float64 accumulation.
    if (!inverse) {
      // ||Y Y - A / c||_F
      GemmArgs<T, T, T> r{n, b.Y, b.Y, nullptr, 1.0, 0.0, 0.0, nullptr, dA, b.invc, b.part, b.chk};
      if ((s = run_gemm<T, T, T, double>(e, r, cnt)) != OK) return s;
    } else {
      // W = (A / c) Z, then ||Z W - I||_F / sqrt(n).
      GemmArgs<T, T, double> w{n, dA, b.Z, b.W, 1.0, 0.0, 0.0, b.invc, nullptr, nullptr, nullptr, b.chk};
      if ((s = run_gemm<T, T, double, double>(e, w, cnt)) != OK) return s;
      GemmArgs<T, double, T> r{n, b.Z, b.W, nullptr, 1.0, -1.0, 0.0, nullptr, nullptr, nullptr, b.part,
                               b.chk};
      if ((s = run_gemm<T, double, T, double>(e, r, cnt)) != OK) return s;
    }
    if ((s = control(1)) != OK) return s;
    if ((s = emit()) != OK) return s;
    int32_t r32 = 0;
    if ((s = env_copy(e, &r32, b.running, sizeof(int32_t), false)) != OK) return s;
    if ((s = env_sync(e, "newton-schulz kernel execution")) != OK) return s;
    running = r32;
  }
  if ((s = env_copy(e, b.host_st, b.st, sizeof(NsState) * cnt, false)) != OK) return s;
  if ((s = env_sync(e, "newton-schulz kernel execution")) != OK) return s;
  for (int64_t m = 0; m < cnt; ++m) {
    const NsState& st = b.host_st[m];
    if (iterations != nullptr) iterations[first + m] = st.it;
    if (residual != nullptr) residual[first + m] = st.res;
    if (st.status != NS_CONVERGED && *first_fail < 0) {
      *first_fail = first + m;
      put(err, errlen,
          "sqrtm (newton-schulz): matrix %lld did not converge: %s (residual %.3g after %d "
          "iterations, tol %.3g)",
          (long long)(first + m),
          st.status == NS_RUNNING ? "max_iterations reached" : ns_reason(st.status),
          st.res, (int)st.it, tol);
    }
  }
  return OK;
}

Status ns_check(int64_t count, int64_t n, const void* a, const void* x, double tol,
                int32_t max_iterations, size_t es, char* err, size_t errlen) {
  int64_t nn = 0, total = 0;
  if (count < 0 || n < 0 || !mul_ok(n, n, &nn) || !mul_ok(count, nn, &total) ||
      !mul_ok(total, 8, &total)) {
    put(err, errlen, "sqrtm (newton-schulz): bad shape [%lld, %lld, %lld]", (long long)count,
        (long long)n, (long long)n);
    return E_SHAPE;
  }
  (void)es;
  if (count > 0 && n > 0 && (a == nullptr || x == nullptr)) {
    put(err, errlen, "sqrtm (newton-schulz): null pointer");
    return E_INTERNAL;
  }
  if (!(tol > 0)) {
    put(err, errlen, "sqrtm (newton-schulz): tol must be > 0 (got %g)", tol);
    return E_RANGE;
  }
  if (max_iterations < 1) {
    put(err, errlen, "sqrtm (newton-schulz): max_iterations must be >= 1 (got %d)",
        (int)max_iterations);
    return E_RANGE;
  }
  return OK;
}

// host: a and x are host pointers (copied through chunk buffers); dev: they are buffers already.
template <class T>
Status ns_run(Where where, bool dev_ptrs, void* stream, int64_t count, int64_t n, const T* a, T* x,
              bool inverse, double tol, int32_t max_iterations, int32_t* iterations,
              double* residual, char* err, size_t errlen) {
  Status s = ns_check(count, n, a, x, tol, max_iterations, sizeof(T), err, errlen);
  if (s != OK) return s;
  if (count == 0) return OK;
  if (n == 0) {
    for (int64_t m = 0; m < count; ++m) {
      if (iterations != nullptr) iterations[m] = 0;
      if (residual != nullptr) residual[m] = 0;
    }
    return OK;
  }
  Env e(where, err, errlen);
  int64_t budget = 0;
  s = dev_ptrs && where == ON_DEVICE ? env_open_dev(e, stream, &budget) : env_open(e, &budget);
  if (s != OK) return s;
  const int64_t nn = n * n;
  const int64_t per = ns_bytes_per_matrix(n, sizeof(T), inverse, !dev_ptrs);
  int64_t cap = budget / per;
  if (cap < 1) cap = 1;
  if (cap > kMaxGridY) cap = kMaxGridY;
  if (cap > count) cap = count;
  T* dA = nullptr;
  T* dX = nullptr;
  if (!dev_ptrs) {
    if ((s = env_alloc(e, &dA, cap * nn)) != OK) return s;
    if ((s = env_alloc(e, &dX, cap * nn)) != OK) return s;
  }
  NsBufs<T> b;
  if ((s = ns_alloc<T>(e, cap, n, inverse, &b)) != OK) return s;
  int64_t first_fail = -1;
  char msg[512] = {0};
  for (int64_t done = 0; done < count;) {
    const int64_t cnt = count - done < cap ? count - done : cap;
    const T* ca = dev_ptrs ? a + done * nn : dA;
    T* cx = dev_ptrs ? x + done * nn : dX;
    if (!dev_ptrs && (s = env_copy(e, dA, a + done * nn, sizeof(T) * cnt * nn, true)) != OK)
      return s;
    const int64_t before = first_fail;
    e.err = first_fail < 0 ? err : msg;  // keep the first failure's message
    e.errlen = first_fail < 0 ? errlen : sizeof msg;
    s = ns_chunk<T>(e, b, done, cnt, n, ca, cx, inverse, tol, max_iterations, iterations, residual,
                    &first_fail);
    e.err = err, e.errlen = errlen;
    if (s != OK) {
      if (before >= 0) put(err, errlen, "%s", msg);
      return s;
    }
    if (!dev_ptrs && (s = env_copy(e, x + done * nn, dX, sizeof(T) * cnt * nn, false)) != OK)
      return s;
    if ((s = env_sync(e, "cudaMemcpy (device to host)")) != OK) return s;
    done += cnt;
  }
  return first_fail >= 0 ? E_NO_CONVERGENCE : OK;
}

// ---- batched drivers ---------------------------------------------------------------------------

Status batched_check(const char* what, int64_t count, int64_t n, const void* a, const void* out,
                     char* err, size_t errlen) {
  if (count < 0 || n < 0) {
    put(err, errlen, "%s: bad shape [%lld, %lld, %lld]", what, (long long)count, (long long)n,
        (long long)n);
    return E_SHAPE;
  }
  if (n > kBatchedMaxN) {
    put(err, errlen, "%s: n = %lld is above the batched kernel's limit %lld (use the CPU kernel)",
        what, (long long)n, (long long)kBatchedMaxN);
    return E_SHAPE;
  }
  int64_t total = 0;
  if (!mul_ok(count, n * n * 8, &total)) {
    put(err, errlen, "%s: %lld matrices overflow 64-bit sizes", what, (long long)count);
    return E_SHAPE;
  }
  if (count > 0 && n > 0 && (a == nullptr || out == nullptr)) {
    put(err, errlen, "%s: null pointer", what);
    return E_INTERNAL;
  }
  return OK;
}

int64_t batched_cap(int64_t budget, int64_t per, int64_t count) {
  int64_t cap = budget / (per > 0 ? per : 1);
  if (cap < 1) cap = 1;
  if (cap > (int64_t(1) << 30)) cap = int64_t(1) << 30;  // grid.x
  return cap < count ? cap : count;
}

template <class T>
Status chol_launch(Env& e, int64_t cnt, int n, const T* dA, T* dL, int64_t* dF) {
  if (cnt <= 0) return OK;
  if (e.where == ON_HOST)
    return emulate<NoState, CholSmem<T>>(kChT, cnt, 1, 1, e.err, e.errlen,
                                         [&](HostX<NoState>& x, int bx, int, int, CholSmem<T>* sm) {
                                           chol_block<T>(x, n, dA, dL, dF, bx, sm);
                                         });
  chol_kernel<T><<<(unsigned)cnt, kChT, 0, e.stream>>>(n, dA, dL, dF);
  return launched(e, "cholesky kernel launch");
}

template <class T>
Status chol_run(Where where, int64_t count, int64_t n, const T* a, T* L, int64_t* failed_at,
                char* err, size_t errlen) {
  Status s = batched_check("cholesky (batched)", count, n, a, L, err, errlen);
  if (s != OK) return s;
  if (count == 0) return OK;
  if (n == 0) {
    if (failed_at != nullptr)
      for (int64_t m = 0; m < count; ++m) failed_at[m] = -1;
    return OK;
  }
  Env e(where, err, errlen);
  int64_t budget = 0;
  if ((s = env_open(e, &budget)) != OK) return s;
  const int64_t nn = n * n;
  const int64_t cap = batched_cap(budget, 2 * nn * (int64_t)sizeof(T) + 8, count);
  T *dA, *dL;
  int64_t* dF;
  if ((s = env_alloc(e, &dA, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &dL, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &dF, cap)) != OK) return s;
  int64_t* fh = failed_at;
  int64_t* scratch = nullptr;
  if (fh == nullptr) {
    if ((scratch = (int64_t*)malloc(sizeof(int64_t) * (size_t)cap)) == nullptr) {
      put(err, errlen, "out of host memory");
      return E_OOM;
    }
  }
  for (int64_t done = 0; done < count;) {
    const int64_t cnt = count - done < cap ? count - done : cap;
    if ((s = env_copy(e, dA, a + done * nn, sizeof(T) * cnt * nn, true)) == OK &&
        (s = chol_launch<T>(e, cnt, (int)n, dA, dL, dF)) == OK &&
        (s = env_copy(e, L + done * nn, dL, sizeof(T) * cnt * nn, false)) == OK)
      s = env_copy(e, fh != nullptr ? fh + done : scratch, dF, sizeof(int64_t) * cnt, false);
    if (s == OK) s = env_sync(e, "cholesky kernel execution");
    if (s != OK) break;
    done += cnt;
  }
  free(scratch);
  return s;
}

template <class T>
Status jacobi_launch(Env& e, int64_t cnt, int n, const T* dA, T* dW, T* dV, int32_t* dI,
                     int32_t* dS) {
  if (cnt <= 0) return OK;
  if (e.where == ON_HOST)
    return emulate<NoState, JacobiSmem<T>>(
        kJT, cnt, 1, 1, e.err, e.errlen,
        [&](HostX<NoState>& x, int bx, int, int, JacobiSmem<T>* sm) {
          jacobi_block<T>(x, n, dA, dW, dV, dI, dS, bx, sm);
        });
  jacobi_kernel<T><<<(unsigned)cnt, kJT, 0, e.stream>>>(n, dA, dW, dV, dI, dS);
  return launched(e, "jacobi kernel launch");
}

template <class T>
Status eigh_run(Where where, int64_t count, int64_t n, const T* a, T* values, T* vectors,
                char* err, size_t errlen) {
  Status s = batched_check("eigh (batched)", count, n, a, values, err, errlen);
  if (s != OK) return s;
  if (count == 0 || n == 0) return OK;
  Env e(where, err, errlen);
  int64_t budget = 0;
  if ((s = env_open(e, &budget)) != OK) return s;
  const int64_t nn = n * n;
  const int64_t per = (nn * (vectors != nullptr ? 2 : 1) + n) * (int64_t)sizeof(T) + 8;
  const int64_t cap = batched_cap(budget, per, count);
  T *dA, *dW, *dV = nullptr;
  int32_t* dI;
  if ((s = env_alloc(e, &dA, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &dW, cap * n)) != OK) return s;
  if (vectors != nullptr && (s = env_alloc(e, &dV, cap * nn)) != OK) return s;
  if ((s = env_alloc(e, &dI, cap)) != OK) return s;
  int32_t* info = (int32_t*)malloc(sizeof(int32_t) * (size_t)cap);
  if (info == nullptr) {
    put(err, errlen, "out of host memory");
    return E_OOM;
  }
  for (int64_t done = 0; done < count && s == OK;) {
    const int64_t cnt = count - done < cap ? count - done : cap;
    if ((s = env_copy(e, dA, a + done * nn, sizeof(T) * cnt * nn, true)) == OK &&
        (s = jacobi_launch<T>(e, cnt, (int)n, dA, dW, dV, dI, nullptr)) == OK &&
        (s = env_copy(e, values + done * n, dW, sizeof(T) * cnt * n, false)) == OK &&
        (vectors == nullptr ||
         (s = env_copy(e, vectors + done * nn, dV, sizeof(T) * cnt * nn, false)) == OK) &&
        (s = env_copy(e, info, dI, sizeof(int32_t) * cnt, false)) == OK)
      s = env_sync(e, "jacobi kernel execution");
    if (s != OK) break;
    for (int64_t m = 0; m < cnt; ++m) {
      if (info[m] == 1) {
        put(err, errlen, "eigh (batched): matrix %lld has a non-finite entry",
            (long long)(done + m));
        s = E_RANGE;
        break;
      }
      if (info[m] == 2) {
        put(err, errlen, "eigh (batched): Jacobi did not converge in %d sweeps for matrix %lld",
            kMaxSweeps, (long long)(done + m));
        s = E_INTERNAL;
        break;
      }
    }
    done += cnt;
  }
  free(info);
  return s;
}

}  // namespace

// ---- the public API ----------------------------------------------------------------------------

Status sqrtm_newton_schulz_f64(int64_t count, int64_t n, const double* a, double* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen) {
  return ns_run<double>(ON_DEVICE, false, nullptr, count, n, a, x, inverse, tol, max_iterations,
                        iterations, residual, err, errlen);
}

Status sqrtm_newton_schulz_f32(int64_t count, int64_t n, const float* a, float* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen) {
  return ns_run<float>(ON_DEVICE, false, nullptr, count, n, a, x, inverse, tol, max_iterations,
                       iterations, residual, err, errlen);
}

Status cholesky_batched_f64(int64_t count, int64_t n, const double* a, double* L,
                            int64_t* failed_at, char* err, size_t errlen) {
  return chol_run<double>(ON_DEVICE, count, n, a, L, failed_at, err, errlen);
}

Status cholesky_batched_f32(int64_t count, int64_t n, const float* a, float* L, int64_t* failed_at,
                            char* err, size_t errlen) {
  return chol_run<float>(ON_DEVICE, count, n, a, L, failed_at, err, errlen);
}

Status eigh_batched_f64(int64_t count, int64_t n, const double* a, double* values, double* vectors,
                        char* err, size_t errlen) {
  return eigh_run<double>(ON_DEVICE, count, n, a, values, vectors, err, errlen);
}

Status eigh_batched_f32(int64_t count, int64_t n, const float* a, float* values, float* vectors,
                        char* err, size_t errlen) {
  return eigh_run<float>(ON_DEVICE, count, n, a, values, vectors, err, errlen);
}

int64_t set_linalg_chunk_bytes(int64_t bytes) { return g_chunk_bytes.exchange(bytes); }

void jacobi_sweep_pair(int64_t m, int64_t step, int64_t k, int64_t* p, int64_t* q) {
  int pp = 0, qq = 0;
  jacobi_pair((int)m, (int)step, (int)k, &pp, &qq);
  *p = pp, *q = qq;
}

namespace dev {

Status sqrtm_newton_schulz_f64(int64_t count, int64_t n, const double* a, double* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, void* stream, char* err, size_t errlen) {
  return ns_run<double>(ON_DEVICE, true, stream, count, n, a, x, inverse, tol, max_iterations,
                        iterations, residual, err, errlen);
}

Status sqrtm_newton_schulz_f32(int64_t count, int64_t n, const float* a, float* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, void* stream, char* err, size_t errlen) {
  return ns_run<float>(ON_DEVICE, true, stream, count, n, a, x, inverse, tol, max_iterations,
                       iterations, residual, err, errlen);
}

template <class T>
Status chol_dev(int64_t count, int64_t n, const T* a, T* L, int64_t* failed_at, void* stream,
                char* err, size_t errlen) {
  Status s = batched_check("cholesky (batched)", count, n, a, L, err, errlen);
  if (s != OK) return s;
  if (count == 0 || n == 0) return OK;
  if (failed_at == nullptr) {
    put(err, errlen, "cholesky (batched): null failed_at");
    return E_INTERNAL;
  }
  Env e(ON_DEVICE, err, errlen);
  e.stream = (cudaStream_t)stream;
  e.sync_on_exit = false;
  return chol_launch<T>(e, count, (int)n, a, L, failed_at);
}

template <class T>
Status eigh_dev(int64_t count, int64_t n, const T* a, T* values, T* vectors, int32_t* info,
                void* stream, char* err, size_t errlen) {
  Status s = batched_check("eigh (batched)", count, n, a, values, err, errlen);
  if (s != OK) return s;
  if (count == 0 || n == 0) return OK;
  if (info == nullptr) {
    put(err, errlen, "eigh (batched): null info");
    return E_INTERNAL;
  }
  Env e(ON_DEVICE, err, errlen);
  e.stream = (cudaStream_t)stream;
  e.sync_on_exit = false;
  return jacobi_launch<T>(e, count, (int)n, a, values, vectors, info, nullptr);
}

Status cholesky_batched_f64(int64_t count, int64_t n, const double* a, double* L,
                            int64_t* failed_at, void* stream, char* err, size_t errlen) {
  return chol_dev<double>(count, n, a, L, failed_at, stream, err, errlen);
}
Status cholesky_batched_f32(int64_t count, int64_t n, const float* a, float* L, int64_t* failed_at,
                            void* stream, char* err, size_t errlen) {
  return chol_dev<float>(count, n, a, L, failed_at, stream, err, errlen);
}
Status eigh_batched_f64(int64_t count, int64_t n, const double* a, double* values, double* vectors,
                        int32_t* info, void* stream, char* err, size_t errlen) {
  return eigh_dev<double>(count, n, a, values, vectors, info, stream, err, errlen);
}
Status eigh_batched_f32(int64_t count, int64_t n, const float* a, float* values, float* vectors,
                        int32_t* info, void* stream, char* err, size_t errlen) {
  return eigh_dev<float>(count, n, a, values, vectors, info, stream, err, errlen);
}

}  // namespace dev

namespace emu {

Status sqrtm_newton_schulz_f64(int64_t count, int64_t n, const double* a, double* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen) {
  return ns_run<double>(ON_HOST, false, nullptr, count, n, a, x, inverse, tol, max_iterations,
                        iterations, residual, err, errlen);
}
Status sqrtm_newton_schulz_f32(int64_t count, int64_t n, const float* a, float* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen) {
  return ns_run<float>(ON_HOST, false, nullptr, count, n, a, x, inverse, tol, max_iterations,
                       iterations, residual, err, errlen);
}
Status cholesky_batched_f64(int64_t count, int64_t n, const double* a, double* L,
                            int64_t* failed_at, char* err, size_t errlen) {
  return chol_run<double>(ON_HOST, count, n, a, L, failed_at, err, errlen);
}
Status cholesky_batched_f32(int64_t count, int64_t n, const float* a, float* L, int64_t* failed_at,
                            char* err, size_t errlen) {
  return chol_run<float>(ON_HOST, count, n, a, L, failed_at, err, errlen);
}
Status eigh_batched_f64(int64_t count, int64_t n, const double* a, double* values, double* vectors,
                        char* err, size_t errlen) {
  return eigh_run<double>(ON_HOST, count, n, a, values, vectors, err, errlen);
}
Status eigh_batched_f32(int64_t count, int64_t n, const float* a, float* values, float* vectors,
                        char* err, size_t errlen) {
  return eigh_run<float>(ON_HOST, count, n, a, values, vectors, err, errlen);
}

}  // namespace emu

}  // namespace cuda
}  // namespace kx
