// kexue_cuda_mlp_train_check: kx::cuda::mlp_forward_f64 / mlp_backward_f64 / adam_f64
// (native/cuda/mlp_train.cu) against the CPU kernels (native/core/mlp_train.cc).
//   - argument and error checks that need no device (bad spec, lengths, batch < 0, hyper, null
//     pointers): the same status as the CPU kernel, outputs untouched; batch = 0 / n = 0: OK
//     without a device;
//   - with a device: random MLPs with every activation on every layer (softmax last), 1 to 3
//     layers, batch 1, 7 and 300, and 2-128-128-1 (batch 256) and 784-256-256-10 relu/relu/softmax
//     (batch 128): acts, gradParams and gradX equal the CPU's to 1e-12 relative (max |diff| over
//     the array / max |cpu| of the array), adam's params, m and v bit for bit, and a second call
//     gives the same bits; timings with CUDA events (--no-bench skips them).
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
typedef std::vector<double> Vec;

using ck::fail;
using ck::g_failures;
using ck::splitmix64;
using ck::unif;
Vec randv(uint64_t* rng, int64_t n, double scale) {
  Vec v((size_t)n);
  for (double& e : v) e = (2 * unif(rng) - 1) * scale;
  return v;
}

const char* kActName[6] = {"identity", "relu", "gelu", "tanh", "sigmoid", "softmax"};

struct Problem {
  Vec spec, params, x, grad_out;
  int64_t batch = 0, d0 = 0, dL = 0, acts_len = 0;
  bool grad_x = true;
};

Problem make(uint64_t* rng, const std::vector<int64_t>& dims, const std::vector<int>& acts, int64_t batch) {
  Problem p;
  const int64_t L = (int64_t)acts.size();
  p.spec.push_back((double)L);
  for (int64_t d : dims) p.spec.push_back((double)d);
  for (int a : acts) p.spec.push_back((double)a);
  int64_t sumd = 0;
  for (int64_t l = 1; l <= L; ++l) {
    const double sc = 1.5 / sqrt((double)dims[l - 1]);
    for (int64_t i = 0; i < dims[l] * dims[l - 1]; ++i) p.params.push_back((2 * unif(rng) - 1) * sc);
    for (int64_t i = 0; i < dims[l]; ++i) p.params.push_back(0.2 * (2 * unif(rng) - 1));
    sumd += dims[l];
  }
  p.batch = batch, p.d0 = dims[0], p.dL = dims[L], p.acts_len = 2 * batch * sumd;
  p.x = randv(rng, batch * p.d0, 1.0);
  p.grad_out = randv(rng, batch * p.dL, 1.0);
  return p;
}

size_t gx_len(const Problem& p) { return p.grad_x && p.batch > 0 ? (size_t)(p.batch * p.d0) : 0; }

struct Out {
  Vec acts, gp, gx;
};

Status run_cpu(const Problem& p, Out* o) {
  o->acts.assign((size_t)p.acts_len, 0.0);
  o->gp.assign(p.params.size(), 0.0);
  o->gx.assign(gx_len(p), 0.0);
  Status s = kx::mlp_forward_f64(nullptr, p.spec.data(), (int64_t)p.spec.size(), p.params.data(),
                                 (int64_t)p.params.size(), p.batch, p.x.data(), (int64_t)p.x.size(), o->acts.data(),
                                 p.acts_len, nullptr);
  if (s != kx::OK) return s;
  return kx::mlp_backward_f64(nullptr, p.spec.data(), (int64_t)p.spec.size(), p.params.data(),
                              (int64_t)p.params.size(), p.batch, p.x.data(), (int64_t)p.x.size(), o->acts.data(),
                              p.acts_len, p.grad_out.data(), (int64_t)p.grad_out.size(), o->gp.data(),
                              (int64_t)o->gp.size(), o->gx.data(), (int64_t)o->gx.size(), nullptr);
}

