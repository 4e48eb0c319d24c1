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

#include <string>

#include "linalg.h"
#include "op_call.h"
#include "thread_pool.h"

namespace kxnapi {

namespace {

const kx::Exec* pool() { return ThreadPool::instance().exec(); }

constexpr int64_t kMaxDim = 2147483647;  // products of two sizes stay far from int64 overflow

bool fail(const Napi::CallbackInfo& info, const std::string& msg, const char* code = "E_SHAPE") {
  Napi::RangeError e = Napi::RangeError::New(info.Env(), "kexue native linalg: " + msg);
  e.Set("code", Napi::String::New(info.Env(), code));
  e.ThrowAsJavaScriptException();
  return false;
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

}  // namespace

void register_linalg_ops(Napi::Env env, Napi::Object exports) {
  KX_EXPORT_OP(exports, "linalgGemm", parse_gemm);
  KX_EXPORT_OP(exports, "linalgCholesky", parse_cholesky);
  KX_EXPORT_OP(exports, "linalgEigvals", parse_eigvals);
  KX_EXPORT_OP(exports, "linalgW2Trace", parse_w2);
}

}  // namespace kxnapi
