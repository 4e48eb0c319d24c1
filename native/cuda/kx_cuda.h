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

#include "../core/attention.h"
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

// ---- attention forward (native/cuda/attention.cu) ----------------------------------------------
// Computes what kx::attention_f32 (native/core/attention.h) computes: out, and lse / probs when not
// null, for every mask kind per head (aligned bottom right: off = Nk - Nq), key_lengths, the
// boolean mask and the float bias through their four strides (any sign; 0 broadcasts), grouped-
// query attention (H a multiple of Hkv), dropout with the same Philox words (probability
// (b, h, i, j) kept when word ((b H + h) Nq + i) Nk + j, >> 8, is >= dropout_threshold, then scaled
// by dropout_scale; the normaliser is the undropped softmax's). A row with no visible key gives
// out 0, lse -inf, probs 0, never NaN. Not bit-identical to the CPU kernel (float32 sums in another
// order, the GPU's exp2f / log2f): attention_check.cu states the tolerances.
//
// Host pointers, synchronous, thread-safe (each call has its own stream and buffers). Work is
// split into chunks of (batch, key/value head) pairs, and of query rows when one pair is too big,
// so device memory stays within half the free memory (set_attention_chunk_bytes overrides the
// budget); only the part of mask / bias the chunk's strides reach is copied. Results do not depend
// on the chunking.
//
// Errors as the CPU kernel's (E_SHAPE, E_RANGE for head_kind / key_lengths / threshold), E_INTERNAL
// for a null pointer that is needed, E_OOM, E_BACKEND (no device, CUDA errors); message in err.

// Half-precision inputs: q, k, v hold IEEE binary16 (attention_f16) or bfloat16 (attention_bf16)
// bit patterns; everything else is float32, as in AttentionParams<float>. Accumulation is float32.
// On compute capability >= 8.0 with D <= 256 and Dv <= 256 the kernel uses tensor cores
// (mma.sync m16n8k16) for Q K^T and P V, with P rounded to the input type before P V (as
// FlashAttention and PyTorch do); elsewhere it converts the inputs to float32 on load and runs the
// float32 kernel (then the result is that of kx::attention_f32 on the converted inputs).
struct AttentionParams16 {
  int64_t B, H, Hkv, Nq, Nk, D, Dv;
  const uint16_t* q;  // [B, H, Nq, D]
  const uint16_t* k;  // [B, Hkv, Nk, D]
  const uint16_t* v;  // [B, Hkv, Nk, Dv]
  const int32_t* head_kind;    // [H]
  const int32_t* key_lengths;  // [B] or null
  const uint8_t* mask;         // or null
  int64_t mask_stride[4];
  const float* bias;  // or null
  int64_t bias_stride[4];
  double scale;
  bool dropout;
  Rng dropout_rng;
  uint32_t dropout_threshold;
  double dropout_scale;
  float* out;    // [B, H, Nq, Dv]
  float* lse;    // [B, H, Nq] or null
  float* probs;  // [B, H, Nq, Nk] or null
};

Status attention_f32(const AttentionParams<float>& p, char* err, size_t errlen);
Status attention_f16(const AttentionParams16& p, char* err, size_t errlen);
Status attention_bf16(const AttentionParams16& p, char* err, size_t errlen);

// For tests: the most bytes of device buffers one chunk may use (0: half the free memory).
// Returns the previous setting. Also applies to emu::attention_*.
int64_t set_attention_chunk_bytes(int64_t bytes);
// Whether f16 / bf16 may use the tensor-core kernel (default true). Returns the previous setting.
bool set_attention_tensor_cores(bool allowed);
// Which kernel a call would use: dtype 0 float32, 1 float16, 2 bfloat16.
const char* attention_kernel_name(int dtype, int64_t D, int64_t Dv, int cc_major,
                                  int64_t smem_optin_bytes);

namespace dev {
// Device pointers for every array (q, k, v, head_kind, key_lengths, mask, bias, out, lse, probs);
// enqueues on `stream` on the current device. head_kind / key_lengths are not range-checked here
// (a kind outside 0..4 acts as none, a key length is clamped to [0, Nk]).
Status attention_f32(const AttentionParams<float>& p, void* stream, char* err, size_t errlen);
Status attention_f16(const AttentionParams16& p, void* stream, char* err, size_t errlen);
Status attention_bf16(const AttentionParams16& p, void* stream, char* err, size_t errlen);
}  // namespace dev

namespace emu {
// The kernels' block code on the CPU (host pointers, same chunking and checks as the host-memory
// API, a device with compute capability 9.0 assumed); tensor_cores picks the mma.sync kernel (its
// fragment layouts emulated lane by lane) or the float32 kernel for half inputs.
Status attention_f32(const AttentionParams<float>& p, char* err, size_t errlen);
Status attention_f16(const AttentionParams16& p, bool tensor_cores, char* err, size_t errlen);
Status attention_bf16(const AttentionParams16& p, bool tensor_cores, char* err, size_t errlen);
}  // namespace emu

