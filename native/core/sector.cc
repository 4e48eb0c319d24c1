// The sector-probability Monte-Carlo kernel on the CPU (contract in sector.h). Trials are split in
// fixed chunks of trials (kx::parallel_for); each chunk draws its trials' words at once with the
// SIMD Philox of random.cc, finds each trial's largest gap exactly in integers (by buckets, see
// sector.h) and adds its count
// to the total: an integer sum, so the result does not depend on the thread count or the order.
#include "sector.h"

#include "random.h"

namespace kx {

namespace {

constexpr int64_t kWordsPerChunk = 1 << 14;  // words one chunk draws (at least one trial's)

struct SectorCtx {
  Rng rng;
  int64_t n;
  int64_t trial_offset;
  int64_t grain;  // trials per chunk
  uint64_t threshold;
  int64_t hits;    // atomic
  int32_t status;  // atomic: the first error of a chunk, OK otherwise
};

void sector_chunk(void* c, int64_t b, int64_t e) {
  SectorCtx& k = *static_cast<SectorCtx*>(c);
  const int64_t n = k.n, m = e - b;
  uint32_t* buf = static_cast<uint32_t*>(alloc(sizeof(uint32_t) * (size_t)(m * n + 2 * n)));
  if (buf == nullptr) {
    __atomic_store_n(&k.status, (int32_t)E_OOM, __ATOMIC_RELAXED);
    return;
  }
  const Status s = random_words(nullptr, k.rng, (k.trial_offset + b) * n, m * n, buf);
  if (s != OK) {
    release(buf);
    __atomic_store_n(&k.status, (int32_t)s, __ATOMIC_RELAXED);
    return;
  }
  int64_t count = 0;
  for (int64_t t = 0; t < m; ++t) {
    const uint64_t g = sector_max_gap_buckets(buf + t * n, n, buf + m * n, buf + m * n + n);
    count += g >= k.threshold ? 1 : 0;
  }
  release(buf);
  __atomic_fetch_add(&k.hits, count, __ATOMIC_RELAXED);
}

}  // namespace

Status sector_mc_check(int64_t n, int64_t trial_offset, int64_t trials, double threshold,
                       uint64_t* threshold_out, const char** why) {
  const char* w = nullptr;
  if (n < 1 || n > kSectorMaxN) w = "n must be in [1, 1e6]";
  else if (trial_offset < 0 || trials < 0) w = "trialOffset and trials must be >= 0";
  else if (trial_offset > kSectorMaxWords / n || trials > kSectorMaxWords / n - trial_offset)
    w = "(trialOffset + trials) * n must be at most 2^53 - 1";
  else if (!(threshold >= 0 && threshold <= 4294967296.0) || threshold != (double)(uint64_t)threshold)
    w = "threshold must be an integer in [0, 2^32]";
  if (w != nullptr) {
    if (why != nullptr) *why = w;
    return E_RANGE;
  }
  *threshold_out = (uint64_t)threshold;
  return OK;
}

Status sector_mc(const Exec* ex, const Rng& rng, int64_t n, int64_t trial_offset, int64_t trials,
                 double threshold, int64_t* hits, const char** why) {
  SectorCtx c{};
  const Status s = sector_mc_check(n, trial_offset, trials, threshold, &c.threshold, why);
  if (s != OK) return s;
  if (hits == nullptr) {
    if (why != nullptr) *why = "hits is null";
    return E_INTERNAL;
  }
  c.rng = rng, c.n = n, c.trial_offset = trial_offset;
  c.grain = kWordsPerChunk / n > 1 ? kWordsPerChunk / n : 1;
  c.status = OK;
  parallel_for(ex, trials, c.grain, sector_chunk, &c);
  if (c.status != OK) {
    if (why != nullptr) *why = c.status == E_OOM ? "out of memory for the scratch" : "drawing the angles failed";
    return (Status)c.status;
  }
  *hits = c.hits;
  return OK;
}

}  // namespace kx