Status gpu_forward(const Problem& p, Vec* acts, char* err, size_t errlen) {
  return kc::mlp_forward_f64(p.spec.data(), (int64_t)p.spec.size(), p.params.data(), (int64_t)p.params.size(),
                             p.batch, p.x.data(), (int64_t)p.x.size(), acts->data(), (int64_t)acts->size(), err,
                             errlen);
}

Status gpu_backward(const Problem& p, const Vec& acts, Out* o, char* err, size_t errlen) {
  return kc::mlp_backward_f64(p.spec.data(), (int64_t)p.spec.size(), p.params.data(), (int64_t)p.params.size(),
                              p.batch, p.x.data(), (int64_t)p.x.size(), acts.data(), (int64_t)acts.size(),
                              p.grad_out.data(), (int64_t)p.grad_out.size(), o->gp.data(), (int64_t)o->gp.size(),
                              o->gx.data(), (int64_t)o->gx.size(), err, errlen);
}

// GPU forward, then GPU backward on the CPU's acts (so the two passes are compared separately).
Status run_gpu(const Problem& p, const Vec& cpu_acts, Out* o, char* err, size_t errlen) {
  o->acts.assign((size_t)p.acts_len, -7.0);
  o->gp.assign(p.params.size(), -7.0);
  o->gx.assign(gx_len(p), -7.0);
  const Status s = gpu_forward(p, &o->acts, err, errlen);
  return s != kx::OK ? s : gpu_backward(p, cpu_acts, o, err, errlen);
}

double rel_err(const Vec& a, const Vec& ref) {
  double mx = 0, mr = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = fabs(a[i] - ref[i]);
    mx = d > mx || d != d ? d : mx;
    mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
  }
  return mr > 0 ? mx / mr : mx;
}

bool same_bits(const Vec& a, const Vec& b) { return a.size() == b.size() && memcmp(a.data(), b.data(), a.size() * 8) == 0; }

template <class F>
float time_ms(F f, int reps) {
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  cudaEventRecord(e0);
  for (int r = 0; r < reps; ++r) f();
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  float ms = 0;
  cudaEventElapsedTime(&ms, e0, e1);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return ms / reps;
}

void compare(const char* name, const Problem& p, bool bench, int reps) {
  Out c, g, g2;
  char err[512] = {0};
  const Status cs = run_cpu(p, &c);
  if (cs != kx::OK) return fail("%s: CPU kernels returned %s", name, kx::status_name(cs));
  const Status s = run_gpu(p, c.acts, &g, err, sizeof err);
  if (s != kx::OK) return fail("%s: cuda kernels returned %s: %s", name, kx::status_name(s), err);
  const double ea = rel_err(g.acts, c.acts), ep = rel_err(g.gp, c.gp), ex = rel_err(g.gx, c.gx);
  printf("  %-36s batch %3lld: rel err acts %.2e, gradParams %.2e, gradX %.2e", name, (long long)p.batch, ea, ep, ex);
  if (!(ea <= 1e-12)) fail("%s: acts relative error %.3g > 1e-12", name, ea);
  if (!(ep <= 1e-12)) fail("%s: gradParams relative error %.3g > 1e-12", name, ep);
  if (!(ex <= 1e-12)) fail("%s: gradX relative error %.3g > 1e-12", name, ex);
  if (run_gpu(p, c.acts, &g2, err, sizeof err) != kx::OK) return fail("%s: second call failed: %s", name, err);
  if (!same_bits(g.acts, g2.acts) || !same_bits(g.gp, g2.gp) || !same_bits(g.gx, g2.gx))
    fail("%s: a second call gave different bits", name);
  if (bench) {
    // One training step's kernels (forward, backward, adam on host memory: transfers included).
    Vec m(p.params.size(), 0.0), v(p.params.size(), 0.0), params = p.params;
    const double hyper[7] = {1e-3, 0.9, 0.999, 1e-8, 0.0, 0.1, 0.001};
    const float fwd = time_ms([&] { gpu_forward(p, &g2.acts, err, sizeof err); }, reps);
    const float bwd = time_ms([&] { gpu_backward(p, g2.acts, &g2, err, sizeof err); }, reps);
    const float adam = time_ms(
        [&] { kc::adam_f64((int64_t)params.size(), params.data(), g2.gp.data(), m.data(), v.data(), hyper, 7, err, sizeof err); },
        reps);
    printf(", forward %.3f ms, backward %.3f ms, adam %.3f ms", fwd, bwd, adam);
  }
  printf("\n");
}

