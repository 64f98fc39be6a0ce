// decode_string(): escapes, the multi-line dedent rule, and interpolation
// splitting with exact source positions, tested without the parser.
#include "dsl/parse_string.hpp"

#include <gtest/gtest.h>

namespace troupe::dsl {
namespace {

struct decoded {
  bool ok;
  ast::template_string str;
  std::vector<std::pair<std::string, source_pos>> interpolations;
  diagnostics diags;
};

decoded decode(const std::string& raw, source_pos start = {1, 1}) {
  decoded d;
  auto sub = [&](const std::string& text, source_pos at) -> ast::expr_ptr {
    d.interpolations.emplace_back(text, at);
    auto e = std::make_shared<ast::expr>();
    e->kind = ast::expr_kind::name;
    e->text = text;
    return e;
  };
  d.ok = decode_string(0, raw, start, d.diags, sub, d.str);
  return d;
}

TEST(decode_string, escapes) {
  auto d = decode(R"("a\tb\n\"c\" \\ \{{x}} \u{48}\u{e9}")");
  ASSERT_TRUE(d.ok);
  EXPECT_EQ("a\tb\n\"c\" \\ {{x}} H\xC3\xA9", d.str.plain_text());
  EXPECT_TRUE(d.str.is_plain());
}

TEST(decode_string, bad_escapes_are_reported_at_their_column) {
  auto d = decode(R"("ok \q and \u{D800}")", {3, 10});
  EXPECT_FALSE(d.ok);
  ASSERT_EQ(2u, d.diags.items().size());
  EXPECT_EQ(diag_code::E003, d.diags.items()[0].code);
  EXPECT_EQ((source_pos{3, 14}), d.diags.items()[0].range.begin);
  EXPECT_EQ((source_pos{3, 21}), d.diags.items()[1].range.begin);
}

TEST(decode_string, interpolations_split_with_positions) {
  auto d = decode("\"Hi {{ name }}, you are {{age}}.\"", {2, 5});
  ASSERT_TRUE(d.ok);
  ASSERT_EQ(5u, d.str.parts.size());
  EXPECT_EQ("Hi ", d.str.parts[0].literal);
  EXPECT_EQ(" name ", d.str.parts[1].value->text);
  EXPECT_EQ(", you are ", d.str.parts[2].literal);
  EXPECT_EQ(".", d.str.parts[4].literal);
  ASSERT_EQ(2u, d.interpolations.size());
  EXPECT_EQ((source_pos{2, 11}), d.interpolations[0].second);
  EXPECT_EQ((source_pos{2, 31}), d.interpolations[1].second);
}

TEST(decode_string, multiline_dedent) {
  auto d = decode("\"\"\"\n      first\n        indented\n      \n      last\n    \"\"\"");
  ASSERT_TRUE(d.ok);
  EXPECT_EQ("first\n  indented\n\nlast", d.str.plain_text());
}

TEST(decode_string, multiline_positions_follow_the_source) {
  auto d = decode("\"\"\"\n    a {{x}}\n  \"\"\"", {7, 12});
  ASSERT_TRUE(d.ok);
  ASSERT_EQ(1u, d.interpolations.size());
  EXPECT_EQ((source_pos{8, 9}), d.interpolations[0].second);
}

TEST(decode_string, unterminated_and_empty_interpolations) {
  auto a = decode("\"x {{ y\"");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(diag_code::E006, a.diags.items().at(0).code);
  auto b = decode("\"x {{   }}\"");
  EXPECT_FALSE(b.ok);
  EXPECT_EQ(diag_code::E006, b.diags.items().at(0).code);
  EXPECT_TRUE(b.interpolations.empty());
}

TEST(decode_string, single_quotes_and_utf8_columns) {
  auto d = decode("'größe {{n}}'", {1, 1});
  ASSERT_TRUE(d.ok);
  EXPECT_EQ((source_pos{1, 10}), d.interpolations.at(0).second);
}

} // namespace
} // namespace troupe::dsl
