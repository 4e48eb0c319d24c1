// Sampling kernels: dispatch to the best instruction set, threading through kx::parallel_for, and
// the kernels that are not SIMD-bound (normal, MLM, MAE, DropToken, expected embedding).
// Written here rather than taken from a library because every backend must produce the same bits
// from the same Philox words (see philox.h), including the pure-TS reference.
#define KX_ISA_NS portable
#include "random_simd.h"
#include "random_isa.h"
KX_DEFINE_RANDOM_TABLE(random_table_portable)

namespace kx {

namespace {

constexpr int64_t kElementGrain = 1 << 16;  // elements per parallel chunk

#if defined(__wasm_simd128__)
constexpr Isa kPortableIsa = ISA_WASM_SIMD128;
#else
constexpr Isa kPortableIsa = ISA_SCALAR;
#endif

Isa g_isa_limit = ISA_WASM_SIMD128;  // no limit

const RandomIsaTable& table_for(Isa isa) {
#if defined(KX_HAVE_X86_TABLES)
  if (isa == ISA_AVX2) return random_table_avx2;
  if (isa == ISA_SSE2) return random_table_sse2;
#endif
  (void)isa;
  return random_table_portable;
}

const RandomIsaTable& table() { return table_for(isa_active()); }

}  // namespace

Isa isa_best_supported() {
#if defined(KX_HAVE_X86_TABLES)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v3")) return ISA_AVX2;
  return ISA_SSE2;
#else
  return kPortableIsa;
#endif
}

Isa isa_active() {
  const Isa best = isa_best_supported();
  if (best == ISA_WASM_SIMD128 || g_isa_limit >= best) return best;
  return g_isa_limit;
}

void set_isa_limit(Isa limit) { g_isa_limit = limit; }

const char* isa_name(Isa isa) {
  switch (isa) {
    case ISA_SCALAR: return "scalar";
    case ISA_SSE2: return "sse2";
    case ISA_AVX2: return "avx2";
    case ISA_WASM_SIMD128: return "wasm-simd128";
  }
  return "unknown";
}

// ---- elementwise kernels ---------------------------------------------------------------------

namespace {

// One context for every elementwise kernel: fn(ctx, begin, end) fills [begin, end).
struct ElementCtx {
  const RandomIsaTable* t;
  Rng rng;
  int64_t offset;
  uint32_t threshold;
  double mean, std;
  double scale;
  const void* x;
  void* out;
  uint8_t* mask;
};

void words_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  k.t->words(k.rng, k.offset + b, e - b, (uint32_t*)k.out + b);
}
void uniform_f32_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  k.t->uniform_f32(k.rng, k.offset + b, e - b, (float*)k.out + b);
}
void bernoulli_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  k.t->bernoulli_u8(k.rng, k.offset + b, e - b, k.threshold, (uint8_t*)k.out + b);
}
void dropout_f32_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  k.t->dropout_f32(k.rng, k.offset + b, e - b, k.threshold, (float)k.scale, (const float*)k.x + b,
                   (float*)k.out + b, k.mask ? k.mask + b : nullptr);
}
void dropout_f64_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  k.t->dropout_f64(k.rng, k.offset + b, e - b, k.threshold, k.scale, (const double*)k.x + b,
                   (double*)k.out + b, k.mask ? k.mask + b : nullptr);
}

// float64 uniform element i takes words 2i and 2i + 1.
void uniform_f64_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  double* out = (double*)k.out;
  const int64_t first = k.offset + b;
  {
    // words 2 first .. 2 (first + n) of the 32-bit stream
    const int64_t n = e - b;
    int64_t i = 0;
    uint32_t buf[512];
    while (i < n) {
      int64_t m = n - i < 256 ? n - i : 256;
      k.t->words(k.rng, 2 * (first + i), 2 * m, buf);
      for (int64_t t = 0; t < m; ++t) out[b + i + t] = words_to_uniform_f64(buf[2 * t], buf[2 * t + 1]);
      i += m;
    }
  }
}

void normal_f32_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  k.t->normal_f32(k.rng, k.offset + b, e - b, k.mean, k.std, (float*)k.out + b);
}
void normal_f64_chunk(void* c, int64_t b, int64_t e) {
  const ElementCtx& k = *(const ElementCtx*)c;
  k.t->normal_f64(k.rng, k.offset + b, e - b, k.mean, k.std, (double*)k.out + b);
}

Status run_elementwise(const Exec* ex, int64_t n, RangeFn fn, ElementCtx* ctx) {
  if (n < 0 || ctx->offset < 0) return E_SHAPE;
  ctx->t = &table();
  parallel_for(ex, n, kElementGrain, fn, ctx);
  return OK;
}

}  // namespace

