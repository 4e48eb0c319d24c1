// What the CUDA check programs share: a CUDA call checked in a check program's own functions
// (print the error, return 2 — the documented exit code for a CUDA error).
#pragma once
#include <cuda_runtime.h>
#include <stdio.h>

#define CK(call)                                                                        \
  do {                                                                                  \
    cudaError_t e_ = (call);                                                            \
    if (e_ != cudaSuccess) {                                                            \
      printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, __LINE__, \
             cudaGetErrorString(e_));                                                   \
      return 2;                                                                         \
    }                                                                                   \
  } while (0)

// The options the check programs take: --seed N, --reps N, --no-bench, --no-emu, and --max-n N
// where the program has sizes to cap (max_n >= 0 on entry). Returns false after printing the usage
// (exit code 2).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct CheckArgs {
  uint64_t seed = (uint64_t)time(nullptr) * 2654435761u ^ (uint64_t)clock();
  int reps = 20;
  int64_t max_n = -1;
  bool do_bench = true, do_emu = true;
};

inline bool parse_check_args(int argc, char** argv, CheckArgs* a) {
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) a->seed = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) a->reps = atoi(argv[++i]);
    else if (a->max_n >= 0 && !strcmp(argv[i], "--max-n") && i + 1 < argc) a->max_n = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--no-bench")) a->do_bench = false;
    else if (!strcmp(argv[i], "--no-emu")) a->do_emu = false;
    else {
      printf("usage: %s [--seed N] [--reps N] [--no-bench] [--no-emu]%s\n", argv[0], a->max_n >= 0 ? " [--max-n N]" : "");
      return false;
    }
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (a->reps < 1) {
    printf("--reps must be >= 1\n");
    return false;
  }
  return true;
}

// The host allocation hooks native/core calls (the addon's are in native/napi/thread_pool.cc;
// each check program is one translation unit, so defining them here defines them once).
extern "C" void* kx_host_alloc(size_t bytes) { return malloc(bytes); }
extern "C" void kx_host_free(void* p) { free(p); }

// Failure counting, the seeded test data and the endings of the check programs (namespace ck).
#include <stdarg.h>

#include "../../core/kx.h"

namespace ck {

inline int g_failures = 0;

// Prints "  FAIL: <message>" and counts it.
inline void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("  FAIL: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  ++g_failures;
}

inline uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits.
inline double unif(uint64_t* s) { return (double)(splitmix64(s) >> 11) * 0x1p-53; }

// The exit status after the checks: 1 and "FAILED: n check(s)" when any failed, else 0 and
// "all <what> checks passed".
inline int finish(const char* what) {
  if (g_failures > 0) {
    printf("FAILED: %d check(s)\n", g_failures);
    return 1;
  }
  printf("all %s checks passed\n", what);
  return 0;
}

// Without a device: a valid call (status s, message err) must report E_BACKEND "no CUDA device:
// ...", not crash. Returns the exit status: 1 after earlier failures or a wrong report, else 0.
inline int finish_without_device(kx::Status s, const char* err, const char* reason) {
  if (s != kx::E_BACKEND || strncmp(err, "no CUDA device: ", 16) != 0)
    fail("no device: got %s '%s', want E_BACKEND 'no CUDA device: ...'", kx::status_name(s), err);
  if (g_failures > 0) {
    printf("FAILED: %d check(s)\n", g_failures);
    return 1;
  }
  printf("no CUDA device: %s\n", reason);
  return 0;
}

}  // namespace ck
