// Check program for the CUDA sampling kernels (native/cuda/random.cu), in the style of llm.c's
// dev/cuda: every kernel is compared bit for bit with the native/core CPU kernel on the same
// (seed, stream, offset, n), for odd sizes and offsets that are not multiples of 4, through the
// host-memory API (with small chunks too) and the device-pointer API (aligned and misaligned
// buffers); then each kernel is timed with CUDA events (ms, GB/s of device memory traffic).
// No Node needed.
//
//   kexue_cuda_check [--seed N] [--bench-n N] [--reps N] [--no-bench]
//
// Without a GPU it still runs the kernels' block code on the CPU (kx::cuda::emu, same index
// mapping, vector and edge paths and philox.h math) against the CPU kernels, then prints
// "no CUDA device: <reason>" and exits 0.
//
// Exit status: 0 all checks passed (or no device and the CPU emulation matched); 1 a mismatch;
// 2 a CUDA or allocation error, or bad arguments.
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "../../core/random.h"
#include "../kx_cuda.h"

namespace {

using kx::Rng;
using kx::Status;

enum Op {
  WORDS,
  UNIFORM_F32,
  UNIFORM_F64,
  NORMAL_F32,
  NORMAL_F64,
  BERNOULLI,
  DROPOUT_F32,
  DROPOUT_F64
};
const Op kOps[] = {WORDS,      UNIFORM_F32, UNIFORM_F64, NORMAL_F32,
                   NORMAL_F64, BERNOULLI,   DROPOUT_F32, DROPOUT_F64};
const char* op_name(Op op) {
  switch (op) {
    case WORDS: return "random_words";
    case UNIFORM_F32: return "uniform_f32";
    case UNIFORM_F64: return "uniform_f64";
    case NORMAL_F32: return "normal_f32";
    case NORMAL_F64: return "normal_f64";
    case BERNOULLI: return "bernoulli_u8";
    case DROPOUT_F32: return "dropout_f32";
    case DROPOUT_F64: return "dropout_f64";
  }
  return "?";
}
size_t out_size(Op op) {
  switch (op) {
    case UNIFORM_F64: case NORMAL_F64: case DROPOUT_F64: return 8;
    case BERNOULLI: return 1;
    default: return 4;
  }
}
size_t x_size(Op op) { return op == DROPOUT_F32 ? 4 : op == DROPOUT_F64 ? 8 : 0; }
bool has_mask(Op op) { return op == DROPOUT_F32 || op == DROPOUT_F64; }
bool is_float(Op op) { return op != WORDS && op != BERNOULLI; }

// Parameters shared by all ops of one case.
struct Params {
  Rng rng;
  double mean = 0.25, std = 1.5;
  uint32_t threshold = 0;  // bernoulli and dropout
  double scale = 1.0;      // dropout
};

enum Path { CPU, HOST_API, DEV_API, EMU };
const char* path_name(Path p) {
  switch (p) {
    case CPU: return "cpu";
    case HOST_API: return "cuda host-memory API";
    case DEV_API: return "cuda device-pointer API";
    case EMU: return "cuda block code on the CPU (emu)";
  }
  return "?";
}

// Runs op on the given path. Pointers are host pointers, except for DEV_API (device pointers).
Status run(Path path, Op op, const Params& p, int64_t off, int64_t n, const void* x, void* out,
           uint8_t* mask, char* err, size_t errlen) {
  namespace c = kx::cuda;
  const Rng& r = p.rng;
  const float s32 = (float)p.scale;
  switch (path) {
    case CPU:
      switch (op) {
        case WORDS: return kx::random_words(nullptr, r, off, n, (uint32_t*)out);
        case UNIFORM_F32: return kx::uniform_f32(nullptr, r, off, n, (float*)out);
        case UNIFORM_F64: return kx::uniform_f64(nullptr, r, off, n, (double*)out);
        case NORMAL_F32: return kx::normal_f32(nullptr, r, off, n, p.mean, p.std, (float*)out);
        case NORMAL_F64: return kx::normal_f64(nullptr, r, off, n, p.mean, p.std, (double*)out);
        case BERNOULLI: return kx::bernoulli_u8(nullptr, r, off, n, p.threshold, (uint8_t*)out);
        case DROPOUT_F32:
          return kx::dropout_f32(nullptr, r, off, n, p.threshold, s32, (const float*)x,
                                 (float*)out, mask);
        case DROPOUT_F64:
          return kx::dropout_f64(nullptr, r, off, n, p.threshold, p.scale, (const double*)x,
                                 (double*)out, mask);
      }
      break;
    case HOST_API:
      switch (op) {
        case WORDS: return c::random_words(r, off, n, (uint32_t*)out, err, errlen);
        case UNIFORM_F32: return c::uniform_f32(r, off, n, (float*)out, err, errlen);
        case UNIFORM_F64: return c::uniform_f64(r, off, n, (double*)out, err, errlen);
        case NORMAL_F32: return c::normal_f32(r, off, n, p.mean, p.std, (float*)out, err, errlen);
        case NORMAL_F64: return c::normal_f64(r, off, n, p.mean, p.std, (double*)out, err, errlen);
        case BERNOULLI: return c::bernoulli_u8(r, off, n, p.threshold, (uint8_t*)out, err, errlen);
        case DROPOUT_F32:
          return c::dropout_f32(r, off, n, p.threshold, s32, (const float*)x, (float*)out, mask,
                                err, errlen);
        case DROPOUT_F64:
          return c::dropout_f64(r, off, n, p.threshold, p.scale, (const double*)x, (double*)out,
                                mask, err, errlen);
      }
      break;
    case DEV_API:
      switch (op) {
        case WORDS: return c::dev::random_words(r, off, n, (uint32_t*)out, nullptr, err, errlen);
        case UNIFORM_F32: return c::dev::uniform_f32(r, off, n, (float*)out, nullptr, err, errlen);
        case UNIFORM_F64:
          return c::dev::uniform_f64(r, off, n, (double*)out, nullptr, err, errlen);
        case NORMAL_F32:
          return c::dev::normal_f32(r, off, n, p.mean, p.std, (float*)out, nullptr, err, errlen);
        case NORMAL_F64:
          return c::dev::normal_f64(r, off, n, p.mean, p.std, (double*)out, nullptr, err, errlen);
        case BERNOULLI:
          return c::dev::bernoulli_u8(r, off, n, p.threshold, (uint8_t*)out, nullptr, err, errlen);
        case DROPOUT_F32:
          return c::dev::dropout_f32(r, off, n, p.threshold, s32, (const float*)x, (float*)out,
                                     mask, nullptr, err, errlen);
        case DROPOUT_F64:
          return c::dev::dropout_f64(r, off, n, p.threshold, p.scale, (const double*)x,
                                     (double*)out, mask, nullptr, err, errlen);
      }
      break;
    case EMU:
      switch (op) {
        case WORDS: return c::emu::random_words(r, off, n, (uint32_t*)out, err, errlen);
        case UNIFORM_F32: return c::emu::uniform_f32(r, off, n, (float*)out, err, errlen);
        case UNIFORM_F64: return c::emu::uniform_f64(r, off, n, (double*)out, err, errlen);
        case NORMAL_F32:
          return c::emu::normal_f32(r, off, n, p.mean, p.std, (float*)out, err, errlen);
        case NORMAL_F64:
          return c::emu::normal_f64(r, off, n, p.mean, p.std, (double*)out, err, errlen);
        case BERNOULLI:
          return c::emu::bernoulli_u8(r, off, n, p.threshold, (uint8_t*)out, err, errlen);
        case DROPOUT_F32:
          return c::emu::dropout_f32(r, off, n, p.threshold, s32, (const float*)x, (float*)out,
                                     mask, err, errlen);
        case DROPOUT_F64:
          return c::emu::dropout_f64(r, off, n, p.threshold, p.scale, (const double*)x,
                                     (double*)out, mask, err, errlen);
      }
      break;
  }
  return kx::E_INTERNAL;
}

uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Dropout inputs: random values with some signed zeros, infinities, NaNs and subnormals.
void fill_x(Op op, int64_t n, void* x, uint64_t* st) {
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = splitmix64(st);
    double v = ((double)(r >> 11) * 0x1p-53 - 0.5) * 8.0;
    switch (r & 63) {
      case 0: v = -0.0; break;
      case 1: v = INFINITY; break;
      case 2: v = -INFINITY; break;
      case 3: v = NAN; break;
      case 4: v = op == DROPOUT_F32 ? 1e-40 : 4e-320; break;  // subnormal
      default: break;
    }
    if (op == DROPOUT_F32) ((float*)x)[i] = (float)v;
    else ((double*)x)[i] = v;
  }
}

