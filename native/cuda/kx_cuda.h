// kexue CUDA backend: the plain C++ interface (no CUDA types), so that code compiled by g++ (the
// N-API layer, the check program) can call the kernels in native/cuda/*.cu.
//
// Everything here is safe to call on a machine without a GPU or without a driver: device_count()
// returns 0 with the reason, and every other function returns E_BACKEND with a message. Nothing
// aborts, exits or throws.
//
// Sampling functions take HOST pointers (copy in, run, copy out, synchronously; callers may call
// them from several threads at once: each call uses its own stream and buffers). They have the
// same parameter order, checks and results as the CPU kernels in native/core/random.h, bit for
// bit, including `offset` (the global element index of out[0]). They run on the first usable
// device (see device_count). Large n is processed in chunks (default 256 Mi elements, fewer when
// device memory is short) so device memory stays bounded; the bits do not depend on the chunk size.
//
// Errors: E_SHAPE (n < 0, offset < 0, offset + n overflows), E_RANGE (threshold > 2^24),
// E_INTERNAL (a null pointer with n > 0), E_OOM (cudaErrorMemoryAllocation), E_BACKEND (no device,
// any other CUDA error). On error `err` (when not null) receives a NUL-terminated message.
//
// NaN inputs to dropout give NaN outputs, but the NaN payload may differ from the CPU kernel's
// (the GPU returns its canonical NaN); every other value is bit-identical.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "../core/kx.h"
#include "../core/philox.h"

namespace kx {
namespace cuda {

// Lowest compute capability the build carries code for (sm_75 SASS; PTX for compute_90 only).
constexpr int kMinComputeMajor = 7;
constexpr int kMinComputeMinor = 5;

// Number of usable devices (compute capability >= 7.5, compute mode not prohibited). 0 when none,
// with a human reason written into `reason` (may be null): "no CUDA driver found", "no CUDA
// device", "driver too old (driver API version X < runtime Y)", "no usable CUDA device (...)", or
// the CUDA error text.
int device_count(char* reason, size_t reason_len);

// CUDA runtime version this build links (e.g. 13000) and the driver's (0 when no driver).
void versions(int* runtime_version, int* driver_version);

// The name of CUDA device `device` (a CUDA device index); on error the message goes into `name`.
Status device_name(int device, char* name, size_t len);

// Facts about CUDA device `device` (a CUDA device index, 0 .. cudaGetDeviceCount - 1). Any output
// pointer may be null.
Status device_info(int device, char* name, size_t name_len, int* cc_major, int* cc_minor,
                   size_t* total_mem, char* err, size_t errlen);

// The CUDA device index the sampling functions use (the first usable one), or -1 (reason in err).
int default_device(char* err, size_t errlen);

// ---- sampling on host memory (see random.h for the semantics) ----------------------------------

Status random_words(const Rng& rng, int64_t offset, int64_t n, uint32_t* out, char* err,
                    size_t errlen);
Status uniform_f32(const Rng& rng, int64_t offset, int64_t n, float* out, char* err, size_t errlen);
Status uniform_f64(const Rng& rng, int64_t offset, int64_t n, double* out, char* err,
                   size_t errlen);
Status normal_f32(const Rng& rng, int64_t offset, int64_t n, double mean, double std, float* out,
                  char* err, size_t errlen);
Status normal_f64(const Rng& rng, int64_t offset, int64_t n, double mean, double std, double* out,
                  char* err, size_t errlen);
// out[i] = 1 when (word_i >> 8) < threshold.
Status bernoulli_u8(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out,
                    char* err, size_t errlen);
// Keeps element i when (word_i >> 8) >= threshold: out = x * scale, mask = 1; else out = +0,
// mask = 0. mask may be null. out may alias x.
Status dropout_f32(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, float scale,
                   const float* x, float* out, uint8_t* mask, char* err, size_t errlen);
Status dropout_f64(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, double scale,
                   const double* x, double* out, uint8_t* mask, char* err, size_t errlen);

// For tests: the most elements one chunk of the host-memory functions holds (rounded down to a
// multiple of 4, at least 4); 0 restores the default. Returns the previous setting.
int64_t set_chunk_elements(int64_t n);

// ---- launches on DEVICE memory -----------------------------------------------------------------
// The kernels themselves, for the check program (kernel-only timing) and for a later GPU-resident
// tensor API. Pointers are device pointers to element `offset` (out[0] is element offset);
// `stream` is a cudaStream_t (null: the legacy default stream). They only enqueue: check the
// returned status (launch errors), then synchronise the stream yourself. The caller must have
// made the right device current. Any alignment works; 16-byte aligned buffers take the fast
// vector path.
namespace dev {
Status random_words(const Rng& rng, int64_t offset, int64_t n, uint32_t* out, void* stream,
                    char* err, size_t errlen);
Status uniform_f32(const Rng& rng, int64_t offset, int64_t n, float* out, void* stream, char* err,
                   size_t errlen);
Status uniform_f64(const Rng& rng, int64_t offset, int64_t n, double* out, void* stream, char* err,
                   size_t errlen);
Status normal_f32(const Rng& rng, int64_t offset, int64_t n, double mean, double std, float* out,
                  void* stream, char* err, size_t errlen);
Status normal_f64(const Rng& rng, int64_t offset, int64_t n, double mean, double std, double* out,
                  void* stream, char* err, size_t errlen);
Status bernoulli_u8(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out,
                    void* stream, char* err, size_t errlen);
Status dropout_f32(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, float scale,
                   const float* x, float* out, uint8_t* mask, void* stream, char* err,
                   size_t errlen);
Status dropout_f64(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, double scale,
                   const double* x, double* out, uint8_t* mask, void* stream, char* err,
                   size_t errlen);
}  // namespace dev

// ---- the same per-block code run on the CPU --------------------------------------------------
// For the check program on machines without a GPU: the kernels' block functions (index mapping,
// vector/edge paths, the philox.h math) run in a host loop on HOST pointers. Same signatures as
// dev:: without the stream.
namespace emu {
Status random_words(const Rng& rng, int64_t offset, int64_t n, uint32_t* out, char* err,
                    size_t errlen);
Status uniform_f32(const Rng& rng, int64_t offset, int64_t n, float* out, char* err, size_t errlen);
Status uniform_f64(const Rng& rng, int64_t offset, int64_t n, double* out, char* err,
                   size_t errlen);
Status normal_f32(const Rng& rng, int64_t offset, int64_t n, double mean, double std, float* out,
                  char* err, size_t errlen);
Status normal_f64(const Rng& rng, int64_t offset, int64_t n, double mean, double std, double* out,
                  char* err, size_t errlen);
Status bernoulli_u8(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, uint8_t* out,
                    char* err, size_t errlen);
Status dropout_f32(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, float scale,
                   const float* x, float* out, uint8_t* mask, char* err, size_t errlen);
Status dropout_f64(const Rng& rng, int64_t offset, int64_t n, uint32_t threshold, double scale,
                   const double* x, double* out, uint8_t* mask, char* err, size_t errlen);
}  // namespace emu

}  // namespace cuda
}  // namespace kx
