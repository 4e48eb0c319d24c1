// N-API binding of the fused integrated-gradients kernel for the built-in MLP (native/core/mlp.h,
// Kernels.igMlp in lib/backends/types.ts). Positional arguments; every length is checked here
// against the spec (and the outputs against overlapping the inputs) before the kernel sees it.
//   igMlp(spec, params, batch, x, base, target, alphas, weights, avgGrad, outputs[, pointsPerBatch])
//       Float64Array everywhere but target (Int32Array); spec = [L, d_0..d_L, act_1..act_L];
//       x, base, avgGrad [batch, d_0]; target [batch]; alphas, weights [steps >= 1];
//       outputs [2 batch] = F(x_b), F(base_b). pointsPerBatch (optional, tests): path points per
//       internal batch, 0 or absent for the kernel's choice (the results do not depend on it).
//   cuda.igMlp / cuda.igMlpAsync (CUDA builds): the same arguments on kx::cuda::ig_mlp_f64.
#include "ops_mlp.h"

#include <string>

#include "mlp.h"
#include "op_call.h"
#if defined(KX_WITH_CUDA)
#include "kx_cuda.h"
#endif
#include "thread_pool.h"

namespace kxnapi {

namespace {

bool fail(const Napi::CallbackInfo& info, const std::string& msg, const char* code = "E_SHAPE") {
  return throw_range(info, "kexue native igMlp: ", msg, code);
}

bool len_is(const Napi::CallbackInfo& info, const char* what, size_t len, int64_t want, const char* expr) {
  if ((int64_t)len == want) return true;
  return fail(info, std::string(what) + " has " + std::to_string(len) + " elements, expected " + expr + " = " +
                        std::to_string(want));
}

// Cuda: the `cuda` object's form (kx::cuda::ig_mlp_f64; pointsPerBatch is accepted and ignored).
template <bool Cuda>
bool parse_ig_mlp(const Napi::CallbackInfo& info, OpCall* call) {
  double *spec, *params, *x, *base, *alphas, *weights, *avg, *out;
  void* tgt = nullptr;
  size_t ns, np, nx, nb, nt, na, nw, ng, no;
  int64_t batch, ppb = 0;
  if (!arg_float64(info, 0, "spec", &spec, &ns, call) || !arg_float64(info, 1, "params", &params, &np, call) ||
      !arg_int64(info, 2, "batch", &batch) || !arg_float64(info, 3, "x", &x, &nx, call) ||
      !arg_float64(info, 4, "base", &base, &nb, call) ||
      !arg_typed(info, 5, napi_int32_array, "target", &tgt, &nt, call) ||
      !arg_float64(info, 6, "alphas", &alphas, &na, call) || !arg_float64(info, 7, "weights", &weights, &nw, call) ||
      !arg_float64(info, 8, "avgGrad", &avg, &ng, call) || !arg_float64(info, 9, "outputs", &out, &no, call))
    return false;
  spec = own_copy(call, spec, ns);  // checked and used as this copy: JS cannot change it mid-call
  if (info.Length() > 10 && !info[10].IsUndefined() && !arg_int64(info, 10, "pointsPerBatch", &ppb)) return false;
  if (ppb < 0) return fail(info, "pointsPerBatch must be >= 0", "E_RANGE");
  if (batch < 0 || batch > 2147483647) return fail(info, "batch must be in [0, 2^31)", "E_RANGE");
  int64_t L, d0, dL, plen;
  const char* why = nullptr;
  if (kx::ig_mlp_check_spec(spec, (int64_t)ns, &L, &d0, &dL, &plen, &why) != kx::OK) return fail(info, why);
  if (!len_is(info, "params", np, plen, "sum_l d_l (d_{l-1} + 1)") || !len_is(info, "x", nx, batch * d0, "batch * d_0") ||
      !len_is(info, "base", nb, batch * d0, "batch * d_0") || !len_is(info, "target", nt, batch, "batch") ||
      !len_is(info, "avgGrad", ng, batch * d0, "batch * d_0") || !len_is(info, "outputs", no, 2 * batch, "2 * batch"))
    return false;
  if (na < 1) return fail(info, "alphas must have at least one element");
  if (!len_is(info, "weights", nw, (int64_t)na, "alphas.length")) return false;
  const size_t B8 = 8;
  const void* ins[7] = {spec, params, x, base, tgt, alphas, weights};
  const size_t inb[7] = {ns * B8, np * B8, nx * B8, nb * B8, nt * 4, na * B8, nw * B8};
  const char* names[7] = {"spec", "params", "x", "base", "target", "alphas", "weights"};
  for (int i = 0; i < 7; ++i) {
    if (bytes_overlap(avg, ng * B8, ins[i], inb[i])) return fail(info, std::string("avgGrad must not overlap ") + names[i], "E_RANGE");
    if (bytes_overlap(out, no * B8, ins[i], inb[i])) return fail(info, std::string("outputs must not overlap ") + names[i], "E_RANGE");
  }
  if (bytes_overlap(avg, ng * B8, out, no * B8)) return fail(info, "avgGrad must not overlap outputs", "E_RANGE");
  const int32_t* target = static_cast<const int32_t*>(tgt);
  const int64_t steps = (int64_t)na;
#if defined(KX_WITH_CUDA)
  if (Cuda) {
    call->run = [=](std::string* err) {
      char buf[512] = {0};
      const kx::Status s = kx::cuda::ig_mlp_f64(spec, (int64_t)ns, params, (int64_t)np, batch, x, base, target, alphas,
                                                weights, steps, avg, out, buf, sizeof buf);
      if (s != kx::OK) *err = std::string("kexue cuda igMlp: ") + buf;
      return s;
    };
    return true;
  }
#endif
  call->run = [=](std::string* err) {
    const char* w = nullptr;
    const kx::Status s = kx::ig_mlp_f64(pool(), spec, (int64_t)ns, params, (int64_t)np, batch, x, base, target, steps,
                                        alphas, weights, avg, out, ppb, &w);
    if (s != kx::OK && w != nullptr) *err = std::string("kexue native igMlp: ") + w;
    return s;
  };
  return true;
}

}  // namespace

void register_mlp_ops(Napi::Env env, Napi::Object exports) { KX_EXPORT_OP(exports, "igMlp", parse_ig_mlp<false>); }

// The cuda object's igMlp / igMlpAsync: same arguments, the GPU kernel (native/cuda/ig_mlp.cu).
void register_cuda_mlp_ops(Napi::Env env, Napi::Object cuda) {
#if defined(KX_WITH_CUDA)
  KX_EXPORT_OP(cuda, "igMlp", parse_ig_mlp<true>);
#else
  (void)env;
  (void)cuda;
#endif
}

}  // namespace kxnapi
