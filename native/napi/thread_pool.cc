#include "thread_pool.h"

#include "op_call.h"

#include <cstdlib>

namespace kxnapi {

namespace {
void pool_parallel_for(void* pool, int64_t n, int64_t grain, kx::RangeFn fn, void* ctx) {
  static_cast<ThreadPool*>(pool)->parallel_for(n, grain, fn, ctx);
}
}  // namespace

ThreadPool& ThreadPool::instance() {
  // Never destroyed: worker threads may outlive static destruction at process exit.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool() {
  int n = (int)std::thread::hardware_concurrency();
  if (const char* env = std::getenv("KEXUE_NUM_THREADS")) {
    const int v = std::atoi(env);
    if (v >= 1) n = v;
  }
  threads_ = n < 1 ? 1 : n;
  exec_.parallel_for = pool_parallel_for;
  exec_.pool = this;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

const kx::Exec* ThreadPool::exec() { return &exec_; }

void ThreadPool::set_threads(int n) { threads_ = n < 1 ? 1 : (n > 1024 ? 1024 : n); }

void ThreadPool::work(Job* j) {
  for (;;) {
    const int64_t c = j->next.fetch_add(1);
    if (c >= j->chunks) return;
    const int64_t b = c * j->grain;
    const int64_t e = b + j->grain < j->n ? b + j->grain : j->n;
    j->fn(j->ctx, b, e);
  }
}

ThreadPool::Job* ThreadPool::pick_locked() {
  for (Job* j : queue_)
    if (j->helpers < j->max_helpers && j->next.load() < j->chunks) return j;
  return nullptr;
}

void ThreadPool::worker() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    Job* j = nullptr;
    cv_.wait(lk, [&] { return stop_ || (j = pick_locked()) != nullptr; });
    if (stop_) return;
    ++j->helpers;
    lk.unlock();
    work(j);
    lk.lock();
    --j->helpers;
    done_cv_.notify_all();
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, kx::RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  Job j;
  j.fn = fn;
  j.ctx = ctx;
  j.n = n;
  j.grain = grain;
  j.chunks = (n + grain - 1) / grain;
  const int t = threads_.load();
  j.max_helpers = (int)((j.chunks - 1) < (int64_t)(t - 1) ? (j.chunks - 1) : (t - 1));
  if (j.max_helpers <= 0) {
    work(&j);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    while ((int)workers_.size() < j.max_helpers) workers_.emplace_back([this] { worker(); });
    queue_.push_back(&j);
  }
  cv_.notify_all();
  work(&j);
  std::unique_lock<std::mutex> lk(mu_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (*it == &j) {
      queue_.erase(it);
      break;
    }
  }
  done_cv_.wait(lk, [&] { return j.helpers == 0; });
}

}  // namespace kxnapi

// The allocator hook of native/core (kx.h). Large scratch (the linear algebra's n x n work
// matrices) is fresh mmap'd memory whose first touch faults every page in: ask for 2 MiB pages.
extern "C" void* kx_host_alloc(size_t bytes) {
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p != nullptr && bytes >= (size_t(8) << 20)) kxnapi::hint_huge_pages(p, bytes);
  return p;
}
extern "C" void kx_host_free(void* p) { std::free(p); }
