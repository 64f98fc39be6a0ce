// base::result: which alternative is held, and moving value and error out.
#include "runtime/base/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace troupe::base {
namespace {

result<int, std::string> half(int x) {
  if (x % 2 != 0)
    return std::string("odd: ") + std::to_string(x);
  return x / 2;
}

TEST(base_result, holds_the_value_or_the_error) {
  const auto even = half(8);
  ASSERT_TRUE(even.ok());
  EXPECT_TRUE(static_cast<bool>(even));
  EXPECT_EQ(even.value(), 4);

  const auto odd = half(3);
  ASSERT_FALSE(odd.ok());
  EXPECT_FALSE(static_cast<bool>(odd));
  EXPECT_EQ(odd.error(), "odd: 3");
}

TEST(base_result, moves_a_move_only_value_out) {
  result<std::unique_ptr<int>, std::string> r(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(base_result, moves_a_move_only_error_out) {
  result<int, std::unique_ptr<std::string>> r(std::make_unique<std::string>("gone"));
  ASSERT_FALSE(r.ok());
  std::unique_ptr<std::string> e = std::move(r).error();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(*e, "gone");
}

} // namespace
} // namespace troupe::base
