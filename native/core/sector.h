// Monte-Carlo kernel for the sector probability (techniques.md section 7): how many of `trials`
// trials put n i.i.d. uniform angles within one sector of a given angle.
//
// Why our own: the count must be the same integer on every backend (pure TS, wasm, native CPU at
// any thread count, CUDA), which no sampling library promises; so the angles are Philox words
// (philox.h) and everything after them is integer arithmetic.
//
// The contract (also in README.md and lib/ops/sector.ts):
//   trial t (global index trial_offset + i) draws the angles w_j = word (t n + j) of the stream
//   (the words `uniform` turns into float32s), j < n, each an integer in [0, 2^32): the angle
//   2 pi w_j / 2^32. Sorted, the circular gaps are w_(j) - w_(j-1) and the wrap-around gap
//   2^32 - w_(n-1) + w_(0), all integers in units of 2^-32 turn. The trial is a hit when the
//   largest gap is >= threshold (an integer in [0, 2^32]; the op passes
//   ceil(max(0, 1 - theta / (2 pi)) 2^32)): the points then lie in one sector of angle theta.
//   *hits = the number of hits (an exact integer, independent of how the trials are split).
// The largest gap is a function of the multiset of angles only, so any exact method gives the same
// integer: the CPU uses n buckets of width 2^32 / n for every n (the largest gap is at least
// 2^32 / n, longer than any gap inside a bucket, so it is a gap between the largest angle of one
// non-empty bucket and the smallest of the next: O(n), no branches to mispredict); the GPU sorts
// n <= kSectorSortMaxN angles per thread (insertion sort) and uses the buckets above.
#pragma once
#include "kx.h"
#include "philox.h"

namespace kx {

constexpr int64_t kSectorMaxN = 1000000;
constexpr int64_t kSectorSortMaxN = 32;
// (trial_offset + trials) * n, the words a call reads, is at most 2^53 - 1 (exact in a double).
constexpr int64_t kSectorMaxWords = ((int64_t)1 << 53) - 1;

// The argument checks every backend shares: OK and *threshold_out, or a status and *why.
Status sector_mc_check(int64_t n, int64_t trial_offset, int64_t trials, double threshold,
                       uint64_t* threshold_out, const char** why);

// Errors: E_RANGE (n outside [1, kSectorMaxN], trial_offset or trials < 0, too many words,
// threshold not an integer in [0, 2^32]), E_INTERNAL (hits null), E_OOM (scratch).
Status sector_mc(const Exec* ex, const Rng& rng, int64_t n, int64_t trial_offset, int64_t trials,
                 double threshold, int64_t* hits, const char** why);

// a[0..n) in ascending order (insertion sort: the GPU's small-n path).
KX_HD void sector_sort_small(uint32_t* a, int64_t n) {
  for (int64_t i = 1; i < n; ++i) {
    const uint32_t v = a[i];
    int64_t j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      --j;
    }
    a[j + 1] = v;
  }
}

// The largest circular gap of sorted angles a[0..n), n >= 1, in units of 2^-32 turn.
KX_HD uint64_t sector_max_gap_sorted(const uint32_t* a, int64_t n) {
  uint64_t g = ((uint64_t)1 << 32) - a[n - 1] + a[0];
  for (int64_t i = 1; i < n; ++i) {
    const uint64_t d = (uint64_t)(a[i] - a[i - 1]);
    g = d > g ? d : g;
  }
  return g;
}

// The bucket of angle w among n buckets of width 2^32 / n: floor(w n / 2^32).
KX_HD int64_t sector_bucket(uint32_t w, int64_t n) { return (int64_t)(((uint64_t)w * (uint64_t)n) >> 32); }

// The largest circular gap of the n >= 1 angles w (any order) by buckets; mn, mx: n words of
// scratch each. Branch-free: a bucket is non-empty exactly when mn <= mx (an empty one keeps
// 0xFFFFFFFF > 0), and starting from "the previous largest angle" top - 2^32 (top = the largest
// angle) makes the first non-empty bucket's gap the wrap-around gap 2^32 - top + min.
KX_HD uint64_t sector_max_gap_buckets(const uint32_t* w, int64_t n, uint32_t* mn, uint32_t* mx) {
  for (int64_t k = 0; k < n; ++k) mn[k] = 0xFFFFFFFFu, mx[k] = 0;
  uint32_t top = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t v = w[i];
    const int64_t k = sector_bucket(v, n);
    const uint32_t lo = mn[k], hi = mx[k];
    mn[k] = v < lo ? v : lo;
    mx[k] = v > hi ? v : hi;
    top = v > top ? v : top;
  }
  // A mask rather than a condition: g++ then emits no branch (1.5x faster on random buckets).
  int64_t prev = (int64_t)top - ((int64_t)1 << 32), g = 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t a = mn[k], b = mx[k];
    const int64_t used = -(int64_t)(a <= b);  // all ones for a non-empty bucket
    const int64_t d = (a - prev) & used;
    g = d > g ? d : g;
    prev = (b & used) | (prev & ~used);
  }
  return (uint64_t)g;
}

}  // namespace kx
