// CUDA sampling kernels: Philox words, uniform, normal, Bernoulli and dropout, bit-identical to the
// CPU kernels in native/core/random.cc.
//
// Bit identity comes from using the very same functions (native/core/philox.h: philox_block,
// word_to_uniform_f32, words_to_uniform_f64, box_muller, all __host__ __device__ under nvcc) and
// from compiling with --fmad=false (no a*b+c contraction to FMA) and IEEE division and square root
// (nvcc's defaults, also spelled out in CMakeLists.txt). The element layout is philox.h's:
// 32-bit element i is word i%4 of block i/4; float64 uniform element i takes words 2(i%2), 2(i%2)+1
// of block i/2; normal element i takes the Box-Muller pair (i%4)/2 of block i/4, cos for even i.
//
// One thread per Philox block (4 elements, or 2 float64 uniforms), grid-stride loop, 64-bit
// indices. A block whose elements all lie inside [offset, offset + n) is written with one 16-byte
// (or 4-byte for uint8) vector store when the buffers are aligned for it; the first and last block
// and unaligned buffers take a per-element path.
#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdio.h>

#include <atomic>

#include "cuda_util.h"
#include "kx_cuda.h"

namespace kx {
namespace cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kDefaultChunk = int64_t(1) << 28;  // 256 Mi elements per host-memory chunk
std::atomic<int64_t> g_chunk{0};                      // 0: default

using util::cuda_fail;
using util::put;

// ---- per-block operations ----------------------------------------------------------------------
// Each op turns the four words of one Philox block into kPer consecutive output elements.
// full(w, e): elements e .. e + kPer - 1 of out are all in range and the buffers are aligned.
// part(w, e, n): write only the elements with 0 <= index < n (e may be negative).
// __host__ __device__ so that the check program can run the same code on the CPU (emu::).

#define KX_OP __host__ __device__ __forceinline__

struct WordsOp {
  static constexpr int kPer = 4;
  static constexpr size_t kAlign = 16;
  uint32_t* out;
  KX_OP void full(const uint32_t w[4], int64_t e) const {
    *(uint4*)(out + e) = make_uint4(w[0], w[1], w[2], w[3]);
  }
  KX_OP void part(const uint32_t w[4], int64_t e, int64_t n) const {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (e + j >= 0 && e + j < n) out[e + j] = w[j];
  }
};

struct UniformF32Op {
  static constexpr int kPer = 4;
  static constexpr size_t kAlign = 16;
  float* out;
  KX_OP void full(const uint32_t w[4], int64_t e) const {
    *(float4*)(out + e) = make_float4(word_to_uniform_f32(w[0]), word_to_uniform_f32(w[1]),
                                      word_to_uniform_f32(w[2]), word_to_uniform_f32(w[3]));
  }
  KX_OP void part(const uint32_t w[4], int64_t e, int64_t n) const {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (e + j >= 0 && e + j < n) out[e + j] = word_to_uniform_f32(w[j]);
  }
};

struct UniformF64Op {
  static constexpr int kPer = 2;
  static constexpr size_t kAlign = 16;
  double* out;
  KX_OP void full(const uint32_t w[4], int64_t e) const {
    *(double2*)(out + e) =
        make_double2(words_to_uniform_f64(w[0], w[1]), words_to_uniform_f64(w[2], w[3]));
  }
  KX_OP void part(const uint32_t w[4], int64_t e, int64_t n) const {
    if (e >= 0 && e < n) out[e] = words_to_uniform_f64(w[0], w[1]);
    if (e + 1 >= 0 && e + 1 < n) out[e + 1] = words_to_uniform_f64(w[2], w[3]);
  }
};

template <class T>
struct NormalOp {
  static constexpr int kPer = 4;
  static constexpr size_t kAlign = 16;
  T* out;
  double mean, std;
  KX_OP void values(const uint32_t w[4], T v[4]) const {
    double z0, z1, z2, z3;
    box_muller(w[0], w[1], &z0, &z1);
    box_muller(w[2], w[3], &z2, &z3);
    v[0] = (T)(mean + std * z0);
    v[1] = (T)(mean + std * z1);
    v[2] = (T)(mean + std * z2);
    v[3] = (T)(mean + std * z3);
  }
  KX_OP void full(const uint32_t w[4], int64_t e) const;
  KX_OP void part(const uint32_t w[4], int64_t e, int64_t n) const {
    // The CPU kernel computes the Box-Muller pair only where one of its elements is wanted;
    // the values are the same either way.
    T v[4];
    values(w, v);
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (e + j >= 0 && e + j < n) out[e + j] = v[j];
  }
};
template <>
KX_OP void NormalOp<float>::full(const uint32_t w[4], int64_t e) const {
  float v[4];
  values(w, v);
  *(float4*)(out + e) = make_float4(v[0], v[1], v[2], v[3]);
}
template <>
KX_OP void NormalOp<double>::full(const uint32_t w[4], int64_t e) const {
  double v[4];
  values(w, v);
  *(double2*)(out + e) = make_double2(v[0], v[1]);
  *(double2*)(out + e + 2) = make_double2(v[2], v[3]);
}

KX_OP uint8_t bern(uint32_t w, uint32_t threshold) { return (uint8_t)((w >> 8) < threshold); }

struct BernoulliOp {
  static constexpr int kPer = 4;
  static constexpr size_t kAlign = 4;
  uint8_t* out;
  uint32_t threshold;
  KX_OP void full(const uint32_t w[4], int64_t e) const {
    *(uchar4*)(out + e) = make_uchar4(bern(w[0], threshold), bern(w[1], threshold),
                                      bern(w[2], threshold), bern(w[3], threshold));
  }
  KX_OP void part(const uint32_t w[4], int64_t e, int64_t n) const {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (e + j >= 0 && e + j < n) out[e + j] = bern(w[j], threshold);
  }
};

// Dropout: keep when (w >> 8) >= threshold; out = x * scale (a T multiply), else +0.
template <class T>
struct DropoutOp {
  static constexpr int kPer = 4;
  static constexpr size_t kAlign = 16;
  const T* x;
  T* out;
  uint8_t* mask;  // may be null
  uint32_t threshold;
  T scale;
  KX_OP T apply(uint32_t w, T xv) const { return (w >> 8) >= threshold ? xv * scale : T(0); }
  KX_OP void full(const uint32_t w[4], int64_t e) const;
  KX_OP void part(const uint32_t w[4], int64_t e, int64_t n) const {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t i = e + j;
      if (i < 0 || i >= n) continue;
      out[i] = apply(w[j], x[i]);
      if (mask != nullptr) mask[i] = (uint8_t)((w[j] >> 8) >= threshold);
    }
  }
  KX_OP void full_mask(const uint32_t w[4], int64_t e) const {
    if (mask != nullptr)
      *(uchar4*)(mask + e) =
          make_uchar4((uint8_t)((w[0] >> 8) >= threshold), (uint8_t)((w[1] >> 8) >= threshold),
                      (uint8_t)((w[2] >> 8) >= threshold), (uint8_t)((w[3] >> 8) >= threshold));
  }
};
template <>
KX_OP void DropoutOp<float>::full(const uint32_t w[4], int64_t e) const {
  const float4 xv = *(const float4*)(x + e);
  *(float4*)(out + e) = make_float4(apply(w[0], xv.x), apply(w[1], xv.y), apply(w[2], xv.z),
                                    apply(w[3], xv.w));
  full_mask(w, e);
}
template <>
KX_OP void DropoutOp<double>::full(const uint32_t w[4], int64_t e) const {
  const double2 a = *(const double2*)(x + e);
  const double2 b = *(const double2*)(x + e + 2);
  *(double2*)(out + e) = make_double2(apply(w[0], a.x), apply(w[1], a.y));
  *(double2*)(out + e + 2) = make_double2(apply(w[2], b.x), apply(w[3], b.y));
  full_mask(w, e);
}

