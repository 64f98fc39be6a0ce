// Model answers as step results: text kept as is; JSON found inside fences
// and prose, and refused with an excerpt when absent.
#include "runtime/model_output.hpp"

#include <gtest/gtest.h>

namespace troupe::runtime {
namespace {

TEST(model_output, text_is_kept_verbatim) {
  EXPECT_EQ(" there was a girl.\n", model_output_parse(" there was a girl.\n", false).value());
}

TEST(model_output, json_is_found_in_fences_and_prose) {
  struct row {
    std::string text;
    value expected;
  };
  std::vector<row> rows = {
    {"{\"hard\": true}", {{"hard", true}}},
    {"```json\n{\"hard\": false}\n```", {{"hard", false}}},
    {"Sure! Here it is: [1, 2, {\"a\": \"}\"}] Hope it helps.",
     value::parse("[1, 2, {\"a\": \"}\"}]")},
    {"{not json} then {\"ok\": 1}", {{"ok", 1}}},
    {"42", 42},
  };
  for (const auto& r : rows) {
    auto v = model_output_parse(r.text, true);
    ASSERT_TRUE(v) << r.text << ": " << v.error();
    EXPECT_EQ(r.expected, v.value()) << r.text;
  }
}

TEST(model_output, missing_json_is_an_error_with_an_excerpt) {
  auto v = model_output_parse("I think the answer is yes, because " + std::string(200, 'x'), true);
  ASSERT_FALSE(v);
  EXPECT_NE(std::string::npos, v.error().find("not JSON: \"I think the answer")) << v.error();
  EXPECT_LT(v.error().size(), 150u);
  EXPECT_FALSE(model_output_parse("{\"open\": [1, 2", true));
  EXPECT_FALSE(model_output_parse("", true));
}

} // namespace
} // namespace troupe::runtime