void adam_cpu(Vec* p, const Vec& g, Vec* m, Vec* v, const double* h) {
  kx::adam_f64(nullptr, (int64_t)p->size(), p->data(), g.data(), m->data(), v->data(), h, 7, nullptr);
}

void compare_adam(uint64_t* rng, int64_t n) {
  const Vec p0 = randv(rng, n, 1.0), g = randv(rng, n, 1.0), m0 = randv(rng, n, 0.1);
  Vec v0 = randv(rng, n, 0.1);
  for (double& e : v0) e = fabs(e);
  for (int t : {1, 10, 1000}) {
    const double b1 = 0.9, b2 = 0.999;
    const double h[7] = {1e-3, b1, b2, 1e-8, 0.01, 1 - pow(b1, t), 1 - pow(b2, t)};
    Vec pc = p0, mc = m0, vc = v0, pg = p0, mg = m0, vg = v0;
    adam_cpu(&pc, g, &mc, &vc, h);
    char err[512] = {0};
    const Status s = kc::adam_f64(n, pg.data(), g.data(), mg.data(), vg.data(), h, 7, err, sizeof err);
    if (s != kx::OK) return fail("adam n %lld: %s: %s", (long long)n, kx::status_name(s), err);
    const bool ok = same_bits(pc, pg) && same_bits(mc, mg) && same_bits(vc, vg);
    printf("  adam n %-8lld t %-5d %s\n", (long long)n, t, ok ? "bit-identical" : "DIFFERENT");
    if (!ok) fail("adam n %lld t %d: params, m or v differ from the CPU's bits", (long long)n, t);
  }
}