Status random_words(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t* out) {
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out;
  return run_elementwise(ex, n, words_chunk, &c);
}

Status uniform_f32(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, float* out) {
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out;
  return run_elementwise(ex, n, uniform_f32_chunk, &c);
}

Status uniform_f64(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, double* out) {
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out;
  return run_elementwise(ex, n, uniform_f64_chunk, &c);
}

Status normal_f32(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, double mean, double std,
                  float* out) {
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out, c.mean = mean, c.std = std;
  return run_elementwise(ex, n, normal_f32_chunk, &c);
}

Status normal_f64(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, double mean, double std,
                  double* out) {
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out, c.mean = mean, c.std = std;
  return run_elementwise(ex, n, normal_f64_chunk, &c);
}

Status bernoulli_u8(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t threshold,
                    uint8_t* out) {
  if (threshold > (1u << 24)) return E_RANGE;
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out, c.threshold = threshold;
  return run_elementwise(ex, n, bernoulli_chunk, &c);
}

Status dropout_f32(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t threshold,
                   float scale, const float* x, float* out, uint8_t* mask) {
  if (threshold > (1u << 24)) return E_RANGE;
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out, c.threshold = threshold, c.scale = scale, c.x = x;
  c.mask = mask;
  return run_elementwise(ex, n, dropout_f32_chunk, &c);
}

Status dropout_f64(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t threshold,
                   double scale, const double* x, double* out, uint8_t* mask) {
  if (threshold > (1u << 24)) return E_RANGE;
  ElementCtx c{};
  c.rng = rng, c.offset = offset, c.out = out, c.threshold = threshold, c.scale = scale, c.x = x;
  c.mask = mask;
  return run_elementwise(ex, n, dropout_f64_chunk, &c);
}

// ---- MLM -------------------------------------------------------------------------------------

namespace {

void mlm_chunk(void* c, int64_t b, int64_t e) {
  const MlmParams& p = *(const MlmParams*)c;
  for (int64_t i = b; i < e; ++i) {
    const int32_t id = p.ids[i];
    if (p.special[id]) {
      p.input_ids[i] = id;
      p.labels[i] = p.ignore_index;
      continue;
    }
    uint32_t w[4];
    philox_block(p.rng, (uint64_t)(p.offset + i), w);
    if ((w[0] >> 8) >= p.select_threshold) {
      p.input_ids[i] = id;
      p.labels[i] = p.ignore_index;
      continue;
    }
    p.labels[i] = id;
    const uint32_t u = w[1] >> 8;
    if (u < p.mask_threshold) {
      p.input_ids[i] = p.mask_token_id;
    } else if (u < p.random_threshold) {
      const uint32_t j = (uint32_t)(((uint64_t)w[2] * (uint32_t)p.num_candidates) >> 32);
      p.input_ids[i] = p.candidates[j];
    } else {
      p.input_ids[i] = id;
    }
  }
}

}  // namespace

Status mlm_mask(const Exec* ex, MlmParams* p) {
  p->bad_index = -1;
  if (p->n < 0 || p->offset < 0 || p->vocab_size <= 0) return E_SHAPE;
  if (p->mask_token_id < 0 || p->mask_token_id >= p->vocab_size) return E_RANGE;
  if (p->select_threshold > (1u << 24) || p->mask_threshold > p->random_threshold ||
      p->random_threshold > (1u << 24))
    return E_RANGE;
  if (p->num_candidates <= 0 && p->random_threshold > p->mask_threshold && p->select_threshold > 0)
    return E_RANGE;
  for (int64_t i = 0; i < p->n; ++i) {
    if (p->ids[i] < 0 || p->ids[i] >= p->vocab_size) {
      p->bad_index = i;
      return E_RANGE;
    }
  }
  for (int32_t j = 0; j < p->num_candidates; ++j)
    if (p->candidates[j] < 0 || p->candidates[j] >= p->vocab_size) return E_RANGE;
  parallel_for(ex, p->n, kElementGrain, mlm_chunk, p);
  return OK;
}

// ---- MAE / DropToken --------------------------------------------------------------------------

