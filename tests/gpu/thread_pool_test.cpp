#include "gpu/cpu/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace troupe::gpu {
namespace {

using chunk = std::tuple<int64_t, int64_t, int>;

// Runs one parallel_for and returns the chunks it handed out, sorted.
// Fails the test if two chunks with the same thread id ever overlap.
std::vector<chunk> chunks_of(cpu::thread_pool& pool, int64_t n) {
  std::mutex m;
  std::vector<chunk> out;
  std::set<int> running;
  bool overlap = false;
  pool.parallel_for(n, [&](int64_t b, int64_t e, int t) {
    {
      std::lock_guard lock(m);
      out.emplace_back(b, e, t);
      overlap |= !running.insert(t).second;
    }
    std::this_thread::yield();
    std::lock_guard lock(m);
    running.erase(t);
  });
  EXPECT_FALSE(overlap) << "one thread id ran two chunks at once";
  std::sort(out.begin(), out.end());
  return out;
}

TEST(cpu_thread_pool, covers_every_index_once_in_contiguous_chunks) {
  for (int threads : {1, 2, 3, 5}) {
    cpu::thread_pool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {1, 2, 3, 4, 7, 100, 1001}) {
      SCOPED_TRACE(testing::Message() << threads << " threads, n=" << n);
      const auto chunks = chunks_of(pool, n);
      ASSERT_FALSE(chunks.empty());
      EXPECT_LE(chunks.size(), size_t(n));
      if (threads == 1)
        EXPECT_EQ(chunks.size(), 1u);
      else
        EXPECT_LE(chunks.size(), size_t(4 * threads)); // a few per thread, not one per index
      int64_t next = 0;
      for (const auto& [b, e, t] : chunks) {
        EXPECT_EQ(b, next);
        EXPECT_LT(b, e);
        EXPECT_TRUE(t >= 0 && t < threads);
        next = e;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(cpu_thread_pool, zero_work_calls_nothing) {
  cpu::thread_pool pool(2);
  bool called = false;
  pool.parallel_for(0, [&](int64_t, int64_t, int) { called = true; });
  pool.parallel_for(-3, [&](int64_t, int64_t, int) { called = true; });
  EXPECT_FALSE(called);
}

TEST(cpu_thread_pool, size_one_runs_everything_on_the_caller) {
  cpu::thread_pool pool(1);
  const auto caller = std::this_thread::get_id();
  bool elsewhere = false;
  for (int64_t n : {1, 5})
    pool.parallel_for(n, [&](int64_t, int64_t, int) {
      elsewhere |= std::this_thread::get_id() != caller;
    });
  EXPECT_FALSE(elsewhere);
}

TEST(cpu_thread_pool, a_stalled_thread_does_not_stall_the_job) {
  // The last chunk blocks until chunk 0 has run; whichever thread claims
  // it, another must take chunk 0 or the call would never return.
  cpu::thread_pool pool(2);
  for (int round = 0; round < 100; ++round) {
    std::atomic<bool> first_done{false};
    pool.parallel_for(2, [&](int64_t b, int64_t, int) {
      if (b == 0)
        first_done = true;
      else
        while (!first_done)
          std::this_thread::yield();
    });
    EXPECT_TRUE(first_done);
  }
}

TEST(cpu_thread_pool, many_calls_see_each_others_writes) {
  cpu::thread_pool pool(2);
  std::vector<int64_t> v(97, 0);
  for (int call = 0; call < 20000; ++call)
    pool.parallel_for(int64_t(v.size()), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i)
        v[i] += i + call;
    });
  for (int64_t i = 0; i < int64_t(v.size()); ++i)
    ASSERT_EQ(v[i], 20000 * i + int64_t(20000) * 19999 / 2);
}

TEST(cpu_thread_pool, wakes_workers_that_went_to_sleep) {
  cpu::thread_pool pool(3);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // past the spin
    std::atomic<int> ran{0};
    pool.parallel_for(3, [&](int64_t b, int64_t e, int) { ran += int(e - b); });
    EXPECT_EQ(ran.load(), 3);
  }
}

} // namespace
} // namespace troupe::gpu
