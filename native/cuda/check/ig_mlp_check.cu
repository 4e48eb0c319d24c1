// kexue_cuda_ig_mlp_check: kx::cuda::ig_mlp_f64 (native/cuda/ig_mlp.cu) against the CPU kernel
// kx::ig_mlp_f64 (native/core/mlp.cc).
//   - argument and error checks that need no device (bad spec, params length, batch, steps, null
//     pointers, non-finite inputs, a bad target): the same status as the CPU kernel, outputs
//     untouched; batch = 0: OK without a device;
//   - with a device: random MLPs with every activation on every layer (softmax last), 1 to 3
//     layers, batch 1 and 64 (and 70: two chunks), 64 steps, and 784-256-256-10
//     relu/relu/softmax: avg_grad and outputs equal the CPU's to 1e-12 relative (max |diff| over
//     the array / max |cpu| of the array), and a second call gives the same bits; timings with
//     CUDA events (--no-bench skips them).
// Without a device: prints "no CUDA device: <reason>" after the argument checks, exit 0.
// Exit status: 0 passed; 1 a mismatch; 2 a CUDA error or bad arguments.
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "check_common.h"
#include "../../core/mlp.h"
#include "../kx_cuda.h"

namespace {

using kx::Status;
namespace kc = kx::cuda;

using ck::fail;
using ck::g_failures;
using ck::splitmix64;
using ck::unif;

const char* kActName[6] = {"identity", "relu", "gelu", "tanh", "sigmoid", "softmax"};

struct Problem {
  std::vector<double> spec, params, x, base, alphas, weights;
  std::vector<int32_t> target;
  int64_t batch = 0, d0 = 0, dL = 0;
};

Problem make(uint64_t* rng, const std::vector<int64_t>& dims, const std::vector<int>& acts, int64_t batch,
             int64_t steps) {
  Problem p;
  const int64_t L = (int64_t)acts.size();
  p.spec.push_back((double)L);
  for (int64_t d : dims) p.spec.push_back((double)d);
  for (int a : acts) p.spec.push_back((double)a);
  for (int64_t l = 1; l <= L; ++l) {
    const double sc = 1.5 / sqrt((double)dims[l - 1]);
    for (int64_t i = 0; i < dims[l] * dims[l - 1]; ++i) p.params.push_back((2 * unif(rng) - 1) * sc);
    for (int64_t i = 0; i < dims[l]; ++i) p.params.push_back(0.2 * (2 * unif(rng) - 1));
  }
  p.batch = batch, p.d0 = dims[0], p.dL = dims[L];
  for (int64_t i = 0; i < batch * p.d0; ++i) p.x.push_back(2 * unif(rng) - 1);
  for (int64_t i = 0; i < batch * p.d0; ++i) p.base.push_back(0.1 * (2 * unif(rng) - 1));
  for (int64_t b = 0; b < batch; ++b) p.target.push_back((int32_t)(splitmix64(rng) % (uint64_t)p.dL));
  for (int64_t k = 0; k < steps; ++k) {  // Gauss-Legendre-ish: midpoints, equal weights
    p.alphas.push_back((k + 0.5) / steps);
    p.weights.push_back(1.0 / steps);
  }
  return p;
}

Status run_cpu(const Problem& p, std::vector<double>* g, std::vector<double>* o) {
  g->assign((size_t)(p.batch * p.d0), 0.0);
  o->assign((size_t)(2 * p.batch), 0.0);
  return kx::ig_mlp_f64(nullptr, p.spec.data(), (int64_t)p.spec.size(), p.params.data(), (int64_t)p.params.size(),
                        p.batch, p.x.data(), p.base.data(), p.target.data(), (int64_t)p.alphas.size(),
                        p.alphas.data(), p.weights.data(), g->data(), o->data(), 0, nullptr);
}

Status run_gpu(const Problem& p, std::vector<double>* g, std::vector<double>* o, char* err, size_t errlen) {
  g->assign((size_t)(p.batch * p.d0), -7.0);
  o->assign((size_t)(2 * p.batch), -7.0);
  return kc::ig_mlp_f64(p.spec.data(), (int64_t)p.spec.size(), p.params.data(), (int64_t)p.params.size(), p.batch,
                        p.x.data(), p.base.data(), p.target.data(), p.alphas.data(), p.weights.data(),
                        (int64_t)p.alphas.size(), g->data(), o->data(), err, errlen);
}

double rel_err(const std::vector<double>& a, const std::vector<double>& ref) {
  double mx = 0, mr = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = fabs(a[i] - ref[i]);
    mx = d > mx || d != d ? d : mx;
    mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
  }
  return mr > 0 ? mx / mr : mx;
}

