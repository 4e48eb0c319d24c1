// kexue core: the plain C++17 kernel layer shared by the native addon (g++), the WebAssembly build
// (clang --target=wasm32 -msimd128) and, for the header-only parts, CUDA (nvcc).
// No N-API, no exceptions, no RTTI, no standard-library containers: kernels take pointers, sizes
// and a small execution context, and return a Status.
#pragma once
#include <stddef.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define KX_HD __host__ __device__ __forceinline__
#else
#define KX_HD inline
#endif

namespace kx {

// Stable error codes; the binding layers map them to KexueError codes of the same name.
enum Status : int32_t {
  OK = 0,
  E_RANGE = 1,     // a value outside its allowed range (probability, id, index)
  E_SHAPE = 2,     // sizes that do not fit together
  E_DTYPE = 3,     // an element type the kernel does not take
  E_OOM = 4,       // an allocation failed
  E_BACKEND = 5,   // the backend cannot run this (no device, driver error)
  E_INTERNAL = 6,  // a bug: should never be seen
  E_NOT_SPD = 7,   // a matrix that must be (semi-)definite is not
  E_NO_CONVERGENCE = 8,  // an iteration did not reach its tolerance within its cap
};

// The code's name, as the bindings report it ("E_RANGE", ...; "OK").
inline const char* status_name(Status s) {
  switch (s) {
    case OK: return "OK";
    case E_RANGE: return "E_RANGE";
    case E_SHAPE: return "E_SHAPE";
    case E_DTYPE: return "E_DTYPE";
    case E_OOM: return "E_OOM";
    case E_BACKEND: return "E_BACKEND";
    case E_INTERNAL: return "E_INTERNAL";
    case E_NOT_SPD: return "E_NOT_SPD";
    case E_NO_CONVERGENCE: return "E_NO_CONVERGENCE";
  }
  return "E_INTERNAL";
}

// Parallel execution hook. The host (the N-API thread pool, or nothing in wasm) runs fn over
// [0, n) in chunks [k*grain, min((k+1)*grain, n)). Chunk boundaries depend only on n and grain,
// never on the number of threads, so a kernel that reduces per chunk and combines the chunks in
// index order gets the same bits with any thread count.
typedef void (*RangeFn)(void* ctx, int64_t begin, int64_t end);
struct Exec {
  void (*parallel_for)(void* pool, int64_t n, int64_t grain, RangeFn fn, void* ctx);
  void* pool;
};

// Runs serially when ex or ex->parallel_for is null.
void parallel_for(const Exec* ex, int64_t n, int64_t grain, RangeFn fn, void* ctx);

// The one allocator hook: kernels that need scratch memory get it here. The host defines
// kx_host_alloc / kx_host_free (malloc in the addon, the module's own heap in wasm).
void* alloc(size_t bytes);
void release(void* p);

}  // namespace kx

extern "C" {
void* kx_host_alloc(size_t bytes);
void kx_host_free(void* p);
}
