// The planner's dispatch bookkeeping: least loaded first with rotating
// ties, answers matched to the executor that has the job, and a lost
// executor's jobs handed back once, oldest first.
#include "runtime/executor_pool.hpp"

#include <gtest/gtest.h>

#include <string>

namespace troupe::runtime {
namespace {

TEST(executor_pool, least_loaded_first_and_ties_rotate) {
  executor_pool<std::string> p(3);
  EXPECT_EQ(0u, p.pick());
  EXPECT_EQ(1u, p.pick()); // Equal load: the next one.
  p.add(0, "a");
  p.add(1, "b");
  EXPECT_EQ(2u, p.pick()); // The only idle one.
  auto c = p.add(2, "c");
  EXPECT_EQ(0u, p.pick());
  p.add(0, "d");
  EXPECT_EQ(std::optional<std::string>("c"), p.take(c, 2));
  EXPECT_EQ(2u, p.pick());
  EXPECT_EQ(0u, p.load(2));
  EXPECT_EQ(2u, p.load(0));
}

TEST(executor_pool, answers_count_only_from_the_executor_that_has_the_job) {
  executor_pool<std::string> p(2);
  auto id = p.add(1, "job");
  EXPECT_FALSE(p.take(id, 0));   // Not there.
  EXPECT_TRUE(p.take(id, 1));
  EXPECT_FALSE(p.take(id, 1));   // Taken once.
  EXPECT_FALSE(p.take(999, 1));  // Never added.
}

TEST(executor_pool, a_lost_executor_hands_back_its_jobs_once) {
  executor_pool<std::string> p(2);
  auto first = p.add(0, "first");
  p.add(1, "elsewhere");
  p.add(0, "second");
  auto orphans = p.lose(0);
  EXPECT_EQ((std::vector<std::string>{"first", "second"}), orphans);
  EXPECT_FALSE(p.alive(0));
  EXPECT_EQ(0u, p.load(0));
  EXPECT_TRUE(p.lose(0).empty());
  EXPECT_FALSE(p.take(first, 0)); // A late answer from the lost node is dropped.
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(1u, p.pick());
  p.lose(1);
  EXPECT_FALSE(p.pick());
}

} // namespace
} // namespace troupe::runtime
