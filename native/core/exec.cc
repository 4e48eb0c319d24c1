#include "kx.h"

namespace kx {

void parallel_for(const Exec* ex, int64_t n, int64_t grain, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (ex == nullptr || ex->parallel_for == nullptr || n <= grain) {
    // Same chunk boundaries as the threaded path, so reductions match bit for bit.
    for (int64_t b = 0; b < n; b += grain) fn(ctx, b, b + grain < n ? b + grain : n);
    return;
  }
  ex->parallel_for(ex->pool, n, grain, fn, ctx);
}

void* alloc(size_t bytes) { return kx_host_alloc(bytes); }
void release(void* p) { kx_host_free(p); }

}  // namespace kx
