// Sampling kernels (techniques.md section 1): uniform, normal, Bernoulli, dropout, BERT MLM
// masking, MAE random masking, DropToken and the expected-embedding table.
// `offset` is the global element index of the first output element, so a caller may fill a large
// tensor in chunks (the wasm backend does) and get the same bits as one call.
#pragma once
#include "kx.h"
#include "philox.h"

namespace kx {

// Instruction sets the CPU kernels are built for; the best one the CPU has is used, never above
// the limit set by set_isa_limit (for tests, and KEXUE_ISA).
enum Isa : int32_t { ISA_SCALAR = 0, ISA_SSE2 = 1, ISA_AVX2 = 2, ISA_WASM_SIMD128 = 3 };
Isa isa_active();
Isa isa_best_supported();
void set_isa_limit(Isa limit);
const char* isa_name(Isa isa);

Status random_words(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t* out);
Status uniform_f32(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, float* out);
Status uniform_f64(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, double* out);
Status normal_f32(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, double mean, double std,
                  float* out);
Status normal_f64(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, double mean, double std,
                  double* out);
// out[i] = 1 when (word_i >> 8) < threshold; threshold = ceil(p * 2^24), so out = (uniform < p).
Status bernoulli_u8(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t threshold,
                    uint8_t* out);
// Keeps element i when (word_i >> 8) >= threshold (uniform >= p): out = x * scale, mask = 1;
// else out = 0, mask = 0. mask may be null.
Status dropout_f32(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t threshold,
                   float scale, const float* x, float* out, uint8_t* mask);
Status dropout_f64(const Exec* ex, const Rng& rng, int64_t offset, int64_t n, uint32_t threshold,
                   double scale, const double* x, double* out, uint8_t* mask);

// BERT masking. Token t (global index offset + i) uses block t: word 0 selects it
// ((w0 >> 8) < select_threshold), word 1 picks the action ((w1 >> 8) < mask_threshold: [MASK];
// < random_threshold: a random candidate; else unchanged), word 2 picks the candidate
// (floor(w2 * num_candidates / 2^32)). Special tokens are never selected.
struct MlmParams {
  const int32_t* ids;
  int64_t n;
  int64_t offset;
  Rng rng;
  const uint8_t* special;  // [vocab_size], 1 = special (never selected, never a replacement)
  int32_t vocab_size;
  const int32_t* candidates;  // the non-special ids, ascending
  int32_t num_candidates;
  int32_t mask_token_id;
  uint32_t select_threshold;  // ceil(maskProb * 2^24)
  uint32_t mask_threshold;    // ceil(q_mask * 2^24)
  uint32_t random_threshold;  // ceil((q_mask + q_rand) * 2^24)
  int32_t ignore_index;
  int32_t* input_ids;
  int32_t* labels;
  int64_t bad_index;  // out: first index whose id is outside [0, vocab_size), or -1
};
Status mlm_mask(const Exec* ex, MlmParams* p);

// MAE random masking: per sample b, noise_t = (word of element b * tokens + t) >> 8 (the same
// numbers as uniform()), a stable argsort of the noise (ties by index), the first `keep` indices kept.
Status mae_mask(const Exec* ex, const Rng& rng, int64_t batch, int64_t tokens, int64_t keep,
                int32_t* ids_keep, int32_t* ids_restore, uint8_t* mask);
// DropToken: the rows MAE would keep, in their original order. x [batch, tokens, dim].
Status drop_tokens_f32(const Exec* ex, const Rng& rng, int64_t batch, int64_t tokens, int64_t dim,
                       int64_t keep, const float* x, float* out, int32_t* positions);
Status drop_tokens_f64(const Exec* ex, const Rng& rng, int64_t batch, int64_t tokens, int64_t dim,
                       int64_t keep, const double* x, double* out, int32_t* positions);

// out[i] = a * t[i] + b * t[mask_id] + c * mean(non-special rows), in float64, for non-special i;
// special rows are copied. Thread-count independent (column sums in row order).
Status expected_embedding_f32(const Exec* ex, int64_t vocab, int64_t dim, const uint8_t* special,
                              int32_t mask_id, double a, double b, double c, const float* table,
                              float* out);
Status expected_embedding_f64(const Exec* ex, int64_t vocab, int64_t dim, const uint8_t* special,
                              int32_t mask_id, double a, double b, double c, const double* table,
                              double* out);

}  // namespace kx