void compare(const char* name, const Problem& p, bool bench, int reps) {
  std::vector<double> cg, co, gg, go, gg2, go2;
  char err[512] = {0};
  const Status cs = run_cpu(p, &cg, &co);
  if (cs != kx::OK) return fail("%s: CPU kernel returned %s", name, kx::status_name(cs));
  const Status s = run_gpu(p, &gg, &go, err, sizeof err);
  if (s != kx::OK) return fail("%s: cuda::ig_mlp_f64 returned %s: %s", name, kx::status_name(s), err);
  const double eg = rel_err(gg, cg), eo = rel_err(go, co);
  printf("  %-44s batch %3lld: avg_grad rel err %.2e, outputs %.2e", name, (long long)p.batch, eg, eo);
  if (!(eg <= 1e-12)) fail("%s: avg_grad relative error %.3g > 1e-12", name, eg);
  if (!(eo <= 1e-12)) fail("%s: outputs relative error %.3g > 1e-12", name, eo);
  if (run_gpu(p, &gg2, &go2, err, sizeof err) != kx::OK) return fail("%s: second call failed: %s", name, err);
  if (memcmp(gg.data(), gg2.data(), gg.size() * 8) != 0 || memcmp(go.data(), go2.data(), go.size() * 8) != 0)
    fail("%s: a second call gave different bits", name);
  if (bench) {
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    cudaEventRecord(e0);
    for (int r = 0; r < reps; ++r) run_gpu(p, &gg2, &go2, err, sizeof err);
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    printf(", %.3f ms/call", ms / reps);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
  }
  printf("\n");
}