namespace {

struct ShuffleCtx {
  Rng rng;
  int64_t tokens, keep, dim;
  int32_t* ids_keep;
  int32_t* ids_restore;
  uint8_t* mask;
  const void* x;
  void* out;
  int32_t* positions;
  int elem_size;
  bool mae;  // MAE outputs; else DropToken's (a null pointer cannot tell: empty arrays may be null)
  bool failed;
};

// Stable LSD radix sort of the 24-bit keys words[t] >> 8 (3 passes of 8 bits): order becomes the
// argsort, ties in index order. Scratch ka, kb, ia of n entries each.
void argsort24(const uint32_t* words, int64_t n, uint32_t* ka, uint32_t* kb, int32_t* ia,
               int32_t* order) {
  for (int64_t t = 0; t < n; ++t) {
    ka[t] = words[t] >> 8;
    ia[t] = (int32_t)t;
  }
  uint32_t* ks = ka;
  uint32_t* kd = kb;
  int32_t* is = ia;
  int32_t* id = order;
  for (int pass = 0; pass < 3; ++pass) {  // a -> b, b -> a, a -> b: ends in (kb, order)
    const int sh = 8 * pass;
    int64_t count[257] = {0};
    for (int64_t t = 0; t < n; ++t) ++count[((ks[t] >> sh) & 255u) + 1];
    for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (int64_t t = 0; t < n; ++t) {
      const int64_t pos = count[(ks[t] >> sh) & 255u]++;
      kd[pos] = ks[t];
      id[pos] = is[t];
    }
    uint32_t* tk = ks;
    ks = kd;
    kd = tk;
    int32_t* ti = is;
    is = id;
    id = ti;
  }
}

void shuffle_chunk(void* c, int64_t b0, int64_t b1) {
  ShuffleCtx& s = *(ShuffleCtx*)c;
  const int64_t n = s.tokens;
  const size_t words = (size_t)(5 * n);
  uint32_t* scratch = (uint32_t*)alloc(words * sizeof(uint32_t));
  if (scratch == nullptr) {
    s.failed = true;
    return;
  }
  uint32_t* noise = scratch;
  uint32_t* k0 = scratch + n;
  uint32_t* k1 = scratch + 2 * n;
  int32_t* i0 = (int32_t*)(scratch + 3 * n);
  int32_t* order = (int32_t*)(scratch + 4 * n);
  const RandomIsaTable& t = table();
  for (int64_t b = b0; b < b1; ++b) {
    t.words(s.rng, b * n, n, noise);
    argsort24(noise, n, k0, k1, i0, order);  // order = argsort(noise)
    if (s.mae) {
      for (int64_t r = 0; r < s.keep; ++r) s.ids_keep[b * s.keep + r] = order[r];
      for (int64_t r = 0; r < n; ++r) s.ids_restore[b * n + order[r]] = (int32_t)r;
      for (int64_t r = 0; r < n; ++r) s.mask[b * n + r] = (uint8_t)(s.ids_restore[b * n + r] >= s.keep);
    } else {
      // DropToken: kept rows in their original order. Reuse k0 as the kept flags.
      for (int64_t r = 0; r < n; ++r) k0[r] = 0;
      for (int64_t r = 0; r < s.keep; ++r) k0[order[r]] = 1;
      int64_t c2 = 0;
      const size_t row = (size_t)s.dim * (size_t)s.elem_size;
      const char* x = (const char*)s.x + (size_t)b * (size_t)n * row;
      char* out = (char*)s.out + (size_t)b * (size_t)s.keep * row;
      for (int64_t r = 0; r < n; ++r) {
        if (!k0[r]) continue;
        s.positions[b * s.keep + c2] = (int32_t)r;
        memcpy(out + (size_t)c2 * row, x + (size_t)r * row, row);
        ++c2;
      }
    }
  }
  release(scratch);
}

Status run_shuffle(const Exec* ex, ShuffleCtx* s, int64_t batch) {
  if (batch < 0 || s->tokens < 0 || s->keep < 0 || s->keep > s->tokens || s->tokens > INT32_MAX)
    return E_SHAPE;
  if (batch == 0 || s->tokens == 0) return OK;
  s->failed = false;
  parallel_for(ex, batch, 1, shuffle_chunk, s);
  return s->failed ? E_OOM : OK;
}

}  // namespace

Status mae_mask(const Exec* ex, const Rng& rng, int64_t batch, int64_t tokens, int64_t keep,
                int32_t* ids_keep, int32_t* ids_restore, uint8_t* mask) {
  ShuffleCtx s{};
  s.rng = rng, s.tokens = tokens, s.keep = keep;
  s.ids_keep = ids_keep, s.ids_restore = ids_restore, s.mask = mask;
  s.mae = true;
  return run_shuffle(ex, &s, batch);
}