// The argument checks: the CUDA forms return the CPU kernels' status (no device needed).
void check_errors(uint64_t* rng) {
  printf("argument and error checks (no device needed):\n");
  const Problem good = make(rng, {5, 4, 3}, {1, 5}, 3);
  char err[512];
  auto expect = [&](const char* what, const Problem& p, Status want) {
    Out c, g;
    err[0] = 0;
    g.acts.assign((size_t)p.acts_len, -7.0);
    g.gp.assign(p.params.size(), -7.0);
    g.gx.assign(gx_len(p), -7.0);
    Status sf = gpu_forward(p, &g.acts, err, sizeof err);
    if (sf != want) fail("%s: forward got %s, want %s (%s)", what, kx::status_name(sf), kx::status_name(want), err);
    else if (want != kx::OK && err[0] == 0) fail("%s: forward: no message", what);
    printf("  %-40s forward %s%s%s\n", what, kx::status_name(sf), err[0] ? ": " : "", err);
    err[0] = 0;
    Status sb = gpu_backward(p, g.acts, &g, err, sizeof err);
    if (sb != want) fail("%s: backward got %s, want %s (%s)", what, kx::status_name(sb), kx::status_name(want), err);
    printf("  %-40s backward %s%s%s\n", what, kx::status_name(sb), err[0] ? ": " : "", err);
    if (want != kx::OK) {
      for (double v : g.acts) if (v != -7.0) { fail("%s: acts written on error", what); break; }
      for (double v : g.gp) if (v != -7.0) { fail("%s: gradParams written on error", what); break; }
      const Status cs = run_cpu(p, &c);
      if (cs != want) fail("%s: the CPU kernels give %s, the test expects %s", what, kx::status_name(cs), kx::status_name(want));
    }
  };
  Problem p = good;
  p.spec[0] = 0;
  expect("spec L = 0", p, kx::E_SHAPE);
  p = good, p.spec.pop_back();
  expect("spec too short", p, kx::E_SHAPE);
  p = good, p.spec[4] = 5, p.spec[5] = 1;
  expect("softmax not last", p, kx::E_SHAPE);
  p = good, p.spec[5] = 6;
  expect("activation code 6", p, kx::E_SHAPE);
  p = good, p.params.pop_back();
  expect("params too short", p, kx::E_SHAPE);
  p = good, p.x.pop_back();
  expect("x too short", p, kx::E_SHAPE);
  p = good, p.acts_len -= 1;
  expect("acts too short", p, kx::E_SHAPE);
  p = good, p.batch = -1;
  expect("batch = -1", p, kx::E_SHAPE);
  {
    // backward only: gradOut, gradParams, gradX lengths
    Out g;
    g.acts.assign((size_t)good.acts_len, 0.0);
    g.gp.assign(good.params.size(), -7.0);
    g.gx.assign((size_t)(good.batch * good.d0), -7.0);
    Problem q = good;
    q.grad_out.pop_back();
    err[0] = 0;
    Status s = gpu_backward(q, g.acts, &g, err, sizeof err);
    if (s != kx::E_SHAPE) fail("gradOut too short: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "gradOut too short", kx::status_name(s), err);
    g.gx.pop_back();
    err[0] = 0;
    s = gpu_backward(good, g.acts, &g, err, sizeof err);
    if (s != kx::E_SHAPE) fail("gradX wrong length: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "gradX wrong length", kx::status_name(s), err);
    for (double v : g.gp)
      if (v != -7.0) { fail("gradParams written on error"); break; }
    err[0] = 0;
    s = kc::mlp_backward_f64(good.spec.data(), (int64_t)good.spec.size(), good.params.data(),
                             (int64_t)good.params.size(), good.batch, nullptr, (int64_t)good.x.size(), g.acts.data(),
                             (int64_t)g.acts.size(), good.grad_out.data(), (int64_t)good.grad_out.size(), g.gp.data(),
                             (int64_t)g.gp.size(), nullptr, 0, err, sizeof err);
    if (s != kx::E_INTERNAL) fail("x = null: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "x = null", kx::status_name(s), err);
    s = kc::mlp_forward_f64(nullptr, 0, nullptr, 0, 0, nullptr, 0, nullptr, 0, nullptr, 0);
    if (s != kx::E_SHAPE) fail("spec = null: got %s", kx::status_name(s));
    printf("  %-40s %s\n", "spec = null, err = null", kx::status_name(s));
  }
  p = good, p.batch = 0, p.x.clear(), p.grad_out.clear(), p.acts_len = 0;
  expect("batch = 0 (no device needed)", p, kx::OK);
  {
    Vec a(3, 1.0), b(3, 1.0), c(3, 1.0), d(3, 1.0);
    const double h6[6] = {1e-3, 0.9, 0.999, 1e-8, 0, 0.1};
    const double hnan[7] = {1e-3, 0.9, 0.999, NAN, 0, 0.1, 0.001};
    err[0] = 0;
    Status s = kc::adam_f64(3, a.data(), b.data(), c.data(), d.data(), h6, 6, err, sizeof err);
    if (s != kx::E_SHAPE) fail("adam hyper length 6: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "adam hyper length 6", kx::status_name(s), err);
    err[0] = 0;
    s = kc::adam_f64(3, a.data(), b.data(), c.data(), d.data(), hnan, 7, err, sizeof err);
    if (s != kx::E_RANGE) fail("adam NaN eps: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "adam NaN eps", kx::status_name(s), err);
    err[0] = 0;
    s = kc::adam_f64(-1, a.data(), b.data(), c.data(), d.data(), hnan, 7, err, sizeof err);
    if (s != kx::E_SHAPE) fail("adam n = -1: got %s", kx::status_name(s));
    printf("  %-40s %s: %s\n", "adam n = -1", kx::status_name(s), err);
    const double h7[7] = {1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001};
    s = kc::adam_f64(0, nullptr, nullptr, nullptr, nullptr, h7, 7, err, sizeof err);
    if (s != kx::OK) fail("adam n = 0: got %s", kx::status_name(s));
    printf("  %-40s %s\n", "adam n = 0 (no device needed)", kx::status_name(s));
    for (double v : a)
      if (v != 1.0) { fail("adam wrote params on error"); break; }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CheckArgs args;
  args.reps = 20;
  if (!parse_check_args(argc, argv, &args)) return 2;
  printf("kexue CUDA mlp training check, seed %llu (rerun with --seed %llu)\n", (unsigned long long)args.seed,
         (unsigned long long)args.seed);
  uint64_t rng = args.seed;
  check_errors(&rng);
  char reason[256] = {0};
  const int ndev = kc::device_count(reason, sizeof reason);
  if (ndev == 0) {
    // Without a device a valid call must report it, not crash.
    const Problem p = make(&rng, {3, 2}, {0}, 1);
    Vec acts((size_t)p.acts_len, 0.0);
    char err[512] = {0};
    const Status s = gpu_forward(p, &acts, err, sizeof err);
    return ck::finish_without_device(s, err, reason);
  }
  CK(cudaFree(nullptr));
  printf("random MLPs against the CPU kernels:\n");
  for (int a1 = 0; a1 <= 4; ++a1) {
    for (int a2 = 0; a2 <= 5; ++a2) {
      for (int64_t batch : {1, 7, 300}) {
        char name[128];
        if (a2 == 5) {
          snprintf(name, sizeof name, "17-33-5 %s/softmax", kActName[a1]);
          compare(name, make(&rng, {17, 33, 5}, {a1, 5}, batch), false, 1);
        } else {
          const int a3 = (a1 + a2) % 6;
          snprintf(name, sizeof name, "17-33-19-5 %s/%s/%s", kActName[a1], kActName[a2], kActName[a3]);
          compare(name, make(&rng, {17, 33, 19, 5}, {a1, a2, a3}, batch), false, 1);
        }
      }
    }
  }
  for (int a = 0; a <= 5; ++a) {
    char name[64];
    snprintf(name, sizeof name, "9-7 %s (one layer)", kActName[a]);
    compare(name, make(&rng, {9, 7}, {a}, 7), false, 1);
  }
  {
    Problem p = make(&rng, {40, 300, 2}, {2, 4}, 70);
    p.grad_x = false;
    compare("40-300-2 gelu/sigmoid, no gradX", p, false, 1);
  }
  // More rows than the grid's y dimension takes in one launch (65535 tiles of 16): the GEMMs run
  // in row slices. The weight-gradient GEMM has d_l rows, so a wide layer tests that side.
  compare("2-3-1 tanh/identity, batch 1100000 (row slices)", make(&rng, {2, 3, 1}, {3, 0}, 1100000), false, 1);
  compare("1-1100000-1 relu/identity, batch 2 (row slices)", make(&rng, {1, 1100000, 1}, {1, 0}, 2), false, 1);
  printf("training-step sizes (timings include host transfers):\n");
  compare("2-128-128-1 tanh/tanh/identity", make(&rng, {2, 128, 128, 1}, {3, 3, 0}, 256), args.do_bench, args.reps);
  compare("784-256-256-10 relu/relu/softmax", make(&rng, {784, 256, 256, 10}, {1, 1, 5}, 128), args.do_bench,
          args.reps);
  printf("adam against the CPU kernel (bit for bit):\n");
  for (int64_t n : {1, 7, 100003, 269322}) compare_adam(&rng, n);
  return ck::finish("mlp training");
}