// ---- the kernel --------------------------------------------------------------------------------

// Block k of the launch is Philox block b0 + k; its first element is out[first + k * kPer]
// (first = b0 * kPer - offset, in (-kPer, 0]).
template <class Op>
KX_OP void run_block(const Op& op, const Rng& rng, uint64_t b0, int64_t k, int64_t first,
                     int64_t n, bool vec) {
  uint32_t w[4];
  philox_block(rng, b0 + (uint64_t)k, w);
  const int64_t e = first + k * Op::kPer;
  if (vec && e >= 0 && e + Op::kPer <= n)
    op.full(w, e);
  else
    op.part(w, e, n);
}

template <class Op>
__global__ void __launch_bounds__(kThreads)
    block_kernel(Op op, Rng rng, uint64_t b0, int64_t nblocks, int64_t first, int64_t n, bool vec) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < nblocks; k += stride)
    run_block(op, rng, b0, k, first, n, vec);
}

// Whether element `offset` at p sits where a whole block would start on a kAlign boundary.
bool aligned_for(const void* p, int64_t offset, int per, size_t elem, size_t align) {
  if (p == nullptr) return true;
  const uintptr_t base = (uintptr_t)p - (uintptr_t)(offset % per) * elem;
  return base % align == 0;
}

Status check_common(int64_t offset, int64_t n, const void* out, const void* x, bool needs_x,
                    char* err, size_t errlen) {
  if (n < 0 || offset < 0) {
    put(err, errlen, "n and offset must be >= 0 (got n = %lld, offset = %lld)", (long long)n,
        (long long)offset);
    return E_SHAPE;
  }
  if (offset > INT64_MAX - n) {
    put(err, errlen, "offset + n overflows (offset = %lld, n = %lld)", (long long)offset,
        (long long)n);
    return E_SHAPE;
  }
  if (n > 0 && (out == nullptr || (needs_x && x == nullptr))) {
    put(err, errlen, "null buffer pointer");
    return E_INTERNAL;
  }
  return OK;
}