// Compares element by element; any NaN equals any NaN (payloads may differ), else bits must match.
bool same(Op op, const void* a, const void* b, int64_t i) {
  const size_t es = out_size(op);
  if (es == 4 && is_float(op)) {
    const float fa = ((const float*)a)[i], fb = ((const float*)b)[i];
    if (isnan(fa) && isnan(fb)) return true;
  } else if (es == 8) {
    const double da = ((const double*)a)[i], db = ((const double*)b)[i];
    if (isnan(da) && isnan(db)) return true;
  }
  return memcmp((const char*)a + i * es, (const char*)b + i * es, es) == 0;
}

void print_elem(Op op, const void* a, int64_t i) {
  const size_t es = out_size(op);
  if (es == 1) {
    printf("%u", ((const uint8_t*)a)[i]);
  } else if (es == 4) {
    uint32_t u;
    memcpy(&u, (const char*)a + 4 * i, 4);
    if (is_float(op)) printf("%.9g (0x%08x)", ((const float*)a)[i], u);
    else printf("0x%08x", u);
  } else {
    uint64_t u;
    memcpy(&u, (const char*)a + 8 * i, 8);
    printf("%.17g (0x%016llx)", ((const double*)a)[i], (unsigned long long)u);
  }
}

int g_failures = 0;
int g_printed = 0;  // mismatch lines printed for the current op and path (at most kMaxPrinted)
constexpr int kMaxPrinted = 8;

