// base::job_class: its spelling both ways and its one ordering.
#include "runtime/base/job_class.hpp"

#include <gtest/gtest.h>

namespace troupe::base {
namespace {

TEST(base_job_class, is_spelled_as_in_wf_files_both_ways) {
  for (job_class c : {job_class::interactive, job_class::batch}) {
    const auto back = job_class_from_name(to_string(c));
    ASSERT_TRUE(back.has_value()) << to_string(c);
    EXPECT_EQ(*back, c);
  }
  EXPECT_EQ(to_string(job_class::interactive), "interactive");
  EXPECT_EQ(to_string(job_class::batch), "batch");
  EXPECT_FALSE(job_class_from_name("urgent").has_value());
  EXPECT_FALSE(job_class_from_name("Batch").has_value());
  EXPECT_FALSE(job_class_from_name("").has_value());
}

TEST(base_job_class, interactive_is_served_before_batch_and_nothing_else) {
  EXPECT_TRUE(job_class_before(job_class::interactive, job_class::batch));
  EXPECT_FALSE(job_class_before(job_class::batch, job_class::interactive));
  EXPECT_FALSE(job_class_before(job_class::batch, job_class::batch));
  EXPECT_FALSE(job_class_before(job_class::interactive, job_class::interactive));
}

} // namespace
} // namespace troupe::base