Status check_threshold(uint32_t threshold, char* err, size_t errlen) {
  if (threshold > (1u << 24)) {
    put(err, errlen, "threshold %u is above 2^24", threshold);
    return E_RANGE;
  }
  return OK;
}

// Where the op runs: enqueued on the GPU, or (emu) the same blocks run in a loop on the CPU.
enum Where { ON_DEVICE, ON_HOST };

template <class Op>
Status launch(const Op& op, const Rng& rng, int64_t offset, int64_t n, bool vec, cudaStream_t s,
              Where where, char* err, size_t errlen) {
  if (n == 0) return OK;
  const uint64_t b0 = (uint64_t)offset / Op::kPer;
  const uint64_t b1 = (uint64_t)(offset + n - 1) / Op::kPer;
  const int64_t nblocks = (int64_t)(b1 - b0 + 1);
  const int64_t first = (int64_t)(b0 * Op::kPer) - offset;
  if (where == ON_HOST) {
    for (int64_t k = 0; k < nblocks; ++k) run_block(op, rng, b0, k, first, n, vec);
    return OK;
  }
  int dev = 0, sms = 0;
  KX_CU(cudaGetDevice(&dev), "cudaGetDevice");
  KX_CU(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev),
        "cudaDeviceGetAttribute(multiProcessorCount)");
  if (sms < 1) sms = 1;
  int64_t grid = (nblocks + kThreads - 1) / kThreads;
  const int64_t cap = (int64_t)sms * 8;  // 2048 resident threads per SM; grid-stride beyond
  if (grid > cap) grid = cap;
  block_kernel<Op><<<(unsigned)grid, kThreads, 0, s>>>(op, rng, b0, nblocks, first, n, vec);
  KX_CU(cudaGetLastError(), "kernel launch");
  return OK;
}

// ---- the ops on caller-given buffers (device memory, or host memory for emu) -------------------

Status words_at(const Rng& rng, int64_t offset, int64_t n, uint32_t* out, cudaStream_t s,
                Where where, char* err, size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  WordsOp op{out};
  const bool vec = aligned_for(out, offset, op.kPer, sizeof *out, op.kAlign);
  return launch(op, rng, offset, n, vec, s, where, err, errlen);
}

Status uniform_f32_at(const Rng& rng, int64_t offset, int64_t n, float* out, cudaStream_t s,
                      Where where, char* err, size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  UniformF32Op op{out};
  const bool vec = aligned_for(out, offset, op.kPer, sizeof *out, op.kAlign);
  return launch(op, rng, offset, n, vec, s, where, err, errlen);
}

Status uniform_f64_at(const Rng& rng, int64_t offset, int64_t n, double* out, cudaStream_t s,
                      Where where, char* err, size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  UniformF64Op op{out};
  const bool vec = aligned_for(out, offset, op.kPer, sizeof *out, op.kAlign);
  return launch(op, rng, offset, n, vec, s, where, err, errlen);
}

template <class T>
Status normal_at(const Rng& rng, int64_t offset, int64_t n, double mean, double std, T* out,
                 cudaStream_t s, Where where, char* err, size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  NormalOp<T> op{out, mean, std};
  const bool vec = aligned_for(out, offset, op.kPer, sizeof *out, op.kAlign);
  return launch(op, rng, offset, n, vec, s, where, err, errlen);
}

