// The only code that knows N-API: argument unpacking, and running a kernel either synchronously or
// on a Napi::AsyncWorker (off the event loop) with the result as a Promise. Kernels report a
// kx::Status and a message; both become a JS Error with `code` (E_RANGE, ...), which lib/ turns
// into a KexueError. Nothing here throws C++ exceptions (NAPI_DISABLE_CPP_EXCEPTIONS).
#pragma once
#include <napi.h>

#include <functional>
#include <string>
#include <list>
#include <vector>

#include "kx.h"

namespace kxnapi {

const char* status_code(kx::Status s);

// A parsed call: the kernel to run and references that keep its typed arrays alive until it ends.
struct OpCall {
  std::vector<Napi::Reference<Napi::Value>> keep;
  std::function<kx::Status(std::string* err)> run;
  // Copies the op owns for the call's lifetime (see own_copy).
  std::list<std::vector<double>> owned;
};

// A copy of p[0, n) owned by call: for small arguments that steer a kernel (an MLP's spec), so that
// JS changing the array while an async call runs cannot change sizes the call has checked.
double* own_copy(OpCall* call, const double* p, size_t n);

// Parses info into call; on bad arguments throws a JS TypeError (pending exception) and returns false.
typedef bool (*ParseFn)(const Napi::CallbackInfo& info, OpCall* call);

Napi::Value run_sync(const Napi::CallbackInfo& info, ParseFn parse);
Napi::Value run_async(const Napi::CallbackInfo& info, ParseFn parse);

Napi::Error make_error(Napi::Env env, kx::Status s, const std::string& msg);

// Throws a RangeError "<prefix><msg>" with `code` (pending exception) and returns false, for the
// ops' own size and overlap checks.
bool throw_range(const Napi::CallbackInfo& info, const std::string& prefix, const std::string& msg, const char* code);

// The thread pool's Exec, which every native kernel call runs on.
const kx::Exec* pool();

// Argument helpers: each throws a TypeError naming the argument and returns false on mismatch.
bool arg_typed(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what,
               void** data, size_t* length, OpCall* call, bool nullable = false);
bool arg_number(const Napi::CallbackInfo& info, size_t i, const char* what, double* out);
bool arg_int64(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t* out);
bool arg_rng(const Napi::CallbackInfo& info, size_t i, void* rng /* kx::Rng* */);
// A Float64Array argument (arg_typed for napi_float64_array).
bool arg_float64(const Napi::CallbackInfo& info, size_t i, const char* what, double** data, size_t* length,
                 OpCall* call, bool nullable = false);

// Whether the byte ranges [a, a + na) and [b, b + nb) share a byte (an empty range never does).
bool bytes_overlap(const void* a, size_t na, const void* b, size_t nb);

// Asks the kernel (Linux, transparent huge pages in "madvise" mode) to back a large output buffer
// with 2 MiB pages. A new typed array is mapped but not yet touched, so the kernel's first write
// faults each page in: with 4 KiB pages that costs more than the dropout kernel itself.
void hint_huge_pages(void* data, size_t bytes);

}  // namespace kxnapi

// Registers `name` (synchronous) and `nameAsync` (Promise) for one parse function.
#define KX_EXPORT_OP(exports, name, parse)                                                   \
  do {                                                                                       \
    exports.Set(name, Napi::Function::New(                                                   \
                          env, [](const Napi::CallbackInfo& i) { return kxnapi::run_sync(i, parse); }, name)); \
    exports.Set(name "Async",                                                                \
                Napi::Function::New(                                                         \
                    env, [](const Napi::CallbackInfo& i) { return kxnapi::run_async(i, parse); }, name "Async")); \
  } while (0)