// The argument checks: the CUDA form returns the CPU kernel's status (no device needed).
void check_errors(uint64_t* rng) {
  printf("argument and error checks (no device needed):\n");
  const Problem good = make(rng, {5, 4, 3}, {1, 5}, 3, 4);
  char err[512];
  auto expect = [&](const char* what, const Problem& p, Status want, bool cpu_too) {
    std::vector<double> g, o;
    err[0] = 0;
    const Status s = run_gpu(p, &g, &o, err, sizeof err);
    if (s != want) fail("%s: got %s, want %s (%s)", what, kx::status_name(s), kx::status_name(want), err);
    else if (want != kx::OK && err[0] == 0) fail("%s: no message", what);
    if (want != kx::OK) {
      for (double v : g) if (v != -7.0) { fail("%s: avg_grad written on error", what); break; }
      for (double v : o) if (v != -7.0) { fail("%s: outputs written on error", what); break; }
    }
    if (cpu_too) {
      std::vector<double> cg, co;
      const Status c = run_cpu(p, &cg, &co);
      if (c != want) fail("%s: the CPU kernel gives %s, the test expects %s", what, kx::status_name(c), kx::status_name(want));
    }
    printf("  %-40s %s%s%s\n", what, kx::status_name(s), err[0] ? ": " : "", err);
  };
  Problem p = good;
  p.spec[0] = 0;
  expect("spec L = 0", p, kx::E_SHAPE, true);
  p = good, p.spec.pop_back();
  expect("spec too short", p, kx::E_SHAPE, true);
  p = good, p.spec[4] = 5, p.spec[5] = 1;
  expect("softmax not last", p, kx::E_SHAPE, true);
  p = good, p.spec[5] = 6;
  expect("activation code 6", p, kx::E_SHAPE, true);
  p = good, p.spec[2] = 2.5;
  expect("fractional layer size", p, kx::E_SHAPE, true);
  p = good, p.params.pop_back();
  expect("params too short", p, kx::E_SHAPE, true);
  p = good, p.alphas.clear(), p.weights.clear();
  expect("steps = 0", p, kx::E_SHAPE, true);
  p = good, p.params[3] = NAN;
  expect("NaN in params", p, kx::E_RANGE, true);
  p = good, p.x[2] = INFINITY;
  expect("inf in x", p, kx::E_RANGE, true);
  p = good, p.base[7] = -INFINITY;
  expect("-inf in base", p, kx::E_RANGE, true);
  p = good, p.alphas[1] = NAN;
  expect("NaN in alphas", p, kx::E_RANGE, true);
  p = good, p.weights[0] = INFINITY;
  expect("inf in weights", p, kx::E_RANGE, true);
  p = good, p.target[1] = 3;
  expect("target = d_L", p, kx::E_RANGE, true);
  p = good, p.target[2] = -1;
  expect("target < 0", p, kx::E_RANGE, true);
  p = good, p.batch = 0, p.x.clear(), p.base.clear(), p.target.clear();
  expect("batch = 0 (no device needed)", p, kx::OK, true);
  {
    std::vector<double> g(1, -7.0), o(1, -7.0);
    err[0] = 0;
    Status s = kc::ig_mlp_f64(good.spec.data(), (int64_t)good.spec.size(), good.params.data(),
                              (int64_t)good.params.size(), -1, good.x.data(), good.base.data(), good.target.data(),
                              good.alphas.data(), good.weights.data(), 4, g.data(), o.data(), err, sizeof err);
    if (s != kx::E_SHAPE) fail("batch = -1: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "batch = -1", kx::status_name(s), err);
    err[0] = 0;
    s = kc::ig_mlp_f64(good.spec.data(), (int64_t)good.spec.size(), good.params.data(), (int64_t)good.params.size(),
                       3, nullptr, good.base.data(), good.target.data(), good.alphas.data(), good.weights.data(), 4,
                       g.data(), o.data(), err, sizeof err);
    if (s != kx::E_INTERNAL) fail("x = null: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "x = null", kx::status_name(s), err);
    s = kc::ig_mlp_f64(nullptr, 0, nullptr, 0, 0, nullptr, nullptr, nullptr, nullptr, nullptr, 1, nullptr, nullptr,
                       nullptr, 0);
    if (s != kx::E_SHAPE) fail("spec = null: got %s", kx::status_name(s));
    printf("  %-40s %s\n", "spec = null, err = null", kx::status_name(s));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CheckArgs args;
  args.reps = 10;
  if (!parse_check_args(argc, argv, &args)) return 2;
  printf("kexue CUDA igMlp check, seed %llu (rerun with --seed %llu)\n", (unsigned long long)args.seed,
         (unsigned long long)args.seed);
  uint64_t rng = args.seed;
  check_errors(&rng);
  char reason[256] = {0};
  const int ndev = kc::device_count(reason, sizeof reason);
  if (ndev == 0) {
    // Without a device a valid call must report it, not crash.
    const Problem p = make(&rng, {3, 2}, {0}, 1, 2);
    std::vector<double> g, o;
    char err[512] = {0};
    const Status s = run_gpu(p, &g, &o, err, sizeof err);
    return ck::finish_without_device(s, err, reason);
  }
  CK(cudaFree(nullptr));
  printf("random MLPs against kx::ig_mlp_f64 (64 steps):\n");
  for (int a1 = 0; a1 <= 5; ++a1) {
    for (int64_t batch : {1, 64}) {
      char name[128];
      if (a1 == 5) {  // softmax: last layer only (1 and 2 layers)
        snprintf(name, sizeof name, "9-7 softmax");
        compare(name, make(&rng, {9, 7}, {5}, batch, 64), false, 1);
        snprintf(name, sizeof name, "13-11-6 tanh/softmax");
        compare(name, make(&rng, {13, 11, 6}, {3, 5}, batch, 64), false, 1);
        continue;
      }
      for (int a2 = 0; a2 <= 5; ++a2) {
        const int a3 = (a1 + a2) % 5 == 0 ? 5 : (a1 + a2) % 5;
        if (a2 == 5) {
          snprintf(name, sizeof name, "17-33-5 %s/softmax", kActName[a1]);
          compare(name, make(&rng, {17, 33, 5}, {a1, 5}, batch, 64), false, 1);
        } else {
          snprintf(name, sizeof name, "17-33-19-5 %s/%s/%s", kActName[a1], kActName[a2], kActName[a3]);
          compare(name, make(&rng, {17, 33, 19, 5}, {a1, a2, a3}, batch, 64), false, 1);
        }
      }
    }
  }
  compare("1-1 identity (one unit)", make(&rng, {1, 1}, {0}, 3, 64), false, 1);
  compare("40-300-2 gelu/sigmoid (two chunks)", make(&rng, {40, 300, 2}, {2, 4}, 70, 64), false, 1);
  printf("784-256-256-10 relu/relu/softmax, 64 steps:\n");
  compare("784-256-256-10 relu/relu/softmax", make(&rng, {784, 256, 256, 10}, {1, 1, 5}, 1, 64), args.do_bench,
          args.reps);
  compare("784-256-256-10 relu/relu/softmax", make(&rng, {784, 256, 256, 10}, {1, 1, 5}, 64, 64), args.do_bench,
          args.reps);
  return ck::finish("igMlp");
}
