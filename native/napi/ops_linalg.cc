// N-API bindings of the float64 linear algebra of the W2 route (native/core/linalg.h). Positional
// arguments, Float64Array only; every size is checked here against the arrays' lengths (and
// outputs against overlapping inputs) before a kernel sees it.
//   linalgGemm(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta)
//       c = alpha op(a) op(b) + beta c (row-major; op(a) m x k, op(b) k x n)
//   linalgCholesky(n, a, L, info)      L = chol(a) (lower triangle of a read); info: Float64Array(1)
//       gets the failing pivot (-1 on success); a pivot that is not positive throws E_RANGE
//   linalgEigvals(n, a, values)        eigenvalues of a (lower triangle read), ascending
//   linalgW2Trace(n, s1, s2, out)      out: Float64Array(2) = [trace, failedAt]; trace =
//       sum sqrt(max(lambda(L^T s2 L), 0)), s1 = L L^T; s1 not positive definite throws E_RANGE
//       with out[1] = the failing pivot (the caller then takes the eigh route)
#include "ops_linalg.h"

#include <functional>
#include <string>
#include <vector>

#include "linalg.h"
#include "op_call.h"
#if defined(KX_WITH_CUDA)
#include "kx_cuda.h"
#endif
#include "thread_pool.h"

namespace kxnapi {

namespace {

constexpr int64_t kMaxDim = 2147483647;  // products of two sizes stay far from int64 overflow

bool fail(const Napi::CallbackInfo& info, const std::string& msg, const char* code = "E_SHAPE") {
  return throw_range(info, "kexue native linalg: ", msg, code);
}

bool arg_size(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t* out) {
  if (!arg_int64(info, i, what, out)) return false;
  if (*out < 0 || *out > kMaxDim) return fail(info, std::string(what) + " must be in [0, 2^31)", "E_RANGE");
  return true;
}

bool arg_f64(const Napi::CallbackInfo& info, size_t i, const char* what, double** data, size_t* len, OpCall* call) {
  void* d = nullptr;
  if (!arg_typed(info, i, napi_float64_array, what, &d, len, call)) return false;
  *data = static_cast<double*>(d);
  return true;
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* what, bool* out) {
  if (!info[i].IsBoolean()) {
    Napi::TypeError e = Napi::TypeError::New(info.Env(), std::string("kexue native: argument ") + std::to_string(i) +
                                                             " (" + what + ") must be a boolean");
    e.Set("code", Napi::String::New(info.Env(), "E_DTYPE"));
    e.ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::Boolean>().Value();
  return true;
}

// Elements a rows x cols matrix with leading dimension ld spans.
int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

bool overlap(const double* a, size_t na, const double* b, size_t nb) {
  if (na == 0 || nb == 0) return false;
  return a < b + nb && b < a + na;
}

bool parse_gemm(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t m, n, k, lda, ldb, ldc;
  bool ta, tb;
  double *a, *b, *c, alpha, beta;
  size_t na, nb, nc;
  if (!arg_size(info, 0, "m", &m) || !arg_size(info, 1, "n", &n) || !arg_size(info, 2, "k", &k) ||
      !arg_f64(info, 3, "a", &a, &na, call) || !arg_size(info, 4, "lda", &lda) || !arg_bool(info, 5, "transA", &ta) ||
      !arg_f64(info, 6, "b", &b, &nb, call) || !arg_size(info, 7, "ldb", &ldb) || !arg_bool(info, 8, "transB", &tb) ||
      !arg_f64(info, 9, "c", &c, &nc, call) || !arg_size(info, 10, "ldc", &ldc) ||
      !arg_number(info, 11, "alpha", &alpha) || !arg_number(info, 12, "beta", &beta))
    return false;
  const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  if (lda < ac || lda < 1) return fail(info, "lda " + std::to_string(lda) + " is below the row length " + std::to_string(ac));
  if (ldb < bc || ldb < 1) return fail(info, "ldb " + std::to_string(ldb) + " is below the row length " + std::to_string(bc));
  if (ldc < n || ldc < 1) return fail(info, "ldc " + std::to_string(ldc) + " is below n = " + std::to_string(n));
  if (span(ar, ac, lda) > (int64_t)na) return fail(info, "a has " + std::to_string(na) + " elements, too few for its shape");
  if (span(br, bc, ldb) > (int64_t)nb) return fail(info, "b has " + std::to_string(nb) + " elements, too few for its shape");
  if (span(m, n, ldc) > (int64_t)nc) return fail(info, "c has " + std::to_string(nc) + " elements, too few for m x n");
  if (m > 0 && n > 0 && (overlap(c, nc, a, na) || overlap(c, nc, b, nb))) return fail(info, "c must not overlap a or b", "E_RANGE");
  call->run = [=](std::string*) { return kx::gemm_f64(pool(), m, n, k, a, lda, ta, b, ldb, tb, c, ldc, alpha, beta); };
  return true;
}

bool square(const Napi::CallbackInfo& info, const char* what, int64_t n, size_t len) {
  if ((int64_t)len != n * n)
    return fail(info, std::string(what) + " has " + std::to_string(len) + " elements, expected n * n = " + std::to_string(n * n));
  return true;
}

bool parse_cholesky(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t n;
  double *a, *L, *out;
  size_t na, nl, no;
  if (!arg_size(info, 0, "n", &n) || !arg_f64(info, 1, "a", &a, &na, call) || !arg_f64(info, 2, "L", &L, &nl, call) ||
      !arg_f64(info, 3, "info", &out, &no, call))
    return false;
  if (!square(info, "a", n, na) || !square(info, "L", n, nl)) return false;
  if (no != 1) return fail(info, "info must be a Float64Array(1)");
  if (L != a && overlap(L, nl, a, na)) return fail(info, "L must be a itself or not overlap it", "E_RANGE");
  call->run = [=](std::string* err) {
    int64_t failed = -1;
    const kx::Status s = kx::cholesky_f64(pool(), n, a, L, &failed);
    out[0] = (double)failed;
    if (s == kx::E_RANGE)
      *err = "kexue native linalgCholesky: the matrix is not positive definite (pivot " + std::to_string(failed) + ")";
    return s;
  };
  return true;
}

bool parse_eigvals(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t n;
  double *a, *v;
  size_t na, nv;
  if (!arg_size(info, 0, "n", &n) || !arg_f64(info, 1, "a", &a, &na, call) || !arg_f64(info, 2, "values", &v, &nv, call))
    return false;
  if (!square(info, "a", n, na)) return false;
  if ((int64_t)nv != n) return fail(info, "values has " + std::to_string(nv) + " elements, expected n = " + std::to_string(n));
  call->run = [=](std::string* err) {
    const kx::Status s = kx::syevals_f64(pool(), n, a, v);
    if (s == kx::E_RANGE) *err = "kexue native linalgEigvals: the matrix has non-finite entries";
    if (s == kx::E_INTERNAL) *err = "kexue native linalgEigvals: the QL iteration did not converge";
    return s;
  };
  return true;
}

bool parse_w2(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t n;
  double *s1, *s2, *out;
  size_t n1, n2, no;
  if (!arg_size(info, 0, "n", &n) || !arg_f64(info, 1, "s1", &s1, &n1, call) || !arg_f64(info, 2, "s2", &s2, &n2, call) ||
      !arg_f64(info, 3, "out", &out, &no, call))
    return false;
  if (!square(info, "s1", n, n1) || !square(info, "s2", n, n2)) return false;
  if (no != 2) return fail(info, "out must be a Float64Array(2) [trace, failedAt]");
  call->run = [=](std::string* err) {
    int64_t failed = -1;
    double trace = 0;
    const kx::Status s = kx::w2_trace_f64(pool(), n, s1, s2, &trace, &failed);
    out[0] = trace;
    out[1] = (double)failed;
    if (s == kx::E_RANGE)
      *err = failed >= 0 ? "kexue native linalgW2Trace: S1 is not positive definite (pivot " + std::to_string(failed) + ")"
                         : std::string("kexue native linalgW2Trace: L^T S2 L has non-finite entries");
    if (s == kx::E_INTERNAL) *err = "kexue native linalgW2Trace: the QL iteration did not converge";
    return s;
  };
  return true;
}


// ---- batched kernels of the Kernels interface (lib/backends/types.ts) ---------------------------

// Runs fn(c, ex) for every matrix c of a batch: small matrices in parallel over the batch (each
// single-threaded), large ones one after another with the pool. The kernels' results do not
// depend on the thread count, so both ways give the same bits.
constexpr int64_t kBatchParallelMaxN = 96;

struct BatchJob {
  std::function<kx::Status(int64_t, const kx::Exec*)> fn;
  kx::Status* status;  // per matrix
};

void batch_range(void* ctx, int64_t begin, int64_t end) {
  BatchJob& j = *static_cast<BatchJob*>(ctx);
  for (int64_t c = begin; c < end; ++c) j.status[c] = j.fn(c, nullptr);
}

// Returns the first failing matrix's status (and its index in *which), else OK.
kx::Status run_batch(int64_t count, int64_t n, const std::function<kx::Status(int64_t, const kx::Exec*)>& fn, int64_t* which) {
  *which = -1;
  if (count > 1 && n <= kBatchParallelMaxN) {
    std::vector<kx::Status> st((size_t)count, kx::OK);
    BatchJob j{fn, st.data()};
    kx::parallel_for(pool(), count, 1, batch_range, &j);
    for (int64_t c = 0; c < count; ++c)
      if (st[(size_t)c] != kx::OK) return *which = c, st[(size_t)c];
    return kx::OK;
  }
  for (int64_t c = 0; c < count; ++c) {
    const kx::Status s = fn(c, pool());
    if (s != kx::OK) return *which = c, s;
  }
  return kx::OK;
}

bool batch_sizes(const Napi::CallbackInfo& info, int64_t* count, int64_t* n) {
  if (!arg_size(info, 0, "count", count) || !arg_size(info, 1, "n", n)) return false;
  if (*n > 46340) return fail(info, "n must be below 46341", "E_RANGE");
  return true;
}

bool len_is(const Napi::CallbackInfo& info, const char* what, size_t len, int64_t want) {
  if ((int64_t)len != want)
    return fail(info, std::string(what) + " has " + std::to_string(len) + " elements, expected " + std::to_string(want));
  return true;
}

// linalgCholeskyBatch(count, n, a, L, info): L[c] = chol(a[c]); info[c] = the failing pivot or -1
// (a matrix that is not positive definite gets L = 0 and does not make the call fail).
template <bool Cuda>
bool parse_cholesky_batch(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t count, n;
  double *a, *L, *out;
  size_t na, nl, no;
  if (!batch_sizes(info, &count, &n) || !arg_f64(info, 2, "a", &a, &na, call) || !arg_f64(info, 3, "L", &L, &nl, call) ||
      !arg_f64(info, 4, "info", &out, &no, call))
    return false;
  if (!len_is(info, "a", na, count * n * n) || !len_is(info, "L", nl, count * n * n) || !len_is(info, "info", no, count)) return false;
  if (L != a && overlap(L, nl, a, na)) return fail(info, "L must be a itself or not overlap it", "E_RANGE");
#if defined(KX_WITH_CUDA)
  if (Cuda && n <= kx::cuda::kBatchedMaxN && L != a) {
    call->run = [=](std::string* err) {
      std::vector<int64_t> failed((size_t)(count > 0 ? count : 1), -1);
      char buf[512] = {0};
      const kx::Status s = kx::cuda::cholesky_batched_f64(count, n, a, L, failed.data(), buf, sizeof buf);
      for (int64_t c = 0; c < count; ++c) out[c] = (double)failed[(size_t)c];
      if (s != kx::OK) *err = std::string("kexue cuda cholesky: ") + buf;
      return s;
    };
    return true;
  }
#endif
  call->run = [=](std::string*) {
    int64_t which;
    return run_batch(count, n, [=](int64_t c, const kx::Exec* ex) {
      int64_t failed = -1;
      const kx::Status s = kx::cholesky_f64(ex, n, a + c * n * n, L + c * n * n, &failed);
      out[c] = (double)failed;
      return s == kx::E_RANGE ? kx::OK : s;
    }, &which);
  };
  return true;
}

// linalgEigh(count, n, a, values, vectors | null)
template <bool Cuda>
bool parse_eigh(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t count, n;
  double *a, *w, *v = nullptr;
  size_t na, nw, nv = 0;
  if (!batch_sizes(info, &count, &n) || !arg_f64(info, 2, "a", &a, &na, call) || !arg_f64(info, 3, "values", &w, &nw, call))
    return false;
  void* vp = nullptr;
  if (!arg_typed(info, 4, napi_float64_array, "vectors", &vp, &nv, call, true)) return false;
  v = static_cast<double*>(vp);
  if (!len_is(info, "a", na, count * n * n) || !len_is(info, "values", nw, count * n)) return false;
  if (v != nullptr && !len_is(info, "vectors", nv, count * n * n)) return false;
  if (overlap(w, nw, a, na) || (v != nullptr && (overlap(v, nv, a, na) || overlap(v, nv, w, nw))))
    return fail(info, "the outputs must not overlap a or each other", "E_RANGE");
#if defined(KX_WITH_CUDA)
  if (Cuda && n <= kx::cuda::kBatchedMaxN) {
    call->run = [=](std::string* err) {
      char buf[512] = {0};
      const kx::Status s = kx::cuda::eigh_batched_f64(count, n, a, w, v, buf, sizeof buf);
      if (s != kx::OK) *err = std::string("kexue cuda eigh: ") + buf;
      return s;
    };
    return true;
  }
#endif
  call->run = [=](std::string* err) {
    int64_t which;
    const kx::Status s = run_batch(count, n, [=](int64_t c, const kx::Exec* ex) {
      return v != nullptr ? kx::syevd_f64(ex, n, a + c * n * n, w + c * n, v + c * n * n) : kx::syevals_f64(ex, n, a + c * n * n, w + c * n);
    }, &which);
    if (s == kx::E_RANGE) *err = "kexue native linalgEigh: matrix " + std::to_string(which) + " has non-finite entries";
    if (s == kx::E_INTERNAL) *err = "kexue native linalgEigh: the QL iteration did not converge (matrix " + std::to_string(which) + ")";
    return s;
  };
  return true;
}

// linalgSqrtm(count, n, a, x, params, info): params = [method, inverse, tol, maxIterations];
// a and x both Float64Array or both Float32Array (float32 runs in float64 and rounds);
// info[3c..3c+3) = [status, iterations, residual] of matrix c, status 0 or a kx::Status code
// (E_NOT_SPD, E_NO_CONVERGENCE, E_RANGE for non-finite entries): those do not make the call fail.
template <bool Cuda>
bool parse_sqrtm(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t count, n;
  double *params, *out;
  size_t np, no, na, nx;
  void *a, *x;
  if (!batch_sizes(info, &count, &n)) return false;
  const bool f32 = info[2].IsTypedArray() && info[2].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  const napi_typedarray_type t = f32 ? napi_float32_array : napi_float64_array;
  if (!arg_typed(info, 2, t, "a", &a, &na, call) || !arg_typed(info, 3, t, "x", &x, &nx, call) ||
      !arg_f64(info, 4, "params", &params, &np, call) || !arg_f64(info, 5, "info", &out, &no, call))
    return false;
  if (!len_is(info, "a", na, count * n * n) || !len_is(info, "x", nx, count * n * n) || !len_is(info, "params", np, 4) ||
      !len_is(info, "info", no, 3 * count))
    return false;
  const size_t es = f32 ? 4 : 8;
  if (overlap(static_cast<double*>(x), nx * es / 8, static_cast<double*>(a), na * es / 8))
    return fail(info, "x must not overlap a", "E_RANGE");
  const int32_t method = (int32_t)params[0];
  const bool inverse = params[1] != 0;
  const double tol = params[2];
  const int32_t max_it = (int32_t)params[3];
  if (method < 0 || method > 2 || (double)method != params[0]) return fail(info, "params[0] (method) must be 0, 1 or 2", "E_RANGE");
  if (!(tol > 0) || max_it < 1 || (double)max_it != params[3]) return fail(info, "tol must be > 0 and maxIterations a positive integer", "E_RANGE");
#if defined(KX_WITH_CUDA)
  if (Cuda && method == kx::SQRTM_NEWTON_SCHULZ) {
    // Newton-Schulz on the GPU (float32 in float32 with float64 residuals; float64 in float64).
    // It stops at the first residual below tol; per-matrix status from the residuals.
    call->run = [=](std::string* err) {
      std::vector<int32_t> its((size_t)(count > 0 ? count : 1), 0);
      std::vector<double> res((size_t)(count > 0 ? count : 1), 0.0);
      char buf[512] = {0};
      const kx::Status s = f32 ? kx::cuda::sqrtm_newton_schulz_f32(count, n, static_cast<const float*>(a), static_cast<float*>(x), inverse, tol,
                                                                   max_it, its.data(), res.data(), buf, sizeof buf)
                               : kx::cuda::sqrtm_newton_schulz_f64(count, n, static_cast<const double*>(a), static_cast<double*>(x), inverse, tol,
                                                                   max_it, its.data(), res.data(), buf, sizeof buf);
      if (s != kx::OK && s != kx::E_NO_CONVERGENCE && s != kx::E_NOT_SPD && s != kx::E_RANGE) {
        *err = std::string("kexue cuda sqrtm: ") + buf;
        return s;
      }
      for (int64_t c = 0; c < count; ++c) {
        const double r = res[(size_t)c];
        const kx::Status sc = s == kx::E_RANGE ? kx::E_RANGE : s == kx::E_NOT_SPD && n > 0 ? kx::E_NOT_SPD : r < tol ? kx::OK : kx::E_NO_CONVERGENCE;
        out[3 * c] = (double)sc, out[3 * c + 1] = its[(size_t)c], out[3 * c + 2] = r;
      }
      return kx::OK;
    };
    return true;
  }
#endif
  call->run = [=](std::string*) {
    int64_t which;
    return run_batch(count, n, [=](int64_t c, const kx::Exec* ex) {
      const int64_t nn = n * n;
      const double* ac;
      double* xc;
      double* tmp = nullptr;
      if (f32) {
        tmp = static_cast<double*>(kx::alloc(sizeof(double) * 2 * (size_t)(nn > 0 ? nn : 1)));
        if (tmp == nullptr) return kx::E_OOM;
        const float* af = static_cast<const float*>(a) + c * nn;
        for (int64_t i = 0; i < nn; ++i) tmp[i] = af[i];
        ac = tmp, xc = tmp + nn;
      } else {
        ac = static_cast<const double*>(a) + c * nn, xc = static_cast<double*>(x) + c * nn;
      }
      int32_t it = 0;
      double res = 0;
      kx::Status s = kx::sqrtm_f64(ex, n, ac, xc, method, inverse, tol, max_it, &it, &res);
      if (f32) {
        float* xf = static_cast<float*>(x) + c * nn;
        for (int64_t i = 0; i < nn; ++i) xf[i] = (float)xc[i];
        kx::release(tmp);
      }
      out[3 * c] = (double)s, out[3 * c + 1] = it, out[3 * c + 2] = res;
      return s == kx::E_NOT_SPD || s == kx::E_NO_CONVERGENCE || s == kx::E_RANGE ? kx::OK : s;
    }, &which);
  };
  return true;
}

// linalgSolve(n, m, a, b, x, info): x = a^-1 b (LU with partial pivoting); info[0] = 0, or the
// kx::Status E_RANGE when a is singular.
bool parse_solve(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t n, m;
  double *a, *b, *x, *out;
  size_t na, nb, nx, no;
  if (!arg_size(info, 0, "n", &n) || !arg_size(info, 1, "m", &m) || !arg_f64(info, 2, "a", &a, &na, call) ||
      !arg_f64(info, 3, "b", &b, &nb, call) || !arg_f64(info, 4, "x", &x, &nx, call) || !arg_f64(info, 5, "info", &out, &no, call))
    return false;
  if (n > 46340) return fail(info, "n must be below 46341", "E_RANGE");
  if (!len_is(info, "a", na, n * n) || !len_is(info, "b", nb, n * m) || !len_is(info, "x", nx, n * m) || !len_is(info, "info", no, 1))
    return false;
  if (overlap(x, nx, a, na)) return fail(info, "x must not overlap a", "E_RANGE");
  call->run = [=](std::string*) {
    double* lu = static_cast<double*>(kx::alloc(sizeof(double) * (size_t)(n * n > 0 ? n * n : 1)));
    int64_t* piv = static_cast<int64_t*>(kx::alloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1)));
    kx::Status s = lu == nullptr || piv == nullptr ? kx::E_OOM : kx::OK;
    if (s == kx::OK) {
      for (int64_t i = 0; i < n * n; ++i) lu[i] = a[i];
      if (x != b) for (int64_t i = 0; i < n * m; ++i) x[i] = b[i];
      s = kx::lu_factor_f64(pool(), n, lu, piv);
      if (s == kx::OK) s = kx::lu_solve_f64(pool(), n, m, lu, piv, x);
    }
    kx::release(lu);
    kx::release(piv);
    out[0] = s == kx::E_RANGE ? (double)kx::E_RANGE : 0;
    return s == kx::E_RANGE ? kx::OK : s;
  };
  return true;
}

// linalgFeatureStats(m, n, x, count, mean, comoment): adds the rows of x [m, n] (Float32Array or
// Float64Array) to the running statistics count (Float64Array(1)), mean [n], comoment [n, n], in
// place (native/core/linalg.h feature_stats_update_*).
bool parse_stats(const Napi::CallbackInfo& info, OpCall* call) {
  int64_t m, n;
  double *count, *mean, *cm;
  size_t nx, nk, nm, nc;
  void* x;
  if (!arg_size(info, 0, "m", &m) || !arg_size(info, 1, "n", &n)) return false;
  if (n > 46340) return fail(info, "n must be below 46341", "E_RANGE");
  const bool f32 = info[2].IsTypedArray() && info[2].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  if (!arg_typed(info, 2, f32 ? napi_float32_array : napi_float64_array, "x", &x, &nx, call) ||
      !arg_f64(info, 3, "count", &count, &nk, call) || !arg_f64(info, 4, "mean", &mean, &nm, call) ||
      !arg_f64(info, 5, "comoment", &cm, &nc, call))
    return false;
  if (!len_is(info, "x", nx, m * n) || !len_is(info, "count", nk, 1) || !len_is(info, "mean", nm, n) ||
      !len_is(info, "comoment", nc, n * n))
    return false;
  const size_t xb = nx * (f32 ? 4 : 8);
  if (overlap(static_cast<double*>(x), xb / 8, mean, nm) || overlap(static_cast<double*>(x), xb / 8, cm, nc) || overlap(mean, nm, cm, nc))
    return fail(info, "x, mean and comoment must not overlap", "E_RANGE");
  call->run = [=](std::string* err) {
    const kx::Status s = f32 ? kx::feature_stats_update_f32(pool(), m, n, static_cast<const float*>(x), count, mean, cm)
                             : kx::feature_stats_update_f64(pool(), m, n, static_cast<const double*>(x), count, mean, cm);
    if (s == kx::E_RANGE) *err = "kexue native linalgFeatureStats: the features have non-finite entries";
    return s;
  };
  return true;
}

}  // namespace