Status bernoulli_at(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out,
                    cudaStream_t s, Where where, char* err, size_t errlen) {
  Status st = check_threshold(threshold, err, errlen);
  if (st == OK) st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  BernoulliOp op{out, threshold};
  const bool vec = aligned_for(out, offset, op.kPer, 1, op.kAlign);
  return launch(op, rng, offset, n, vec, s, where, err, errlen);
}

template <class T>
Status dropout_at(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, T scale,
                  const T* x, T* out, uint8_t* mask, cudaStream_t s, Where where, char* err,
                  size_t errlen) {
  Status st = check_threshold(threshold, err, errlen);
  if (st == OK) st = check_common(offset, n, out, x, true, err, errlen);
  if (st != OK) return st;
  DropoutOp<T> op{x, out, mask, threshold, scale};
  const bool vec = aligned_for(out, offset, op.kPer, sizeof(T), op.kAlign) &&
                   aligned_for(x, offset, op.kPer, sizeof(T), op.kAlign) &&
                   aligned_for(mask, offset, op.kPer, 1, 4);
  return launch(op, rng, offset, n, vec, s, where, err, errlen);
}

// ---- host-memory driver: chunks of device memory, copy in, run, copy out -----------------------

struct DeviceScratch {
  void* p[3] = {nullptr, nullptr, nullptr};
  cudaStream_t stream = nullptr;
  ~DeviceScratch() {
    if (stream != nullptr) {
      cudaStreamSynchronize(stream);
      cudaStreamDestroy(stream);
    }
    for (void* q : p)
      if (q != nullptr) cudaFree(q);
    cudaGetLastError();
  }
};

// Runs run(offset_c, m, d_x, d_out, d_mask, stream) over chunks of [offset, offset + n).
// Device element `offset_c` lives at index (offset % 4) of each buffer, so whole Philox blocks
// start on 16-byte boundaries (cudaMalloc aligns to 256) and the vector path is taken.
template <class Run>
Status on_host_memory(int64_t offset, int64_t n, size_t out_size, void* out, size_t x_size,
                      const void* x, uint8_t* mask, Run run, char* err, size_t errlen) {
  if (n == 0) return OK;
  char reason[256] = {0};
  const int dev = default_device(reason, sizeof reason);
  if (dev < 0) {
    put(err, errlen, "no CUDA device: %s", reason);
    return E_BACKEND;
  }
  KX_CU(cudaSetDevice(dev), "cudaSetDevice");

  const size_t per_elem = out_size + (x != nullptr ? x_size : 0) + (mask != nullptr ? 1 : 0);
  int64_t chunk = g_chunk.load();
  if (chunk <= 0) {
    chunk = kDefaultChunk;
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
      // Use at most half of the free memory; cudaMalloc reports E_OOM if even that fails.
      const int64_t fit = (int64_t)(free_b / 2 / per_elem);
      if (fit < chunk) chunk = fit;
    }
    cudaGetLastError();
    if (chunk < (int64_t(1) << 16)) chunk = int64_t(1) << 16;
  }
  chunk &= ~int64_t(3);  // keeps offset % 4 the same for every chunk
  if (chunk < 4) chunk = 4;
  const int64_t cap = n < chunk ? n : chunk;
  const int64_t pad = offset % 4;
  const size_t slots = (size_t)(cap + 4);

  DeviceScratch d;
  KX_CU(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  char what[96];
  snprintf(what, sizeof what, "cudaMalloc(%zu bytes)", slots * out_size);
  KX_CU(cudaMalloc(&d.p[0], slots * out_size), what);
  if (x != nullptr) {
    snprintf(what, sizeof what, "cudaMalloc(%zu bytes)", slots * x_size);
    KX_CU(cudaMalloc(&d.p[1], slots * x_size), what);
  }
  if (mask != nullptr) {
    snprintf(what, sizeof what, "cudaMalloc(%zu bytes)", slots);
    KX_CU(cudaMalloc(&d.p[2], slots), what);
  }
  char* d_out = (char*)d.p[0] + pad * out_size;
  char* d_x = x != nullptr ? (char*)d.p[1] + pad * x_size : nullptr;
  uint8_t* d_mask = mask != nullptr ? (uint8_t*)d.p[2] + pad : nullptr;

  for (int64_t done = 0; done < n;) {
    const int64_t m = n - done < chunk ? n - done : chunk;
    if (x != nullptr)
      KX_CU(cudaMemcpyAsync(d_x, (const char*)x + done * x_size, (size_t)m * x_size,
                            cudaMemcpyHostToDevice, d.stream),
            "cudaMemcpy (host to device)");
    const Status st = run(offset + done, m, (const void*)d_x, (void*)d_out, d_mask, d.stream);
    if (st != OK) return st;
    KX_CU(cudaMemcpyAsync((char*)out + done * out_size, d_out, (size_t)m * out_size,
                          cudaMemcpyDeviceToHost, d.stream),
          "cudaMemcpy (device to host)");
    if (mask != nullptr)
      KX_CU(cudaMemcpyAsync(mask + done, d_mask, (size_t)m, cudaMemcpyDeviceToHost, d.stream),
            "cudaMemcpy (device to host)");
    done += m;
  }
  KX_CU(cudaStreamSynchronize(d.stream), "kernel execution");
  return OK;
}

}  // namespace

