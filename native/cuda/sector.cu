// The sector-probability Monte-Carlo kernel on the GPU (kx_cuda.h sector_mc): the count of
// kx::sector_mc (native/core/sector.h) exactly, from the same Philox words and the same integer
// largest-gap test (the largest gap depends only on the multiset of angles, so each method below
// gives the CPU kernel's integer).
//   n <= kSectorSortMaxN (32): one thread per trial; its n words in a local array, insertion sort
//     (sector_sort_small) and the sorted gaps (sector_max_gap_sorted), shared with the CPU code.
//   n > 32: one warp per trial; n buckets of width 2^32 / n hold the smallest and largest angle
//     that fell in them (shared-memory atomics, or global-memory scratch per warp when 2n words
//     per warp do not fit in 48 KB); lane L scans buckets [L S, (L + 1) S), S = ceil(n / 32),
//     for the gaps between its non-empty buckets, and warp shuffles join the segments (a max-scan
//     gives each lane the largest angle below its segment) and add the wrap-around gap.
// Counts are summed per warp and added with one 64-bit atomicAdd: integers, so the result does not
// depend on the launch shape or the order.
#include <cuda_runtime.h>

#include "../core/sector.h"
#include "cuda_util.h"
#include "kx_cuda.h"

namespace kx {
namespace cuda {

namespace {

using util::put;

constexpr int kThreads = 256;
constexpr int64_t kSharedBytes = 48 * 1024;
constexpr int64_t kScratchBytes = int64_t(1) << 30;  // global scratch bound (large n)
constexpr unsigned kFull = 0xFFFFFFFFu;

__device__ inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
__device__ inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

__device__ inline unsigned long long warp_sum(unsigned long long v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(kFull, v, o);
  return v;
}

// One thread per trial, n <= kSectorSortMaxN.
__global__ void sector_thread_kernel(Rng rng, int64_t n, int64_t first_trial, int64_t trials, uint64_t threshold,
                                     unsigned long long* total) {
  uint32_t a[kSectorSortMaxN];
  unsigned long long count = 0;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < trials; i += (int64_t)gridDim.x * blockDim.x) {
    const uint64_t e0 = (uint64_t)(first_trial + i) * (uint64_t)n;
    uint64_t blk = e0 >> 2;
    uint32_t w[4];
    philox_block(rng, blk, w);
    for (int64_t j = 0; j < n; ++j) {
      const uint64_t e = e0 + (uint64_t)j;
      if ((e >> 2) != blk) {
        blk = e >> 2;
        philox_block(rng, blk, w);
      }
      a[j] = w[e & 3];
    }
    sector_sort_small(a, n);
    count += sector_max_gap_sorted(a, n) >= threshold ? 1 : 0;
  }
  count = warp_sum(count);
  if ((threadIdx.x & 31) == 0 && count != 0) atomicAdd(total, count);
}

// One warp per trial, n > kSectorSortMaxN. scratch: 2n words per warp in global memory, or null
// for dynamic shared memory (2n words per warp of the block).
__global__ void sector_warp_kernel(Rng rng, int64_t n, int64_t first_trial, int64_t trials, uint64_t threshold,
                                   uint32_t* scratch, unsigned long long* total) {
  extern __shared__ uint32_t smem[];
  const int lane = threadIdx.x & 31;
  const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int64_t nwarps = ((int64_t)gridDim.x * blockDim.x) >> 5;
  uint32_t* mn = scratch != nullptr ? scratch + warp * 2 * n : smem + (threadIdx.x >> 5) * 2 * n;
  uint32_t* mx = mn + n;
  for (int64_t k = lane; k < n; k += 32) mn[k] = 0xFFFFFFFFu, mx[k] = 0;
  __syncwarp();
  const int64_t S = (n + 31) / 32, lo = imin(n, lane * S), hi = imin(n, lo + S);
  unsigned long long count = 0;
  for (int64_t i = warp; i < trials; i += nwarps) {  // warp-uniform loop
    const uint64_t e0 = (uint64_t)(first_trial + i) * (uint64_t)n, e1 = e0 + (uint64_t)n;
    for (uint64_t b = (e0 >> 2) + lane; b <= (e1 - 1) >> 2; b += 32) {
      uint32_t w[4];
      philox_block(rng, b, w);
      for (int q = 0; q < 4; ++q) {
        const uint64_t e = 4 * b + q;
        if (e < e0 || e >= e1) continue;
        const int64_t k = sector_bucket(w[q], n);
        atomicMin(mn + k, w[q]);
        atomicMax(mx + k, w[q]);
      }
    }
    __syncwarp();
    // This lane's segment: its first smallest and last largest angle (-1: empty) and inner gaps;
    // the buckets are reset for the next trial on the way.
    int64_t fmin = -1, lmax = -1, g = 0;
    for (int64_t k = lo; k < hi; ++k) {
      const uint32_t a = mn[k], b = mx[k];
      mn[k] = 0xFFFFFFFFu, mx[k] = 0;
      if (a > b) continue;  // empty
      if (lmax >= 0) g = imax(g, (int64_t)a - lmax);
      else fmin = a;
      lmax = b;
    }
    // The largest angle below the segment: an exclusive max-scan over the lanes (angles grow
    // with the bucket index, so that is the previous non-empty segment's last angle).
    int64_t scan = lmax;
    for (int o = 1; o < 32; o <<= 1) {
      const int64_t v = __shfl_up_sync(kFull, scan, o);
      if (lane >= o) scan = imax(scan, v);
    }
    int64_t prev = __shfl_up_sync(kFull, scan, 1);
    if (lane == 0) prev = -1;
    if (fmin >= 0 && prev >= 0) g = imax(g, fmin - prev);
    int64_t first = fmin >= 0 ? fmin : INT64_MAX, last = lmax;
    for (int o = 16; o > 0; o >>= 1) {
      g = imax(g, __shfl_xor_sync(kFull, g, o));
      first = imin(first, __shfl_xor_sync(kFull, first, o));
      last = imax(last, __shfl_xor_sync(kFull, last, o));
    }
    g = imax(g, ((int64_t)1 << 32) - last + first);  // the wrap-around gap
    if (lane == 0) count += (uint64_t)g >= threshold ? 1 : 0;
    __syncwarp();
  }
  if (lane == 0 && count != 0) atomicAdd(total, count);
}

struct SectorEnv {
  cudaStream_t stream = nullptr;
  void* bufs[2] = {nullptr, nullptr};
  ~SectorEnv() {
    if (stream != nullptr) cudaStreamSynchronize(stream);
    for (void* b : bufs) cudaFree(b);
    if (stream != nullptr) cudaStreamDestroy(stream);
    cudaGetLastError();
  }
};

}  // namespace

Status sector_mc(const Rng& rng, int64_t n, int64_t trial_offset, int64_t trials, double threshold, int64_t* hits,
                 char* err, size_t errlen) {
  if (err != nullptr && errlen > 0) err[0] = 0;
  uint64_t T = 0;
  const char* why = nullptr;
  const Status st = sector_mc_check(n, trial_offset, trials, threshold, &T, &why);
  if (st != OK) return put(err, errlen, "%s", why), st;
  if (hits == nullptr) return put(err, errlen, "hits is null"), E_INTERNAL;
  if (trials == 0) {
    *hits = 0;
    return OK;
  }
  char reason[256] = {0};
  const int dev = default_device(reason, sizeof reason);
  if (dev < 0) return put(err, errlen, "no CUDA device: %s", reason), E_BACKEND;
  KX_CU(cudaSetDevice(dev), "cudaSetDevice");
  int sms = 0;
  KX_CU(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
  SectorEnv e;
  KX_CU(cudaStreamCreateWithFlags(&e.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  KX_CU(cudaMalloc(&e.bufs[0], sizeof(unsigned long long)), "cudaMalloc");
  unsigned long long* total = static_cast<unsigned long long*>(e.bufs[0]);
  KX_CU(cudaMemsetAsync(total, 0, sizeof(unsigned long long), e.stream), "cudaMemsetAsync");
  if (n <= kSectorSortMaxN) {
    const int64_t blocks = (trials + kThreads - 1) / kThreads;
    const int grid = (int)(blocks < (int64_t)sms * 16 ? blocks : (int64_t)sms * 16);
    sector_thread_kernel<<<grid, kThreads, 0, e.stream>>>(rng, n, trial_offset, trials, T, total);
  } else {
    const int64_t warp_bytes = 8 * n;  // 2n words
    const int64_t wpb = kSharedBytes / warp_bytes < 8 ? kSharedBytes / warp_bytes : 8;
    if (wpb >= 1) {
      const int64_t blocks = (trials + wpb - 1) / wpb;
      const int grid = (int)(blocks < (int64_t)sms * 32 ? blocks : (int64_t)sms * 32);
      sector_warp_kernel<<<grid, (int)(32 * wpb), (size_t)(wpb * warp_bytes), e.stream>>>(rng, n, trial_offset, trials,
                                                                                         T, nullptr, total);
    } else {
      // Global scratch: as many warps as fit in kScratchBytes (at least one block's), at most
      // 32 per SM and one per trial.
      int64_t warps = kScratchBytes / warp_bytes;
      warps = warps < (int64_t)sms * 32 ? warps : (int64_t)sms * 32;
      warps = warps < trials ? warps : trials;
      const int64_t wpb2 = kThreads / 32;
      const int64_t grid = (warps + wpb2 - 1) / wpb2;
      KX_CU(cudaMalloc(&e.bufs[1], (size_t)(grid * wpb2 * warp_bytes)), "cudaMalloc (scratch)");
      sector_warp_kernel<<<(int)grid, kThreads, 0, e.stream>>>(rng, n, trial_offset, trials, T,
                                                               static_cast<uint32_t*>(e.bufs[1]), total);
    }
  }
  KX_CU(cudaGetLastError(), "sector kernel launch");
  unsigned long long h = 0;
  KX_CU(cudaMemcpyAsync(&h, total, sizeof h, cudaMemcpyDeviceToHost, e.stream), "copy the count");
  KX_CU(cudaStreamSynchronize(e.stream), "sector kernel");
  *hits = (int64_t)h;
  return OK;
}

}  // namespace cuda
}  // namespace kx