void register_linalg_ops(Napi::Env env, Napi::Object exports) {
  KX_EXPORT_OP(exports, "linalgGemm", parse_gemm);
  KX_EXPORT_OP(exports, "linalgCholesky", parse_cholesky);
  KX_EXPORT_OP(exports, "linalgEigvals", parse_eigvals);
  KX_EXPORT_OP(exports, "linalgW2Trace", parse_w2);
  KX_EXPORT_OP(exports, "linalgCholeskyBatch", parse_cholesky_batch<false>);
  KX_EXPORT_OP(exports, "linalgEigh", parse_eigh<false>);
  KX_EXPORT_OP(exports, "linalgSqrtm", parse_sqrtm<false>);
  KX_EXPORT_OP(exports, "linalgSolve", parse_solve);
  KX_EXPORT_OP(exports, "linalgFeatureStats", parse_stats);
}

// The cuda object's forms: Newton-Schulz on the GPU, batched Cholesky and Jacobi eigh on the GPU
// for n <= kBatchedMaxN, everything else on the CPU kernels (the other linalg ops are not
// registered there: the registry falls through to the cpu backend).
void register_cuda_linalg_ops(Napi::Env env, Napi::Object cuda) {
#if defined(KX_WITH_CUDA)
  KX_EXPORT_OP(cuda, "linalgCholeskyBatch", parse_cholesky_batch<true>);
  KX_EXPORT_OP(cuda, "linalgEigh", parse_eigh<true>);
  KX_EXPORT_OP(cuda, "linalgSqrtm", parse_sqrtm<true>);
#else
  (void)env;
  (void)cuda;
#endif
}

}  // namespace kxnapi