int64_t set_chunk_elements(int64_t n) {
  if (n < 0) n = 0;
  return g_chunk.exchange(n);
}

// ---- host memory -------------------------------------------------------------------------------

Status random_words(const Rng& rng, int64_t offset, int64_t n, uint32_t* out, char* err,
                    size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, sizeof *out, out, 0, nullptr, nullptr,
      [&](int64_t o, int64_t m, const void*, void* d_out, uint8_t*, cudaStream_t s) {
        return words_at(rng, o, m, (uint32_t*)d_out, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

Status uniform_f32(const Rng& rng, int64_t offset, int64_t n, float* out, char* err,
                   size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, sizeof *out, out, 0, nullptr, nullptr,
      [&](int64_t o, int64_t m, const void*, void* d_out, uint8_t*, cudaStream_t s) {
        return uniform_f32_at(rng, o, m, (float*)d_out, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

Status uniform_f64(const Rng& rng, int64_t offset, int64_t n, double* out, char* err,
                   size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, sizeof *out, out, 0, nullptr, nullptr,
      [&](int64_t o, int64_t m, const void*, void* d_out, uint8_t*, cudaStream_t s) {
        return uniform_f64_at(rng, o, m, (double*)d_out, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

Status normal_f32(const Rng& rng, int64_t offset, int64_t n, double mean, double std, float* out,
                  char* err, size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, sizeof *out, out, 0, nullptr, nullptr,
      [&](int64_t o, int64_t m, const void*, void* d_out, uint8_t*, cudaStream_t s) {
        return normal_at(rng, o, m, mean, std, (float*)d_out, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

Status normal_f64(const Rng& rng, int64_t offset, int64_t n, double mean, double std, double* out,
                  char* err, size_t errlen) {
  Status st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, sizeof *out, out, 0, nullptr, nullptr,
      [&](int64_t o, int64_t m, const void*, void* d_out, uint8_t*, cudaStream_t s) {
        return normal_at(rng, o, m, mean, std, (double*)d_out, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

Status bernoulli_u8(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out,
                    char* err, size_t errlen) {
  Status st = check_threshold(threshold, err, errlen);
  if (st == OK) st = check_common(offset, n, out, nullptr, false, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, 1, out, 0, nullptr, nullptr,
      [&](int64_t o, int64_t m, const void*, void* d_out, uint8_t*, cudaStream_t s) {
        return bernoulli_at(rng, o, m, threshold, (uint8_t*)d_out, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

Status dropout_f32(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, float scale,
                   const float* x, float* out, uint8_t* mask, char* err, size_t errlen) {
  Status st = check_threshold(threshold, err, errlen);
  if (st == OK) st = check_common(offset, n, out, x, true, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, sizeof *out, out, sizeof *x, x, mask,
      [&](int64_t o, int64_t m, const void* d_x, void* d_out, uint8_t* d_mask, cudaStream_t s) {
        return dropout_at<float>(rng, o, m, threshold, scale, (const float*)d_x, (float*)d_out,
                                 d_mask, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

Status dropout_f64(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, double scale,
                   const double* x, double* out, uint8_t* mask, char* err, size_t errlen) {
  Status st = check_threshold(threshold, err, errlen);
  if (st == OK) st = check_common(offset, n, out, x, true, err, errlen);
  if (st != OK) return st;
  return on_host_memory(
      offset, n, sizeof *out, out, sizeof *x, x, mask,
      [&](int64_t o, int64_t m, const void* d_x, void* d_out, uint8_t* d_mask, cudaStream_t s) {
        return dropout_at<double>(rng, o, m, threshold, scale, (const double*)d_x, (double*)d_out,
                                  d_mask, s, ON_DEVICE, err, errlen);
      },
      err, errlen);
}

// ---- device memory (dev::) and the same blocks run on the CPU (emu::) --------------------------

namespace dev {

Status random_words(const Rng& rng, int64_t offset, int64_t n, uint32_t* out, void* stream,
                    char* err, size_t errlen) {
  return words_at(rng, offset, n, out, (cudaStream_t)stream, ON_DEVICE, err, errlen);
}

Status uniform_f32(const Rng& rng, int64_t offset, int64_t n, float* out, void* stream, char* err,
                   size_t errlen) {
  return uniform_f32_at(rng, offset, n, out, (cudaStream_t)stream, ON_DEVICE, err, errlen);
}

Status uniform_f64(const Rng& rng, int64_t offset, int64_t n, double* out, void* stream, char* err,
                   size_t errlen) {
  return uniform_f64_at(rng, offset, n, out, (cudaStream_t)stream, ON_DEVICE, err, errlen);
}

Status normal_f32(const Rng& rng, int64_t offset, int64_t n, double mean, double std, float* out,
                  void* stream, char* err, size_t errlen) {
  return normal_at<float>(rng, offset, n, mean, std, out, (cudaStream_t)stream, ON_DEVICE, err,
                          errlen);
}

Status normal_f64(const Rng& rng, int64_t offset, int64_t n, double mean, double std, double* out,
                  void* stream, char* err, size_t errlen) {
  return normal_at<double>(rng, offset, n, mean, std, out, (cudaStream_t)stream, ON_DEVICE, err,
                           errlen);
}

Status bernoulli_u8(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out,
                    void* stream, char* err, size_t errlen) {
  return bernoulli_at(rng, offset, n, threshold, out, (cudaStream_t)stream, ON_DEVICE, err, errlen);
}

Status dropout_f32(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, float scale,
                   const float* x, float* out, uint8_t* mask, void* stream, char* err,
                   size_t errlen) {
  return dropout_at<float>(rng, offset, n, threshold, scale, x, out, mask, (cudaStream_t)stream,
                           ON_DEVICE, err, errlen);
}

Status dropout_f64(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, double scale,
                   const double* x, double* out, uint8_t* mask, void* stream, char* err,
                   size_t errlen) {
  return dropout_at<double>(rng, offset, n, threshold, scale, x, out, mask, (cudaStream_t)stream,
                            ON_DEVICE, err, errlen);
}

}  // namespace dev

namespace emu {

Status random_words(const Rng& rng, int64_t offset, int64_t n, uint32_t* out, char* err,
                    size_t errlen) {
  return words_at(rng, offset, n, out, nullptr, ON_HOST, err, errlen);
}

Status uniform_f32(const Rng& rng, int64_t offset, int64_t n, float* out, char* err,
                   size_t errlen) {
  return uniform_f32_at(rng, offset, n, out, nullptr, ON_HOST, err, errlen);
}

Status uniform_f64(const Rng& rng, int64_t offset, int64_t n, double* out, char* err,
                   size_t errlen) {
  return uniform_f64_at(rng, offset, n, out, nullptr, ON_HOST, err, errlen);
}

Status normal_f32(const Rng& rng, int64_t offset, int64_t n, double mean, double std, float* out,
                  char* err, size_t errlen) {
  return normal_at<float>(rng, offset, n, mean, std, out, nullptr, ON_HOST, err, errlen);
}

Status normal_f64(const Rng& rng, int64_t offset, int64_t n, double mean, double std, double* out,
                  char* err, size_t errlen) {
  return normal_at<double>(rng, offset, n, mean, std, out, nullptr, ON_HOST, err, errlen);
}

Status bernoulli_u8(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out,
                    char* err, size_t errlen) {
  return bernoulli_at(rng, offset, n, threshold, out, nullptr, ON_HOST, err, errlen);
}

Status dropout_f32(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, float scale,
                   const float* x, float* out, uint8_t* mask, char* err, size_t errlen) {
  return dropout_at<float>(rng, offset, n, threshold, scale, x, out, mask, nullptr, ON_HOST, err,
                           errlen);
}

Status dropout_f64(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, double scale,
                   const double* x, double* out, uint8_t* mask, char* err, size_t errlen) {
  return dropout_at<double>(rng, offset, n, threshold, scale, x, out, mask, nullptr, ON_HOST, err,
                            errlen);
}

}  // namespace emu

}  // namespace cuda
}  // namespace kx