// Counts and prints (a few of) the mismatches between ref and got.
int64_t compare(Op op, Path path, const char* what, const void* ref, const void* got,
                const uint8_t* ref_mask, const uint8_t* got_mask, int64_t n, int64_t off,
                const Params& p) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool ok = same(op, ref, got, i) && (ref_mask == nullptr || ref_mask[i] == got_mask[i]);
    if (ok) continue;
    if (bad < 3 && g_printed < kMaxPrinted) {
      ++g_printed;
      printf("  MISMATCH %s via %s%s: seed %08x%08x stream %08x%08x offset %lld n %lld, "
             "element %lld (global %lld): cpu ",
             op_name(op), path_name(path), what, p.rng.key[1], p.rng.key[0], p.rng.stream[1],
             p.rng.stream[0], (long long)off, (long long)n, (long long)i, (long long)(off + i));
      print_elem(op, ref, i);
      printf(" cuda ");
      print_elem(op, got, i);
      if (ref_mask) printf(" mask cpu %u cuda %u", ref_mask[i], got_mask[i]);
      printf("\n");
    }
    ++bad;
  }
  if (bad > 0) {
    if (g_printed < kMaxPrinted)
      printf("  %lld of %lld elements differ\n", (long long)bad, (long long)n);
    ++g_failures;
  }
  return bad;
}

bool g_cuda_error = false;