// ---- linear algebra on host memory (native/cuda/linalg.cu) -------------------------------------
// Row-major matrices, host pointers, synchronous, thread-safe (each call has its own stream and
// buffers). Batches are processed in chunks so device memory stays within half the free memory.
// Errors: E_SHAPE (count < 0, n < 0, sizes that overflow, n > kBatchedMaxN for the batched
// kernels: the caller falls back to the CPU), E_INTERNAL (a required pointer null with
// count * n > 0), E_RANGE (non-finite input, bad tol / max_iterations), E_NO_CONVERGENCE, E_OOM,
// E_BACKEND (no device: "no CUDA device: <reason>", CUDA errors); message in err.

// Largest n the batched small-matrix kernels take (one matrix per thread block, in shared
// memory). 32: the Jacobi kernel keeps A and V (float64: 2 x 32 x 33 x 8 = 16.9 KB) in static
// shared memory under the 48 KB every architecture we build for (sm_75+) gives without opt-in,
// so several blocks share an SM; n = 64 would need 66 KB, over sm_75's 64 KB per block. Larger
// matrices are the CPU kernels' job (or, for sqrtm, the tiled-GEMM Newton-Schulz below).
constexpr int64_t kBatchedMaxN = 32;

// Coupled Newton-Schulz square roots of the count matrices a[count][n][n] (any n), with the rules
// of kx::sqrtm_f64 method SQRTM_NEWTON_SCHULZ: per matrix c = ||A||_F, Y = A / c, Z = I,
// T = (3I - Z Y) / 2, Y <- Y T, Z <- T Z; x = sqrt(c) Y (inverse: Z / sqrt(c)). Once the free
// proxy ||I - Z Y||_F is below 1e-2 the relative residual ||X X - A||_F / ||A||_F (inverse:
// ||X A X - I||_F / sqrt(n)) is computed on the GPU with float64 accumulation (also for float32)
// each step; the matrix is done when it is below tol (> 0). E_NO_CONVERGENCE (the message names
// the first such matrix; the others are still computed) when the proxy is non-finite or above
// 1e6, when the proxy or the residual stalls (after 10 iterations, above 0.999 x its best so far),
// the residual is non-finite, or max_iterations (>= 1) pass. A = 0 gives X = 0 after 0 iterations
// (inverse: E_NOT_SPD). iterations[count] (steps taken) and residual[count] (the last residual
// computed; +infinity for a matrix that stopped before any was, 0 for A = 0) may be null. Non-finite input: E_RANGE.
Status sqrtm_newton_schulz_f64(int64_t count, int64_t n, const double* a, double* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen);
Status sqrtm_newton_schulz_f32(int64_t count, int64_t n, const float* a, float* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen);

// Lower Cholesky factors (upper triangle zero) of count symmetric matrices (lower triangle read),
// n <= kBatchedMaxN. failed_at[c] (may be null) = the first pivot of matrix c that is not positive
// (or NaN), else -1; such a matrix gets L = 0 and the call still returns OK.
Status cholesky_batched_f64(int64_t count, int64_t n, const double* a, double* L,
                            int64_t* failed_at, char* err, size_t errlen);
Status cholesky_batched_f32(int64_t count, int64_t n, const float* a, float* L, int64_t* failed_at,
                            char* err, size_t errlen);

// Eigenvalues (ascending) and eigenvectors of count symmetric matrices (lower triangle read),
// n <= kBatchedMaxN, by parallel cyclic Jacobi: values[count][n]; vectors[count][n][n] (may be
// null) with column k the unit eigenvector of values[k]. Converges to the working precision's
// rounding. Non-finite input: E_RANGE; no convergence in 60 sweeps (never seen): E_INTERNAL.
Status eigh_batched_f64(int64_t count, int64_t n, const double* a, double* values, double* vectors,
                        char* err, size_t errlen);
Status eigh_batched_f32(int64_t count, int64_t n, const float* a, float* values, float* vectors,
                        char* err, size_t errlen);

// For tests: the most bytes of device buffers one chunk of a linear algebra call may use (0: half
// the free memory; at least one matrix per chunk). Returns the previous setting. Also applies to
// emu:: (default 1 GiB there).
int64_t set_linalg_chunk_bytes(int64_t bytes);

// For tests: the pair (p < q) that thread k of step `step` of a Jacobi sweep rotates, for an even
// m (n rounded up to even): the round-robin order the eigh kernel uses.
void jacobi_sweep_pair(int64_t m, int64_t step, int64_t k, int64_t* p, int64_t* q);

namespace dev {
// Device pointers for a, x / L / values / vectors; host pointers for iterations and residual.
// Newton-Schulz runs on the current device and `stream` and returns when done (it reads a flag
// per iteration); it allocates its scratch itself. Cholesky and eigh only enqueue (synchronise the
// stream yourself): failed_at (device, required) as above; info (device, required): 0 ok, 1
// non-finite input, 2 no convergence.
Status sqrtm_newton_schulz_f64(int64_t count, int64_t n, const double* a, double* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, void* stream, char* err, size_t errlen);
Status sqrtm_newton_schulz_f32(int64_t count, int64_t n, const float* a, float* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, void* stream, char* err, size_t errlen);
Status cholesky_batched_f64(int64_t count, int64_t n, const double* a, double* L,
                            int64_t* failed_at, void* stream, char* err, size_t errlen);
Status cholesky_batched_f32(int64_t count, int64_t n, const float* a, float* L, int64_t* failed_at,
                            void* stream, char* err, size_t errlen);
Status eigh_batched_f64(int64_t count, int64_t n, const double* a, double* values, double* vectors,
                        int32_t* info, void* stream, char* err, size_t errlen);
Status eigh_batched_f32(int64_t count, int64_t n, const float* a, float* values, float* vectors,
                        int32_t* info, void* stream, char* err, size_t errlen);
}  // namespace dev

