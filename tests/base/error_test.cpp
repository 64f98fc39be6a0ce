// base::error::to_string(): every combination of location fields, table-driven.
#include "runtime/base/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace troupe::base {
namespace {

struct error_case {
  error e;
  std::string text;
};

TEST(base_error, prints_the_location_first_then_the_message) {
  const std::vector<error_case> cases = {
    {error{"no workflow 'main' in the file"}, "no workflow 'main' in the file"},
    {error{"cannot open: No such file", "a/b.gguf"}, "a/b.gguf: cannot open: No such file"},
    {error{"expected a table", "troupe.toml", 3, 7}, "troupe.toml:3:7: expected a table"},
    {error{"line too long", "journal.jsonl", 12}, "journal.jsonl:12: line too long"},
    {error{"bad magic", "m.gguf", 0, 0, 0}, "m.gguf: byte 0: bad magic"},
    {error{"truncated", "m.gguf", 0, 0, 4096}, "m.gguf: byte 4096: truncated"},
    // A line wins over a byte offset; without a path neither is printed.
    {error{"both", "f", 2, 1, 99}, "f:2:1: both"},
    {error{"nowhere", "", 5, 6, 7}, "nowhere"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(c.e.to_string(), c.text);
}

} // namespace
} // namespace troupe::base
