// kexue_cuda_sector_check: kx::cuda::sector_mc (native/cuda/sector.cu) against the CPU kernel
// kx::sector_mc (native/core/sector.cc).
//   - argument and error checks that need no device (n = 0 and above 1e6, negative trials or
//     offset, too many words, a threshold that is not an integer in [0, 2^32], NaN, hits null):
//     the CPU kernel's status, the count untouched; trials = 0: OK with 0 hits without a device;
//   - with a device: for n = 1, 2, 3, 5, 17, 32 (thread-per-trial kernel), 33, 100, 1000 (warp per
//     trial, shared memory), 7000 and 20000 (global scratch), several thresholds (0, 2^32, and
//     thresholds for theta around where P(n, theta) is between 0 and 1) and trial counts, with a
//     trial offset: the GPU count equals the CPU count exactly, and a second call gives the same;
//     kernel-and-copy times with CUDA events for n = 3, 10, 100, 1000 (--no-bench skips them).
// Without a device: prints "no CUDA device: <reason>" after the argument checks, exit 0.
// Exit status: 0 passed; 1 a mismatch; 2 a CUDA error or bad arguments.
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "../../core/sector.h"
#include "../kx_cuda.h"

namespace {

using kx::Status;
namespace kc = kx::cuda;

using ck::fail;

kx::Rng make_rng(uint64_t seed, uint64_t stream) {
  kx::Rng r;
  r.key[0] = (uint32_t)seed, r.key[1] = (uint32_t)(seed >> 32);
  r.stream[0] = (uint32_t)stream, r.stream[1] = (uint32_t)(stream >> 32);
  return r;
}

// The op's threshold for theta: ceil(max(0, 1 - theta / (2 pi)) 2^32) (lib/ops/sector.ts).
double threshold_for(double theta) {
  const double x = 1 - theta / (2 * 3.141592653589793);
  return x <= 0 ? 0 : ceil(x * 4294967296.0);
}

void compare(const kx::Rng& rng, int64_t n, int64_t offset, int64_t trials, double thr) {
  int64_t cpu = -1, gpu = -1, gpu2 = -1;
  const char* why = nullptr;
  char err[512] = {0};
  const Status cs = kx::sector_mc(nullptr, rng, n, offset, trials, thr, &cpu, &why);
  if (cs != kx::OK) return fail("n %lld: CPU kernel returned %s: %s", (long long)n, kx::status_name(cs), why);
  const Status s = kc::sector_mc(rng, n, offset, trials, thr, &gpu, err, sizeof err);
  if (s != kx::OK) return fail("n %lld: cuda::sector_mc returned %s: %s", (long long)n, kx::status_name(s), err);
  if (kc::sector_mc(rng, n, offset, trials, thr, &gpu2, err, sizeof err) != kx::OK || gpu2 != gpu)
    fail("n %lld: a second call gave %lld, the first %lld", (long long)n, (long long)gpu2, (long long)gpu);
  printf("  n %6lld offset %5lld trials %8lld threshold %10.0f: cpu %8lld gpu %8lld%s\n", (long long)n,
         (long long)offset, (long long)trials, thr, (long long)cpu, (long long)gpu, cpu == gpu ? "" : "  MISMATCH");
  if (cpu != gpu) fail("n %lld trials %lld threshold %.0f: cpu %lld != gpu %lld", (long long)n, (long long)trials, thr,
                       (long long)cpu, (long long)gpu);
}

void bench(const kx::Rng& rng, int64_t n, int64_t trials, int reps) {
  char err[512] = {0};
  int64_t h = 0;
  const double thr = threshold_for(n <= 3 ? 3.141592653589793 : 2 * 3.141592653589793 * (1 - 2.0 / n));
  if (kc::sector_mc(rng, n, 0, trials, thr, &h, err, sizeof err) != kx::OK) return fail("bench n %lld: %s", (long long)n, err);
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  cudaEventRecord(e0);
  for (int r = 0; r < reps; ++r) kc::sector_mc(rng, n, 0, trials, thr, &h, err, sizeof err);
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  float ms = 0;
  cudaEventElapsedTime(&ms, e0, e1);
  const double per = ms / reps;
  printf("  n %5lld: %9lld trials in %8.3f ms per call: %.3g trials/s\n", (long long)n, (long long)trials, per,
         trials / (per * 1e-3));
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
}

void check_errors(const kx::Rng& rng) {
  printf("argument and error checks (no device needed):\n");
  struct Case {
    const char* what;
    int64_t n, offset, trials;
    double thr;
    Status want;
  };
  const Case cases[] = {
      {"n = 0", 0, 0, 10, 0, kx::E_RANGE},
      {"n = 1e6 + 1", 1000001, 0, 10, 0, kx::E_RANGE},
      {"trials = -1", 3, 0, -1, 0, kx::E_RANGE},
      {"trialOffset = -1", 3, -1, 10, 0, kx::E_RANGE},
      {"(offset + trials) n = 2^53", 1024, 0, (int64_t)1 << 43, 0, kx::E_RANGE},
      {"threshold = -1", 3, 0, 10, -1, kx::E_RANGE},
      {"threshold = 2^32 + 1", 3, 0, 10, 4294967297.0, kx::E_RANGE},
      {"threshold = 0.5", 3, 0, 10, 0.5, kx::E_RANGE},
      {"threshold = NaN", 3, 0, 10, NAN, kx::E_RANGE},
  };
  char err[512];
  for (const Case& c : cases) {
    int64_t h = -7, hc = -7;
    err[0] = 0;
    const Status s = kc::sector_mc(rng, c.n, c.offset, c.trials, c.thr, &h, err, sizeof err);
    const char* why = nullptr;
    const Status cs = kx::sector_mc(nullptr, rng, c.n, c.offset, c.trials, c.thr, &hc, &why);
    if (s != c.want) fail("%s: got %s, want %s (%s)", c.what, kx::status_name(s), kx::status_name(c.want), err);
    if (cs != c.want) fail("%s: the CPU kernel gives %s", c.what, kx::status_name(cs));
    if (err[0] == 0) fail("%s: no message", c.what);
    if (h != -7) fail("%s: hits written on error", c.what);
    printf("  %-32s %s: %s\n", c.what, kx::status_name(s), err);
  }
  int64_t h = -7;
  Status s = kc::sector_mc(rng, 3, 0, 10, 0, nullptr, err, sizeof err);
  if (s != kx::E_INTERNAL) fail("hits = null: got %s", kx::status_name(s));
  printf("  %-32s %s: %s\n", "hits = null", kx::status_name(s), err);
  s = kc::sector_mc(rng, 5, 3, 0, 12345, &h, nullptr, 0);
  if (s != kx::OK || h != 0) fail("trials = 0: got %s, hits %lld", kx::status_name(s), (long long)h);
  printf("  %-32s %s, hits %lld\n", "trials = 0 (no device needed)", kx::status_name(s), (long long)h);
}

}  // namespace