namespace emu {
// The kernels' block code run on the CPU (host pointers; same chunking, checks and results as
// the host-memory API; the GEMM and Jacobi arithmetic is the GPU's, fma for fma).
Status sqrtm_newton_schulz_f64(int64_t count, int64_t n, const double* a, double* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen);
Status sqrtm_newton_schulz_f32(int64_t count, int64_t n, const float* a, float* x, bool inverse,
                               double tol, int32_t max_iterations, int32_t* iterations,
                               double* residual, char* err, size_t errlen);
Status cholesky_batched_f64(int64_t count, int64_t n, const double* a, double* L,
                            int64_t* failed_at, char* err, size_t errlen);
Status cholesky_batched_f32(int64_t count, int64_t n, const float* a, float* L, int64_t* failed_at,
                            char* err, size_t errlen);
Status eigh_batched_f64(int64_t count, int64_t n, const double* a, double* values, double* vectors,
                        char* err, size_t errlen);
Status eigh_batched_f32(int64_t count, int64_t n, const float* a, float* values, float* vectors,
                        char* err, size_t errlen);
}  // namespace emu

// ---- integrated gradients of a built-in MLP (native/cuda/ig_mlp.cu) ----------------------------
// kx::ig_mlp_f64 (native/core/mlp.h) on the GPU: host pointers, synchronous, thread-safe (own
// stream and buffers per call). Same arguments (steps after weights here), checks, errors and
// results as the CPU kernel up to rounding (~1e-13 relative: the GEMMs sum in another order and
// without FMA; erf / exp / tanh are CUDA's). Memory is bounded by a chunk of 64 inputs and 512
// path points per batch, never by batch x steps. The checks run first (a bad argument gives the
// CPU kernel's status and message even without a GPU); a null pointer with data to read or write:
// E_INTERNAL; no device: E_BACKEND "no CUDA device: <reason>"; CUDA errors: E_BACKEND / E_OOM.
Status ig_mlp_f64(const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                  int64_t batch, const double* x, const double* base, const int32_t* target,
                  const double* alphas, const double* weights, int64_t steps, double* avg_grad,
                  double* outputs, char* err, size_t errlen);

// ---- sector-probability Monte Carlo (native/cuda/sector.cu) -------------------------------------
// kx::sector_mc (native/core/sector.h) on the GPU: the same arguments, checks (sector_mc_check,
// no device needed), and the same count, exactly. Synchronous, thread-safe (own stream and
// buffers per call); trials = 0 needs no device. hits null: E_INTERNAL; no device: E_BACKEND
// "no CUDA device: <reason>"; CUDA errors: E_BACKEND / E_OOM; message in err.
Status sector_mc(const Rng& rng, int64_t n, int64_t trial_offset, int64_t trials, double threshold, int64_t* hits,
                 char* err, size_t errlen);

// ---- training the built-in MLP (native/cuda/mlp_train.cu) ---------------------------------------
// kx::mlp_forward_f64, mlp_backward_f64 and adam_f64 (native/core/mlp.h) on the GPU: host pointers
// (copied in, run, copied out), synchronous, thread-safe (own stream and buffers per call). Same
// arguments (no Exec), checks, errors and messages as the CPU kernels, which run first, so a bad
// argument gives the CPU's status even without a GPU; then a null pointer with data to read or
// write: E_INTERNAL; no device: E_BACKEND "no CUDA device: <reason>"; CUDA errors: E_BACKEND /
// E_OOM. forward / backward equal the CPU's up to rounding (the GEMMs sum in another blocking and
// without FMA; erf / exp / tanh are CUDA's; kexue_cuda_mlp_train_check allows 1e-12 relative);
// adam is bit-identical (the same adam_element, --fmad=false, IEEE division and sqrt).
Status mlp_forward_f64(const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                       int64_t batch, const double* x, int64_t x_len, double* acts, int64_t acts_len, char* err,
                       size_t errlen);
Status mlp_backward_f64(const double* spec, int64_t spec_len, const double* params, int64_t params_len,
                        int64_t batch, const double* x, int64_t x_len, const double* acts, int64_t acts_len,
                        const double* grad_out, int64_t grad_out_len, double* grad_params, int64_t grad_params_len,
                        double* grad_x, int64_t grad_x_len, char* err, size_t errlen);
Status adam_f64(int64_t n, double* params, const double* grads, double* m, double* v, const double* hyper,
                int64_t hyper_len, char* err, size_t errlen);

}  // namespace cuda
}  // namespace kx
