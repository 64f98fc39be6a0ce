#include "dsl/compile.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/types.hpp"

#include <gtest/gtest.h>

#include <set>

namespace troupe::dsl {
namespace {

TEST(diagnostics, code_names_are_stable_and_unique) {
  EXPECT_EQ("E001", code_name(diag_code::E001));
  EXPECT_EQ("E061", code_name(diag_code::E061));
  EXPECT_EQ("W004", code_name(diag_code::W004));
  std::set<std::string> names;
  for (auto c : all_codes()) {
    EXPECT_TRUE(names.insert(code_name(c)).second);
    EXPECT_NE("unknown", code_title(c));
  }
}

TEST(diagnostics, render_has_location_source_line_caret_and_hint) {
  auto c = compile_source("x.wf", "workflow w {\n  output o: text = missing_name\n}\n");
  ASSERT_FALSE(c->ok());
  EXPECT_EQ("x.wf:2:20: error[E020]: undefined name 'missing_name'\n"
            "  2 |   output o: text = missing_name\n"
            "    |                    ^^^^^^^^^^^^\n"
            "1 error, 0 warnings\n",
            c->report());
}

TEST(diagnostics, all_errors_are_reported_sorted_and_once) {
  auto c = compile_source("x.wf",
    "workflow w {\n"
    "  output b: text = zzz\n"
    "  output a: text = yyy\n"
    "  output c: number = \"text\"\n"
    "}\n");
  const auto& items = c->diags.items();
  ASSERT_EQ(3u, items.size());
  EXPECT_EQ(2u, items[0].range.begin.line);
  EXPECT_EQ(3u, items[1].range.begin.line);
  EXPECT_EQ(diag_code::E030, items[2].code);
}

TEST(diagnostics, suggestions_pick_the_closest_name) {
  EXPECT_EQ("classify", closest_match("clasify", {"classify", "answer", "class_id"}));
  EXPECT_EQ("", closest_match("zebra", {"classify", "answer"}));
  EXPECT_EQ("did you mean 'text'?", did_you_mean("txt", {"text", "number"}));
}

TEST(diagnostics, carets_count_code_points_not_bytes) {
  auto c = compile_source("u.wf", "workflow w {\n  input é: text\n}\n");
  // 'é' is not a valid identifier character: E004 at column 9.
  ASSERT_FALSE(c->ok());
  EXPECT_NE(c->report().find("u.wf:2:9: error[E004]"), std::string::npos) << c->report();
}

TEST(types, assignability) {
  EXPECT_TRUE(assignable(type::text(), type::text()));
  EXPECT_FALSE(assignable(type::text(), type::number()));
  EXPECT_TRUE(assignable(type::json(), type::number()));
  EXPECT_TRUE(assignable(type::list_of(type::text()), type::json()));
  EXPECT_FALSE(assignable(type::list_of(type::text()), type::list_of(type::number())));
  EXPECT_EQ("list<list<json>>", type::list_of(type::list_of(type::json())).to_string());
}

} // namespace
} // namespace troupe::dsl
