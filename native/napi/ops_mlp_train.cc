// N-API binding of the built-in MLP's training kernels (native/core/mlp.h: mlp_forward_f64,
// mlp_backward_f64, adam_f64; Kernels.mlpForward / mlpBackward / adam in lib/backends/types.ts).
// Positional arguments, Float64Array everywhere; every length is checked here against the spec
// (and the outputs against overlapping the inputs and each other) before a kernel sees it.
//   mlpForward(spec, params, batch, x, acts)
//       x [batch, d_0]; acts [2 batch (d_1 + ... + d_L)] receives z_1, a_1, ..., z_L, a_L.
//   mlpBackward(spec, params, batch, x, acts, gradOut, gradParams, gradX)
//       acts from mlpForward; gradOut [batch, d_L]; gradParams [params.length];
//       gradX [batch, d_0], or zero-length (or null) to skip it.
//   adam(params, grads, m, v, hyper)
//       params, m, v updated in place; grads, m, v of params' length;
//       hyper = [lr, beta1, beta2, eps, weightDecay, bc1, bc2] (bc = 1 - beta^t, from the caller).
//   cuda.mlpForward / cuda.mlpBackward / cuda.adam (+ Async; CUDA builds): the same arguments on
//       native/cuda/mlp_train.cu.
#include "ops_mlp_train.h"

#include <string>

#include "mlp.h"
#include "op_call.h"
#if defined(KX_WITH_CUDA)
#include "kx_cuda.h"
#endif