int main(int argc, char** argv) {
  CheckArgs args;
  args.reps = 10;
  if (!parse_check_args(argc, argv, &args)) return 2;
  printf("kexue CUDA sectorMc check, seed %llu (rerun with --seed %llu)\n", (unsigned long long)args.seed,
         (unsigned long long)args.seed);
  const kx::Rng rng = make_rng(args.seed, args.seed % 7);
  check_errors(rng);
  char reason[256] = {0};
  const int ndev = kc::device_count(reason, sizeof reason);
  if (ndev == 0) {
    int64_t h = -7;
    char err[512] = {0};
    const Status s = kc::sector_mc(rng, 3, 0, 100, 0, &h, err, sizeof err);
    return ck::finish_without_device(s, err, reason);
  }
  CK(cudaFree(nullptr));
  const double kPi = 3.141592653589793;
  printf("GPU count against kx::sector_mc (exact):\n");
  for (int64_t n : {1, 2, 3, 5, 17, 32, 33, 100, 1000, 7000, 20000}) {
    const int64_t trials = n <= 32 ? 200003 : n <= 1000 ? 20011 : 301;
    // thresholds: all (0), none but equal angles (2^32), and theta where P is in (0, 1)
    compare(rng, n, 0, trials, 0);
    compare(rng, n, 0, trials, 4294967296.0);
    const double lo = n <= 2 ? kPi / 2 : 2 * kPi * (1 - 4.0 / n) > kPi / 2 ? 2 * kPi * (1 - 4.0 / n) : kPi / 2;
    const double hi = n <= 1 ? kPi : 2 * kPi * (1 - 1.0 / n);
    for (double f : {0.0, 0.5, 0.9}) compare(rng, n, 12345, trials, threshold_for(lo + f * (hi - lo)));
  }
  if (args.do_bench) {
    printf("timings (CUDA events, host call including the count's copy):\n");
    bench(rng, 3, 10000000, args.reps);
    bench(rng, 10, 10000000, args.reps);
    bench(rng, 100, 1000000, args.reps);
    bench(rng, 1000, 100000, args.reps);
  }
  return ck::finish("sectorMc");
}