// One (op, offset, n) case on one path; `shift` misaligns the buffers by that many elements.
void check_case(Path path, Op op, const Params& p, int64_t off, int64_t n, int shift,
                uint64_t* st, const char* what = "") {
  const size_t es = out_size(op), xs = x_size(op);
  const size_t slots = (size_t)n + 8;
  char* x = xs ? (char*)malloc(slots * xs) : nullptr;
  char* ref = (char*)malloc(slots * es);
  char* got = (char*)malloc(slots * es);
  uint8_t* ref_mask = has_mask(op) ? (uint8_t*)malloc(slots) : nullptr;
  uint8_t* got_mask = has_mask(op) ? (uint8_t*)malloc(slots) : nullptr;
  if ((xs && !x) || !ref || !got || (has_mask(op) && (!ref_mask || !got_mask))) {
    printf("  out of host memory for n = %lld\n", (long long)n);
    g_cuda_error = true;
    free(x), free(ref), free(got), free(ref_mask), free(got_mask);
    return;
  }
  if (xs) fill_x(op, n, x + shift * xs, st);
  memset(got, 0xA5, slots * es);  // garbage, so unwritten elements show
  if (got_mask) memset(got_mask, 0xA5, slots);
  char err[512] = {0};
  Status s = run(CPU, op, p, off, n, x ? x + shift * xs : nullptr, ref, ref_mask, err, sizeof err);
  if (s != kx::OK) {
    printf("  cpu %s returned status %d\n", op_name(op), (int)s);
    ++g_failures;
  }
  if (path == DEV_API) {
    char *dx = nullptr, *dout = nullptr;
    uint8_t* dmask = nullptr;
    cudaError_t e = cudaSuccess;
    if (xs && e == cudaSuccess) e = cudaMalloc(&dx, slots * xs);
    if (e == cudaSuccess) e = cudaMalloc(&dout, slots * es);
    if (has_mask(op) && e == cudaSuccess) e = cudaMalloc(&dmask, slots);
    if (xs && e == cudaSuccess)
      e = cudaMemcpy(dx + shift * xs, x + shift * xs, (size_t)n * xs, cudaMemcpyHostToDevice);
    if (e == cudaSuccess) e = cudaMemset(dout, 0xA5, slots * es);
    if (e == cudaSuccess) {
      s = run(DEV_API, op, p, off, n, dx ? dx + shift * xs : nullptr, dout + shift * es,
              dmask ? dmask + shift : nullptr, err, sizeof err);
      if (s == kx::OK) e = cudaDeviceSynchronize();
      if (s == kx::OK && e == cudaSuccess)
        e = cudaMemcpy(got, dout + shift * es, (size_t)n * es, cudaMemcpyDeviceToHost);
      if (s == kx::OK && e == cudaSuccess && dmask)
        e = cudaMemcpy(got_mask, dmask + shift, (size_t)n, cudaMemcpyDeviceToHost);
    }
    if (e != cudaSuccess) {
      snprintf(err, sizeof err, "%s", cudaGetErrorString(e));
      s = kx::E_BACKEND;
    }
    cudaFree(dx), cudaFree(dout), cudaFree(dmask);
  } else {
    s = run(path, op, p, off, n, x ? x + shift * xs : nullptr, got + shift * es,
            got_mask ? got_mask + shift : nullptr, err, sizeof err);
    if (shift) memmove(got, got + shift * es, (size_t)n * es);
    if (shift && got_mask) memmove(got_mask, got_mask + shift, (size_t)n);
  }
  if (s != kx::OK) {
    printf("  %s via %s: status %d: %s\n", op_name(op), path_name(path), (int)s, err);
    g_cuda_error = true;
  } else {
    compare(op, path, what, ref, got, ref_mask, got_mask, n, off, p);
  }
  free(x), free(ref), free(got), free(ref_mask), free(got_mask);
}

Params make_params(uint64_t* st, Op op) {
  Params p;
  const uint64_t k = splitmix64(st), t = splitmix64(st);
  p.rng.key[0] = (uint32_t)k, p.rng.key[1] = (uint32_t)(k >> 32);
  p.rng.stream[0] = (uint32_t)t, p.rng.stream[1] = (uint32_t)(t >> 32);
  const double probs[] = {0.1, 0.5, 0.0, 1.0, 0.15};
  const double prob = probs[splitmix64(st) % 5];
  p.threshold = (uint32_t)ceil(prob * 16777216.0);
  p.scale = prob < 1.0 ? 1.0 / (1.0 - prob) : 0.0;
  (void)op;
  return p;
}

const int64_t kSizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 255, 1000, 4097, 65537, 1000003};
const int64_t kOffsets[] = {0, 1, 2, 3, 5, 6, 7, 1001, 12345678901LL,
                            (int64_t(1) << 34) - 6,  // crosses block 2^32 (counter high word)
                            (int64_t(1) << 33) - 3}; // float64 uniform: block 2^32

