// Paged KV bookkeeping: reference counts, prefix sharing, copy-on-write,
// eviction, and a randomized stress run that must end with an empty pool.
#include "gpu/kv/block_manager.hpp"

#include <gtest/gtest.h>

#include <random>

namespace troupe::gpu {
namespace {

std::vector<int32_t> seq_of(int n, int start = 0) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i)
    v.push_back(start + i);
  return v;
}

TEST(block_manager, start_reserves_blocks_and_free_returns_them) {
  block_manager bm(8, 4);
  auto cached = bm.seq_start(1, seq_of(10));
  ASSERT_TRUE(cached);
  EXPECT_EQ(0, *cached);
  EXPECT_EQ(3u, bm.seq_blocks(1).size());
  EXPECT_EQ(3, bm.stats().used);
  EXPECT_EQ("", bm.validate());
  bm.seq_free(1);
  EXPECT_EQ(0, bm.stats().used);
  EXPECT_EQ(8, bm.stats().free + bm.stats().cached);
  EXPECT_EQ("", bm.validate());
}

TEST(block_manager, refuses_what_does_not_fit_and_changes_nothing) {
  block_manager bm(2, 4);
  EXPECT_FALSE(bm.seq_start(1, seq_of(9)));
  EXPECT_FALSE(bm.has(1));
  EXPECT_EQ(2, bm.stats().free);
}

TEST(block_manager, computed_full_blocks_are_reused_by_a_matching_prefix) {
  block_manager bm(16, 4);
  auto prompt = seq_of(11);
  ASSERT_TRUE(bm.seq_start(1, prompt));
  bm.seq_computed(1, 11);
  // Same first 8 tokens, different tail: two full blocks are shared.
  auto other = seq_of(8);
  other.push_back(100);
  other.push_back(101);
  auto cached = bm.seq_start(2, other);
  ASSERT_TRUE(cached);
  EXPECT_EQ(8, *cached);
  EXPECT_EQ(bm.seq_blocks(1)[0], bm.seq_blocks(2)[0]);
  EXPECT_EQ(bm.seq_blocks(1)[1], bm.seq_blocks(2)[1]);
  EXPECT_NE(bm.seq_blocks(1)[2], bm.seq_blocks(2)[2]);
  EXPECT_EQ("", bm.validate());
  // A different first block shares nothing.
  auto third = seq_of(11, 50);
  EXPECT_EQ(0, *bm.seq_start(3, third));
  EXPECT_GT(bm.stats().prefix_hit_rate(), 0.0);
}

TEST(block_manager, an_entirely_cached_prompt_still_computes_its_last_token) {
  block_manager bm(16, 4);
  auto prompt = seq_of(8);
  ASSERT_TRUE(bm.seq_start(1, prompt));
  bm.seq_computed(1, 8);
  bm.seq_free(1);
  auto cached = bm.seq_start(2, prompt);
  ASSERT_TRUE(cached);
  EXPECT_EQ(4, *cached); // Not 8: the last block is recomputed for logits.
  EXPECT_EQ("", bm.validate());
}

TEST(block_manager, fork_shares_blocks_and_copies_a_partly_filled_one_on_write) {
  block_manager bm(16, 4);
  ASSERT_TRUE(bm.seq_start(1, seq_of(6)));
  bm.seq_computed(1, 6);
  bm.seq_fork(1, 2);
  EXPECT_EQ(bm.seq_blocks(1), bm.seq_blocks(2));
  block_copy copy;
  ASSERT_TRUE(bm.seq_append(2, 77, copy));
  EXPECT_EQ(bm.seq_blocks(1)[1], copy.from);
  EXPECT_EQ(bm.seq_blocks(2)[1], copy.to);
  EXPECT_EQ(bm.seq_blocks(1)[0], bm.seq_blocks(2)[0]); // The full block stays shared.
  ASSERT_TRUE(bm.seq_append(1, 78, copy));
  EXPECT_EQ(-1, copy.from); // Now sole owner: writes in place.
  EXPECT_EQ("", bm.validate());
  bm.seq_free(1);
  bm.seq_free(2);
  EXPECT_EQ(0, bm.stats().used);
  EXPECT_EQ("", bm.validate());
}

TEST(block_manager, cached_blocks_are_evicted_least_recently_used_first) {
  block_manager bm(4, 4);
  ASSERT_TRUE(bm.seq_start(1, seq_of(9, 0)));
  bm.seq_computed(1, 9);
  bm.seq_free(1); // Two full blocks cached, tail free.
  EXPECT_EQ(2, bm.stats().cached);
  ASSERT_TRUE(bm.seq_start(2, seq_of(13, 100))); // Needs 4: evicts both.
  EXPECT_EQ(0, bm.stats().cached);
  EXPECT_EQ("", bm.validate());
  bm.seq_free(2);
  EXPECT_EQ(0, *bm.seq_start(3, seq_of(9, 0))); // The old prefix is gone.
}

TEST(block_manager, waste_is_the_unfilled_tail) {
  block_manager bm(8, 16);
  ASSERT_TRUE(bm.seq_start(1, seq_of(17)));
  auto st = bm.stats();
  EXPECT_EQ(32, st.allocated_slots);
  EXPECT_EQ(17, st.filled_slots);
}

TEST(block_manager, randomized_stress_keeps_invariants_and_ends_empty) {
  std::mt19937 rng(7);
  block_manager bm(24, 4);
  std::vector<block_manager::seq_id> live;
  block_manager::seq_id next = 1;
  for (int step = 0; step < 5000; ++step) {
    int op = int(rng() % 4);
    if (op == 0 || live.empty()) {
      int len = 1 + int(rng() % 20);
      auto p = seq_of(len, int(rng() % 3) * 5); // Overlapping prefixes.
      if (bm.seq_start(next, p)) {
        bm.seq_computed(next, len);
        live.push_back(next);
      }
      ++next;
    } else if (op == 1) {
      auto id = live[rng() % live.size()];
      block_copy c;
      if (bm.seq_append(id, int32_t(rng() % 50), c))
        bm.seq_computed(id, int32_t(bm.seq_tokens(id).size()));
    } else if (op == 2) {
      bm.seq_fork(live[rng() % live.size()], next);
      live.push_back(next++);
    } else {
      size_t i = rng() % live.size();
      bm.seq_free(live[i]);
      live.erase(live.begin() + long(i));
    }
    ASSERT_EQ("", bm.validate()) << "after step " << step;
  }
  for (auto id : live)
    bm.seq_free(id);
  EXPECT_EQ(0, bm.stats().used);
  EXPECT_EQ("", bm.validate());
}

} // namespace
} // namespace troupe::gpu
