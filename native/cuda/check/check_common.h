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