// All sizes x offsets for every op on one path (large n only at a few offsets to keep it fast).
void check_path(Path path, uint64_t* st) {
  printf("%s:\n", path_name(path));
  for (Op op : kOps) {
    const int before = g_failures;
    int cases = 0;
    g_printed = 0;
    for (int64_t n : kSizes) {
      for (int64_t off : kOffsets) {
        if (n > 70000 && off > 7 && off != (int64_t(1) << 34) - 6) continue;
        const Params p = make_params(st, op);
        const int shift = path == CPU ? 0 : (int)((n + off) % 3 == 0);  // some misaligned buffers
        check_case(path, op, p, off, n, shift, st);
        ++cases;
      }
    }
    if (g_failures == before)
      printf("  %-13s ok (%d cases)\n", op_name(op), cases);
    else
      printf("  %-13s FAILED (%d of %d cases)\n", op_name(op), g_failures - before, cases);
  }
}

double bytes_moved(Op op, int64_t n) {
  return (double)n * (double)(out_size(op) + x_size(op) + (has_mask(op) ? 1 : 0));
}


int bench(int64_t n, int reps, uint64_t* st) {
  printf("timing (n = %lld elements, %d reps, device memory only; cudaEvent):\n", (long long)n,
         reps);
  for (Op op : kOps) {
    const size_t es = out_size(op), xs = x_size(op);
    void *dx = nullptr, *dout = nullptr;
    uint8_t* dmask = nullptr;
    if (xs) CK(cudaMalloc(&dx, (size_t)n * xs));
    CK(cudaMalloc(&dout, (size_t)n * es));
    if (has_mask(op)) CK(cudaMalloc(&dmask, (size_t)n));
    if (xs) CK(cudaMemset(dx, 0, (size_t)n * xs));
    Params p = make_params(st, op);
    p.threshold = (uint32_t)ceil(0.1 * 16777216.0), p.scale = 1.0 / 0.9;
    char err[512] = {0};
    cudaEvent_t t0, t1;
    CK(cudaEventCreate(&t0));
    CK(cudaEventCreate(&t1));
    Status s = run(DEV_API, op, p, 1, n, dx, dout, dmask, err, sizeof err);  // warm-up
    CK(cudaDeviceSynchronize());
    CK(cudaEventRecord(t0));
    for (int r = 0; r < reps && s == kx::OK; ++r)
      s = run(DEV_API, op, p, (int64_t)r * n, n, dx, dout, dmask, err, sizeof err);
    CK(cudaEventRecord(t1));
    CK(cudaEventSynchronize(t1));
    if (s != kx::OK) {
      printf("  %s: status %d: %s\n", op_name(op), (int)s, err);
      return 2;
    }
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, t0, t1));
    ms /= (float)reps;
    printf("  %-13s %9.3f ms  %8.1f GB/s  %8.2f Gsamples/s\n", op_name(op), ms,
           bytes_moved(op, n) / (ms * 1e6), (double)n / (ms * 1e6));
    CK(cudaEventDestroy(t0));
    CK(cudaEventDestroy(t1));
    cudaFree(dx), cudaFree(dout), cudaFree(dmask);
  }
  // The host-memory API end to end (copies over PCIe / NVLink-C2C included).
  const int64_t hn = n < (int64_t(1) << 24) ? n : (int64_t(1) << 24);
  float* h = (float*)malloc((size_t)hn * 4);
  if (h != nullptr) {
    Params p = make_params(st, UNIFORM_F32);
    char err[512] = {0};
    kx::cuda::uniform_f32(p.rng, 0, hn, h, err, sizeof err);  // warm-up
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    const Status s = kx::cuda::uniform_f32(p.rng, 0, hn, h, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    const double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) * 1e-6;
    if (s == kx::OK)
      printf("  host-memory uniform_f32, n = %lld: %.3f ms (%.1f GB/s to the host)\n",
             (long long)hn, ms, (double)hn * 4 / (ms * 1e6));
    else
      printf("  host-memory uniform_f32: status %d: %s\n", (int)s, err);
    free(h);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = (uint64_t)time(nullptr) * 2654435761u ^ (uint64_t)clock();
  int64_t bench_n = int64_t(1) << 26;
  int reps = 20;
  bool do_bench = true;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--bench-n") && i + 1 < argc)
      bench_n = strtoll(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-bench")) do_bench = false;
    else {
      printf("usage: %s [--seed N] [--bench-n N] [--reps N] [--no-bench]\n", argv[0]);
      return 2;
    }
  }
  if (bench_n < 1 || reps < 1) {
    printf("--bench-n and --reps must be >= 1\n");
    return 2;
  }
  printf("kexue CUDA sampling check, seed %llu (rerun with --seed %llu), cpu isa %s\n",
         (unsigned long long)seed, (unsigned long long)seed, kx::isa_name(kx::isa_active()));
  uint64_t st = seed;

  // The kernels' block code on the CPU: runs everywhere, GPU or not.
  check_path(EMU, &st);

  char reason[256] = {0};
  const int ndev = kx::cuda::device_count(reason, sizeof reason);
  if (ndev == 0) {
    if (g_failures > 0) {
      printf("FAILED: %d mismatching case(s) in the CPU emulation\n", g_failures);
      return 1;
    }
    printf("no CUDA device: %s\n", reason);
    return 0;
  }
  char err[256] = {0}, name[256] = {0};
  const int dev = kx::cuda::default_device(err, sizeof err);
  int major = 0, minor = 0, rt = 0, drv = 0;
  size_t mem = 0;
  kx::cuda::versions(&rt, &drv);
  if (dev < 0 || kx::cuda::device_info(dev, name, sizeof name, &major, &minor, &mem, err,
                                       sizeof err) != kx::OK) {
    printf("device query failed: %s\n", err);
    return 2;
  }
  printf("device %d: %s, compute capability %d.%d, %.1f GiB; runtime %d, driver %d\n", dev, name,
         major, minor, (double)mem / (1 << 30), rt, drv);
  CK(cudaSetDevice(dev));

  check_path(HOST_API, &st);
  check_path(DEV_API, &st);

  // Chunked host-memory path: small chunks must give the same bits.
  printf("host-memory API with 1000-element chunks:\n");
  const int before = g_failures;
  g_printed = 0;
  kx::cuda::set_chunk_elements(1000);
  for (Op op : kOps)
    for (int64_t off : {int64_t(0), int64_t(3), int64_t(4001)}) {
      const Params p = make_params(&st, op);
      check_case(HOST_API, op, p, off, 10007, (int)(off & 1), &st, " (chunked)");
    }
  kx::cuda::set_chunk_elements(0);
  printf("  %s\n", g_failures == before ? "ok" : "FAILED");

  // Argument checks match the CPU kernels'.
  {
    float f = 0;
    uint8_t b = 0;
    const Params p = make_params(&st, BERNOULLI);
    const Status a = kx::cuda::bernoulli_u8(p.rng, 0, 1, (1u << 24) + 1, &b, err, sizeof err);
    const Status c = kx::cuda::uniform_f32(p.rng, -1, 1, &f, err, sizeof err);
    const Status d = kx::cuda::uniform_f32(p.rng, 0, 0, nullptr, err, sizeof err);
    if (a != kx::E_RANGE || c != kx::E_SHAPE || d != kx::OK) {
      printf("argument checks: got %d %d %d, want %d %d %d\n", a, c, d, kx::E_RANGE, kx::E_SHAPE,
             kx::OK);
      ++g_failures;
    }
  }

  if (g_failures > 0 || g_cuda_error) {
    printf("FAILED: %d mismatching case(s)%s\n", g_failures,
           g_cuda_error ? ", and CUDA errors (above)" : "");
    return g_failures > 0 ? 1 : 2;
  }
  printf("all checks passed\n");
  if (do_bench) {
    const int rc = bench(bench_n, reps, &st);
    if (rc != 0) return rc;
  }
  return 0;
}
