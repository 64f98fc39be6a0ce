// The UTF-8 helpers of runtime/base/utf8.hpp, one table each: valid text of
// every sequence length, and broken text of every kind the validator names.
#include "runtime/base/utf8.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace troupe::base {
namespace {

constexpr size_t npos = std::string_view::npos;

// "é" is 2 bytes, "€" 3, "😀" 4.
const std::string e_acute = "\xC3\xA9";
const std::string euro = "\xE2\x82\xAC";
const std::string grin = "\xF0\x9F\x98\x80";
const std::string fffd = "\xEF\xBF\xBD";

struct invalid_case {
  std::string text;
  size_t invalid_at;
  const char* why;
};

TEST(base_utf8, invalid_at_finds_the_first_bad_byte) {
  const std::vector<invalid_case> cases = {
    {"", npos, "empty"},
    {"plain ascii", npos, "ascii"},
    {"h" + e_acute + "llo " + euro + grin, npos, "every length"},
    {"\xF4\x8F\xBF\xBF", npos, "U+10FFFF, the last code point"},
    {"a\x80", 1, "stray continuation byte"},
    {"ok\xFF", 2, "0xFF leads nothing"},
    {"\xF8\x88\x80\x80\x80", 0, "five-byte form"},
    {"\xC3", 0, "truncated at the end"},
    {"\xC3(", 0, "continuation missing"},
    {"ab\xE2\x82", 2, "three-byte sequence cut short"},
    {"\xC0\xAF", 0, "overlong two-byte"},
    {"\xE0\x80\xAF", 0, "overlong three-byte"},
    {"\xF0\x80\x80\xAF", 0, "overlong four-byte"},
    {"x\xED\xA0\x80", 1, "surrogate U+D800"},
    {"\xF4\x90\x80\x80", 0, "past U+10FFFF"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(utf8_invalid_at(c.text), c.invalid_at) << c.why;
}

TEST(base_utf8, valid_length_is_the_sequence_or_zero) {
  const std::string text = "a" + e_acute + euro + grin + "\x80" + "\xC3";
  const std::vector<std::pair<size_t, size_t>> cases = {
    {0, 1}, {1, 2}, {2, 0}, {3, 3}, {6, 4}, {10, 0}, {11, 0}};
  for (const auto& [at, len] : cases)
    EXPECT_EQ(utf8_valid_length(text, at), len) << "at " << at;
}

TEST(base_utf8, lead_length_reads_the_bit_pattern_only) {
  const std::vector<std::pair<unsigned char, size_t>> cases = {
    {0x00, 1}, {'a', 1}, {0x7F, 1}, {0x80, 0}, {0xBF, 0}, {0xC0, 2}, {0xC3, 2},
    {0xDF, 2}, {0xE0, 3}, {0xEF, 3}, {0xF0, 4}, {0xF7, 4}, {0xF8, 0}, {0xFF, 0}};
  for (const auto& [byte, len] : cases) {
    EXPECT_EQ(utf8_lead_length(byte), len) << int(byte);
    EXPECT_EQ(utf8_is_continuation(byte), byte >= 0x80 && byte < 0xC0) << int(byte);
  }
}

TEST(base_utf8, char_bytes_always_advances_and_stays_inside) {
  struct row {
    std::string text;
    size_t at;
    size_t bytes;
  };
  const std::vector<row> cases = {
    {"a", 0, 1},     {e_acute, 0, 2},   {e_acute, 1, 1},  {euro, 0, 3},
    {grin, 0, 4},    {"\xE2\x82", 0, 2}, {"\xFF", 0, 1},  {"x" + grin, 1, 4},
  };
  for (const auto& c : cases)
    EXPECT_EQ(utf8_char_bytes(c.text, c.at), c.bytes) << c.text << " at " << c.at;
}

TEST(base_utf8, length_counts_code_points) {
  const std::vector<std::pair<std::string, size_t>> cases = {
    {"", 0}, {"abc", 3}, {"h" + e_acute + "llo", 5}, {euro, 1},
    {grin + "a", 2}, {"\x80\x80", 0}, {"\xFF", 1}};
  for (const auto& [text, n] : cases)
    EXPECT_EQ(utf8_length(text), n) << text;
}

TEST(base_utf8, prefix_bytes_holds_whole_code_points) {
  const std::string hello = "h" + e_acute + "llo"; // 6 bytes, 5 code points
  const std::vector<std::pair<size_t, size_t>> cases = {
    {0, 0}, {1, 1}, {2, 3}, {4, 5}, {5, 6}, {9, 6}};
  for (const auto& [points, bytes] : cases)
    EXPECT_EQ(utf8_prefix_bytes(hello, points), bytes) << points << " code points";
  EXPECT_EQ(utf8_prefix_bytes(euro + euro, 1), 3u);
}

TEST(base_utf8, floor_never_splits_a_sequence) {
  const std::string hello = "h" + e_acute + "llo";
  const std::vector<std::pair<size_t, size_t>> cases = {
    {0, 0}, {1, 1}, {2, 1}, {3, 3}, {6, 6}, {50, 6}};
  for (const auto& [at, floor] : cases)
    EXPECT_EQ(utf8_floor(hello, at), floor) << "at " << at;
  EXPECT_EQ(utf8_floor(grin, 3), 0u);
}

TEST(base_utf8, next_steps_over_one_code_point) {
  const std::vector<std::pair<std::string, size_t>> cases = {
    {"a", 1}, {euro + "x", 3}, {grin, 4}, {"\x80\x80" "a", 2}, {"\xC3", 1}};
  for (const auto& [text, next] : cases)
    EXPECT_EQ(utf8_next(text, 0), next) << text;
}

TEST(base_utf8, complete_prefix_holds_back_only_an_unfinished_tail) {
  const std::vector<std::pair<std::string, size_t>> cases = {
    {"", 0},
    {"abc", 3},
    {"a\xE2\x82", 1},       // "€" still waiting for its last byte
    {"a" + euro, 4},
    {"a\xC3", 1},
    {"\xF0\x9F\x98", 0},
    {"a\x80", 2},           // a stray byte is not waiting for anything
    {"\xFF", 1},
  };
  for (const auto& [text, n] : cases)
    EXPECT_EQ(utf8_complete_prefix(text), n) << text;
}

TEST(base_utf8, append_encodes_every_length) {
  const std::vector<std::pair<uint32_t, std::string>> cases = {
    {0x41, "A"}, {0xE9, e_acute}, {0x20AC, euro}, {0x1F600, grin},
    {0x7FF, "\xDF\xBF"}, {0xFFFF, "\xEF\xBF\xBF"}, {0x10FFFF, "\xF4\x8F\xBF\xBF"}};
  for (const auto& [cp, bytes] : cases) {
    std::string out = "x";
    utf8_append(out, cp);
    EXPECT_EQ(out, "x" + bytes) << std::hex << cp;
    EXPECT_EQ(utf8_invalid_at(out), npos);
  }
}

TEST(base_utf8, replace_invalid_gives_one_fffd_per_bad_byte) {
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"abc", "abc"},
    {"h" + e_acute, "h" + e_acute},
    {"a\xFF" "b", "a" + fffd + "b"},
    {"\xE2\x82", fffd + fffd},
    {"\xC0\xAF" "x", fffd + fffd + "x"},
    {euro + "\x80" + euro, euro + fffd + euro},
  };
  for (const auto& [in, out] : cases) {
    const std::string got = utf8_replace_invalid(in);
    EXPECT_EQ(got, out) << in;
    EXPECT_EQ(utf8_invalid_at(got), npos) << in;
  }
}

TEST(base_utf8, ascii_fallback_masks_only_broken_text) {
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"plain", "plain"},
    {"h" + e_acute + "llo", "h" + e_acute + "llo"},
    {"h" + e_acute + "\xFF", "h???"},
    {"\x80", "?"},
  };
  for (const auto& [in, out] : cases) {
    std::string s = in;
    utf8_ascii_fallback(s);
    EXPECT_EQ(s, out) << in;
  }
}

} // namespace
} // namespace troupe::base