namespace {
Status drop_tokens(const Exec* ex, const Rng& rng, int64_t batch, int64_t tokens, int64_t dim,
                   int64_t keep, const void* x, void* out, int32_t* positions, int elem) {
  if (dim < 0) return E_SHAPE;
  ShuffleCtx s{};
  s.rng = rng, s.tokens = tokens, s.keep = keep, s.dim = dim;
  s.x = x, s.out = out, s.positions = positions, s.elem_size = elem;
  return run_shuffle(ex, &s, batch);
}
}  // namespace

Status drop_tokens_f32(const Exec* ex, const Rng& rng, int64_t batch, int64_t tokens, int64_t dim,
                       int64_t keep, const float* x, float* out, int32_t* positions) {
  return drop_tokens(ex, rng, batch, tokens, dim, keep, x, out, positions, 4);
}

Status drop_tokens_f64(const Exec* ex, const Rng& rng, int64_t batch, int64_t tokens, int64_t dim,
                       int64_t keep, const double* x, double* out, int32_t* positions) {
  return drop_tokens(ex, rng, batch, tokens, dim, keep, x, out, positions, 8);
}

// ---- expected embedding ----------------------------------------------------------------------

namespace {

constexpr int64_t kColumnBlock = 64;

template <class T>
struct EmbedCtx {
  int64_t vocab, dim;
  const uint8_t* special;
  int32_t mask_id;
  double a, b, c;
  const T* table;
  T* out;
  double* mean;
  double count;
};

// Column block [c0, c1) of the mean of the non-special rows, summed in row order.
template <class T>
void embed_mean_chunk(void* p, int64_t b0, int64_t b1) {
  EmbedCtx<T>& k = *(EmbedCtx<T>*)p;
  const int64_t c0 = b0 * kColumnBlock;
  int64_t c1 = b1 * kColumnBlock;
  if (c1 > k.dim) c1 = k.dim;
  for (int64_t j = c0; j < c1; ++j) k.mean[j] = 0.0;
  for (int64_t r = 0; r < k.vocab; ++r) {
    if (k.special[r]) continue;
    const T* row = k.table + r * k.dim;
    for (int64_t j = c0; j < c1; ++j) k.mean[j] += (double)row[j];
  }
  for (int64_t j = c0; j < c1; ++j) k.mean[j] = k.mean[j] / k.count;
}

template <class T>
void embed_rows_chunk(void* p, int64_t r0, int64_t r1) {
  EmbedCtx<T>& k = *(EmbedCtx<T>*)p;
  const T* m = k.table + (int64_t)k.mask_id * k.dim;
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = k.table + r * k.dim;
    T* o = k.out + r * k.dim;
    if (k.special[r]) {
      for (int64_t j = 0; j < k.dim; ++j) o[j] = row[j];
      continue;
    }
    for (int64_t j = 0; j < k.dim; ++j)
      o[j] = (T)((k.a * (double)row[j] + k.b * (double)m[j]) + k.c * k.mean[j]);
  }
}

template <class T>
Status expected_embedding(const Exec* ex, int64_t vocab, int64_t dim, const uint8_t* special,
                          int32_t mask_id, double a, double b, double c, const T* table, T* out) {
  if (vocab <= 0 || dim < 0) return E_SHAPE;
  if (mask_id < 0 || mask_id >= vocab) return E_RANGE;
  int64_t count = 0;
  for (int64_t r = 0; r < vocab; ++r) count += special[r] ? 0 : 1;
  if (count == 0) return E_RANGE;
  double* mean = (double*)alloc((size_t)(dim > 0 ? dim : 1) * sizeof(double));
  if (mean == nullptr) return E_OOM;
  EmbedCtx<T> k{vocab, dim, special, mask_id, a, b, c, table, out, mean, (double)count};
  parallel_for(ex, (dim + kColumnBlock - 1) / kColumnBlock, 1, embed_mean_chunk<T>, &k);
  parallel_for(ex, vocab, 256, embed_rows_chunk<T>, &k);
  release(mean);
  return OK;
}

}  // namespace

Status expected_embedding_f32(const Exec* ex, int64_t vocab, int64_t dim, const uint8_t* special,
                              int32_t mask_id, double a, double b, double c, const float* table,
                              float* out) {
  return expected_embedding(ex, vocab, dim, special, mask_id, a, b, c, table, out);
}

Status expected_embedding_f64(const Exec* ex, int64_t vocab, int64_t dim, const uint8_t* special,
                              int32_t mask_id, double a, double b, double c, const double* table,
                              double* out) {
  return expected_embedding(ex, vocab, dim, special, mask_id, a, b, c, table, out);
}

}  // namespace kx
