// The CPU backend's thread pool. Kernels see it only through kx::Exec (native/core/kx.h).
// Several callers may run jobs at once (the main thread's synchronous calls and AsyncWorkers on
// libuv threads): each job carries its own chunk counter, the caller works on its own job too,
// and a job is never touched after its caller returns.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "kx.h"

namespace kxnapi {

class ThreadPool {
 public:
  static ThreadPool& instance();
  // Total threads working on one job, the caller included (>= 1).
  void set_threads(int n);
  int threads() const { return threads_.load(); }
  void parallel_for(int64_t n, int64_t grain, kx::RangeFn fn, void* ctx);
  // An Exec that runs on this pool.
  const kx::Exec* exec();

 private:
  struct Job {
    kx::RangeFn fn;
    void* ctx;
    int64_t n, grain, chunks;
    std::atomic<int64_t> next{0};
    int max_helpers;
    int helpers = 0;  // under mu_
  };
  ThreadPool();
  ~ThreadPool();
  void worker();
  static void work(Job* j);
  Job* pick_locked();

  std::mutex mu_;
  std::condition_variable cv_;       // new work or stop
  std::condition_variable done_cv_;  // a helper left a job
  std::deque<Job*> queue_;
  std::vector<std::thread> workers_;
  std::atomic<int> threads_{1};
  bool stop_ = false;
  kx::Exec exec_;
};

}  // namespace kxnapi