namespace kxnapi {

namespace {

constexpr size_t B8 = sizeof(double);

bool fail(const Napi::CallbackInfo& info, const char* op, const std::string& msg, const char* code = "E_SHAPE") {
  return throw_range(info, std::string("kexue native ") + op + ": ", msg, code);
}

bool len_is(const Napi::CallbackInfo& info, const char* op, const char* what, size_t len, int64_t want,
            const char* expr) {
  if ((int64_t)len == want) return true;
  return fail(info, op, std::string(what) + " has " + std::to_string(len) + " elements, expected " + expr + " = " +
                            std::to_string(want));
}

// An output must not share memory with any input nor with another output.
struct Region {
  const char* name;
  const void* p;
  size_t bytes;
};
bool disjoint(const Napi::CallbackInfo& info, const char* op, const Region* outs, int nout, const Region* ins,
              int nin) {
  for (int o = 0; o < nout; ++o) {
    for (int i = 0; i < nin; ++i)
      if (bytes_overlap(outs[o].p, outs[o].bytes, ins[i].p, ins[i].bytes))
        return fail(info, op, std::string(outs[o].name) + " must not overlap " + ins[i].name, "E_RANGE");
    for (int i = 0; i < o; ++i)
      if (bytes_overlap(outs[o].p, outs[o].bytes, outs[i].p, outs[i].bytes))
        return fail(info, op, std::string(outs[o].name) + " must not overlap " + outs[i].name, "E_RANGE");
  }
  return true;
}

// spec, params, batch and x (arguments 0..3), checked; *d0, *dL, *acts_len follow from the spec.
bool parse_net(const Napi::CallbackInfo& info, const char* op, OpCall* call, double** spec, size_t* ns, double** params,
               size_t* np, int64_t* batch, double** x, size_t* nx, int64_t* d0, int64_t* dL, int64_t* acts_len) {
  if (!arg_float64(info, 0, "spec", spec, ns, call) || !arg_float64(info, 1, "params", params, np, call) ||
      !arg_int64(info, 2, "batch", batch) || !arg_float64(info, 3, "x", x, nx, call))
    return false;
  *spec = own_copy(call, *spec, *ns);  // checked and used as this copy: JS cannot change it mid-call
  if (*batch < 0 || *batch > 2147483647) return fail(info, op, "batch must be in [0, 2^31)", "E_RANGE");
  int64_t L, plen;
  const char* why = nullptr;
  if (kx::ig_mlp_check_spec(*spec, (int64_t)*ns, &L, d0, dL, &plen, &why) != kx::OK) return fail(info, op, why);
  *acts_len = kx::mlp_acts_len(*spec, L, *batch);
  if (*acts_len < 0) return fail(info, op, "batch * (d_1 + ... + d_L) is too large");
  return len_is(info, op, "params", *np, plen, "sum_l d_l (d_{l-1} + 1)") &&
         len_is(info, op, "x", *nx, *batch * *d0, "batch * d_0");
}

template <bool Cuda>
bool parse_forward(const Napi::CallbackInfo& info, OpCall* call) {
  const char* op = Cuda ? "cuda.mlpForward" : "mlpForward";
  double *spec, *params, *x, *acts;
  size_t ns, np, nx, na;
  int64_t batch, d0, dL, alen;
  if (!parse_net(info, op, call, &spec, &ns, &params, &np, &batch, &x, &nx, &d0, &dL, &alen) ||
      !arg_float64(info, 4, "acts", &acts, &na, call) ||
      !len_is(info, op, "acts", na, alen, "2 batch (d_1 + ... + d_L)"))
    return false;
  const Region outs[1] = {{"acts", acts, na * B8}};
  const Region ins[3] = {{"spec", spec, ns * B8}, {"params", params, np * B8}, {"x", x, nx * B8}};
  if (!disjoint(info, op, outs, 1, ins, 3)) return false;
#if defined(KX_WITH_CUDA)
  if (Cuda) {
    call->run = [=](std::string* err) {
      char buf[512] = {0};
      const kx::Status s = kx::cuda::mlp_forward_f64(spec, (int64_t)ns, params, (int64_t)np, batch, x, (int64_t)nx,
                                                     acts, (int64_t)na, buf, sizeof buf);
      if (s != kx::OK) *err = std::string("kexue cuda mlpForward: ") + buf;
      return s;
    };
    return true;
  }
#endif
  call->run = [=](std::string* err) {
    const char* w = nullptr;
    const kx::Status s = kx::mlp_forward_f64(pool(), spec, (int64_t)ns, params, (int64_t)np, batch, x, (int64_t)nx,
                                             acts, (int64_t)na, &w);
    if (s != kx::OK && w != nullptr) *err = std::string("kexue native mlpForward: ") + w;
    return s;
  };
  return true;
}

template <bool Cuda>
bool parse_backward(const Napi::CallbackInfo& info, OpCall* call) {
  const char* op = Cuda ? "cuda.mlpBackward" : "mlpBackward";
  double *spec, *params, *x, *acts, *gout, *gp, *gx;
  size_t ns, np, nx, na, ngo, ngp, ngx;
  int64_t batch, d0, dL, alen;
  if (!parse_net(info, op, call, &spec, &ns, &params, &np, &batch, &x, &nx, &d0, &dL, &alen) ||
      !arg_float64(info, 4, "acts", &acts, &na, call) || !arg_float64(info, 5, "gradOut", &gout, &ngo, call) ||
      !arg_float64(info, 6, "gradParams", &gp, &ngp, call) || !arg_float64(info, 7, "gradX", &gx, &ngx, call, true))
    return false;
  if (!len_is(info, op, "acts", na, alen, "2 batch (d_1 + ... + d_L)") ||
      !len_is(info, op, "gradOut", ngo, batch * dL, "batch * d_L") ||
      !len_is(info, op, "gradParams", ngp, (int64_t)np, "params.length"))
    return false;
  if (ngx != 0 && !len_is(info, op, "gradX", ngx, batch * d0, "0 or batch * d_0")) return false;
  const Region outs[2] = {{"gradParams", gp, ngp * B8}, {"gradX", gx, ngx * B8}};
  const Region ins[5] = {{"spec", spec, ns * B8},
                         {"params", params, np * B8},
                         {"x", x, nx * B8},
                         {"acts", acts, na * B8},
                         {"gradOut", gout, ngo * B8}};
  if (!disjoint(info, op, outs, 2, ins, 5)) return false;
#if defined(KX_WITH_CUDA)
  if (Cuda) {
    call->run = [=](std::string* err) {
      char buf[512] = {0};
      const kx::Status s =
          kx::cuda::mlp_backward_f64(spec, (int64_t)ns, params, (int64_t)np, batch, x, (int64_t)nx, acts, (int64_t)na,
                                     gout, (int64_t)ngo, gp, (int64_t)ngp, gx, (int64_t)ngx, buf, sizeof buf);
      if (s != kx::OK) *err = std::string("kexue cuda mlpBackward: ") + buf;
      return s;
    };
    return true;
  }
#endif
  call->run = [=](std::string* err) {
    const char* w = nullptr;
    const kx::Status s = kx::mlp_backward_f64(pool(), spec, (int64_t)ns, params, (int64_t)np, batch, x, (int64_t)nx,
                                              acts, (int64_t)na, gout, (int64_t)ngo, gp, (int64_t)ngp, gx,
                                              (int64_t)ngx, &w);
    if (s != kx::OK && w != nullptr) *err = std::string("kexue native mlpBackward: ") + w;
    return s;
  };
  return true;
}

template <bool Cuda>
bool parse_adam(const Napi::CallbackInfo& info, OpCall* call) {
  const char* op = Cuda ? "cuda.adam" : "adam";
  double *p, *g, *m, *v, *h;
  size_t np, ng, nm, nv, nh;
  if (!arg_float64(info, 0, "params", &p, &np, call) || !arg_float64(info, 1, "grads", &g, &ng, call) ||
      !arg_float64(info, 2, "m", &m, &nm, call) || !arg_float64(info, 3, "v", &v, &nv, call) ||
      !arg_float64(info, 4, "hyper", &h, &nh, call))
    return false;
  if (!len_is(info, op, "grads", ng, (int64_t)np, "params.length") ||
      !len_is(info, op, "m", nm, (int64_t)np, "params.length") ||
      !len_is(info, op, "v", nv, (int64_t)np, "params.length") ||
      !len_is(info, op, "hyper", nh, 7, "[lr, beta1, beta2, eps, weightDecay, bc1, bc2].length"))
    return false;
  const Region outs[3] = {{"params", p, np * B8}, {"m", m, nm * B8}, {"v", v, nv * B8}};
  const Region ins[2] = {{"grads", g, ng * B8}, {"hyper", h, nh * B8}};
  if (!disjoint(info, op, outs, 3, ins, 2)) return false;
  const int64_t n = (int64_t)np;
#if defined(KX_WITH_CUDA)
  if (Cuda) {
    call->run = [=](std::string* err) {
      char buf[512] = {0};
      const kx::Status s = kx::cuda::adam_f64(n, p, g, m, v, h, (int64_t)nh, buf, sizeof buf);
      if (s != kx::OK) *err = std::string("kexue cuda adam: ") + buf;
      return s;
    };
    return true;
  }
#endif
  call->run = [=](std::string* err) {
    const char* w = nullptr;
    const kx::Status s = kx::adam_f64(pool(), n, p, g, m, v, h, (int64_t)nh, &w);
    if (s != kx::OK && w != nullptr) *err = std::string("kexue native adam: ") + w;
    return s;
  };
  return true;
}

}  // namespace

void register_mlp_train_ops(Napi::Env env, Napi::Object exports) {
  KX_EXPORT_OP(exports, "mlpForward", parse_forward<false>);
  KX_EXPORT_OP(exports, "mlpBackward", parse_backward<false>);
  KX_EXPORT_OP(exports, "adam", parse_adam<false>);
}

void register_cuda_mlp_train_ops(Napi::Env env, Napi::Object cuda) {
#if defined(KX_WITH_CUDA)
  KX_EXPORT_OP(cuda, "mlpForward", parse_forward<true>);
  KX_EXPORT_OP(cuda, "mlpBackward", parse_backward<true>);
  KX_EXPORT_OP(cuda, "adam", parse_adam<true>);
#else
  (void)env;
  (void)cuda;
#endif
}

}  // namespace kxnapi
