#pragma once

#include <cstdint>
#include <functional>

namespace troupe::gpu::cpu {

/// A fixed set of worker threads for the engine's data-parallel loops.
/// The calling thread takes part in every parallel_for, so a pool of size 1
/// has no worker threads at all. Workers spin briefly after each job (the
/// next matmul of a decoding step comes within microseconds), then sleep.
/// Not reentrant: one parallel_for at a time, from one thread at a time
/// (the engine's step loop owns the pool). Destruction joins the workers.
class thread_pool {
public:
  /// `n_threads` counts the calling thread; it is clamped to [1, 16383].
  explicit thread_pool(int n_threads);
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  int size() const;

  /// Splits [0, n) into contiguous, non-empty chunks, a few per thread, and
  /// runs fn(begin, end, thread) once for each; returns when all are done.
  /// Free threads, the caller included, take the next chunk, so a worker
  /// the OS is slow to schedule holds little up. `thread` (below size(), 0
  /// for the caller) names the thread running the chunk: one thread runs
  /// its chunks one after another, so fn may index per-thread scratch by
  /// it. n <= 0 calls nothing; a pool of size 1 runs fn(0, n, 0) on the
  /// caller. fn must not throw (a throw from a worker terminates the
  /// process).
  void parallel_for(int64_t n,
                    const std::function<void(int64_t begin, int64_t end, int thread)>& fn);

private:
  struct impl;
  impl* impl_;
};

} // namespace troupe::gpu::cpu
