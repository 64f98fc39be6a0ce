#include "gpu/cpu/thread_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TROUPE_CPU_RELAX() _mm_pause()
#else
#define TROUPE_CPU_RELAX() std::this_thread::yield()
#endif

namespace troupe::gpu::cpu {

namespace {

// A worker spins this long for the next parallel_for before it sleeps: long
// enough to span the serial work between two matmuls of a decoding step,
// short enough that an idle engine gives its cores back at once.
constexpr auto spin_budget = std::chrono::microseconds(200);

using body = std::function<void(int64_t, int64_t, int)>;

// Chunks per thread: enough that a thread the OS preempts (two cores shared
// with other work) leaves little for the others to wait on, few enough
// that claiming costs nothing next to a chunk of a matmul.
constexpr int64_t chunks_per_thread = 4;
constexpr int max_threads = 0xFFFF / chunks_per_thread;

} // namespace

// Invariants: `state` packs the current job's generation (bits 32-63), its
// chunk count (bits 16-31) and the next unclaimed chunk (bits 0-15), so a
// claim (a CAS on state) can only succeed for the job it was meant for.
// `job` and `n` are written by the caller before it publishes a generation
// and stay unchanged until `remaining`, the chunks not yet finished, is 0.
struct thread_pool::impl {
  int n_threads = 1;
  std::vector<std::thread> workers;
  const body* job = nullptr;
  int64_t n = 0;
  std::atomic<uint64_t> state{0};
  std::atomic<int> remaining{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable wake;

  static uint32_t generation_of(uint64_t s) { return static_cast<uint32_t>(s >> 32); }

  // Claims and runs chunks of generation `gen` until none is left. Whoever
  // comes first runs a chunk, so a worker the OS has not scheduled yet
  // delays the job by one chunk at most.
  void run_chunks(uint32_t gen, int thread) {
    uint64_t s = state.load(std::memory_order_acquire);
    while (generation_of(s) == gen) {
      const auto chunks = static_cast<int64_t>((s >> 16) & 0xFFFF);
      const auto next = static_cast<int64_t>(s & 0xFFFF);
      if (next >= chunks)
        return;
      if (!state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
        continue;
      (*job)(n * next / chunks, n * (next + 1) / chunks, thread);
      remaining.fetch_sub(1, std::memory_order_release);
      s = state.load(std::memory_order_acquire);
    }
  }

  // Returns the first generation other than `seen` (or anything once
  // stopping): spins for spin_budget, then sleeps.
  uint32_t wait_for_job(uint32_t seen) {
    const auto start = std::chrono::steady_clock::now();
    for (int spins = 0;; ++spins) {
      const uint32_t g = generation_of(state.load(std::memory_order_acquire));
      if (g != seen || stopping.load(std::memory_order_acquire))
        return g;
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() - start > spin_budget)
        break;
      TROUPE_CPU_RELAX();
    }
    std::unique_lock lock(mutex);
    sleepers.fetch_add(1);
    wake.wait(lock, [&] { return generation_of(state.load()) != seen || stopping.load(); });
    sleepers.fetch_sub(1);
    return generation_of(state.load(std::memory_order_acquire));
  }

  void worker_main(int thread) {
    uint32_t seen = 0;
    for (;;) {
      seen = wait_for_job(seen);
      if (stopping.load(std::memory_order_acquire))
        return;
      run_chunks(seen, thread);
    }
  }

  void wake_sleepers() {
    // Pairs with the worker's sleepers increment before it re-reads state
    // under the mutex: either it sees the new generation or we see it
    // asleep and notify.
    if (sleepers.load() > 0) {
      std::lock_guard lock(mutex);
      wake.notify_all();
    }
  }
};

thread_pool::thread_pool(int n_threads) : impl_(new impl) {
  // The chunk count must fit state's 16 bits.
  impl_->n_threads = n_threads < 1 ? 1 : n_threads > max_threads ? max_threads : n_threads;
  for (int t = 1; t < impl_->n_threads; ++t)
    impl_->workers.emplace_back([this, t] { impl_->worker_main(t); });
}

thread_pool::~thread_pool() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping.store(true);
  }
  impl_->wake.notify_all();
  for (auto& w : impl_->workers)
    w.join();
  delete impl_;
}

int thread_pool::size() const { return impl_->n_threads; }

void thread_pool::parallel_for(int64_t n, const body& fn) {
  if (n <= 0)
    return;
  const int64_t most = impl_->n_threads * chunks_per_thread;
  const int64_t chunks = n < most ? n : most;
  if (impl_->n_threads == 1 || chunks == 1) {
    fn(0, n, 0);
    return;
  }
  impl_->job = &fn;
  impl_->n = n;
  impl_->remaining.store(static_cast<int>(chunks), std::memory_order_relaxed);
  const uint32_t gen = impl::generation_of(impl_->state.load()) + 1;
  // Publishes job and n (seq_cst, so it also orders before wake_sleepers'
  // read of sleepers).
  impl_->state.store((uint64_t{gen} << 32) | (static_cast<uint64_t>(chunks) << 16));
  impl_->wake_sleepers();
  impl_->run_chunks(gen, 0);
  for (int spins = 0; impl_->remaining.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 4096)
      TROUPE_CPU_RELAX();
    else
      std::this_thread::yield();
  }
}

} // namespace troupe::gpu::cpu
