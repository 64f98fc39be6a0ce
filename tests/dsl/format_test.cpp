// `troupe fmt` properties over every sample and every parsable golden case:
// the samples are already canonical, formatting is idempotent, and the
// formatted text compiles to the same IR.
#include "dsl/compile.hpp"
#include "dsl/format.hpp"
#include "dsl/ir_dump.hpp"
#include "dsl/parse.hpp"
#include "tests/dsl/test_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace troupe::dsl {
namespace {

using testing::list_files;
using testing::slurp;
using testing::source_path;

// Formats `text`; nullopt when it does not parse.
std::optional<std::string> format_text(const std::string& display, const std::string& text) {
  source_manager sm;
  diagnostics diags;
  auto id = sm.add(display, display, text);
  auto ast = parse(sm, id, diags);
  if (!ast)
    return std::nullopt;
  return format_file(*ast, sm.file(id));
}

std::vector<std::string> all_inputs() {
  auto v = list_files("workflows", ".wf");
  auto c = list_files("tests/dsl/cases", ".wf");
  v.insert(v.end(), c.begin(), c.end());
  return v;
}

TEST(format, samples_are_canonical) {
  for (const auto& f : list_files("workflows", ".wf")) {
    auto text = slurp(source_path(f));
    auto formatted = format_text(f, text);
    ASSERT_TRUE(formatted) << f;
    EXPECT_EQ(text, *formatted) << f << " is not in canonical layout";
  }
}

TEST(format, is_idempotent_and_keeps_comments) {
  size_t checked = 0;
  for (const auto& f : all_inputs()) {
    auto once = format_text(f, slurp(source_path(f)));
    if (!once)
      continue; // Syntax-error cases: fmt refuses them.
    auto twice = format_text(f, *once);
    ASSERT_TRUE(twice) << f << ": formatted text does not parse:\n" << *once;
    EXPECT_EQ(*once, *twice) << f;
    auto original = slurp(source_path(f));
    size_t hashes_in = 0, hashes_out = 0;
    for (size_t p = original.find('#'); p != std::string::npos; p = original.find('#', p + 1))
      ++hashes_in;
    for (size_t p = once->find('#'); p != std::string::npos; p = once->find('#', p + 1))
      ++hashes_out;
    EXPECT_EQ(hashes_in, hashes_out) << f << ": a comment was lost";
    ++checked;
  }
  EXPECT_GT(checked, 20u);
}

TEST(format, formatted_files_compile_to_the_same_ir) {
  size_t checked = 0;
  for (const auto& f : all_inputs()) {
    auto path = source_path(f);
    auto original = compile_file(path);
    if (!original->ok())
      continue;
    auto formatted = format_text(path, slurp(path));
    ASSERT_TRUE(formatted) << f;
    auto again = compile_source(path, *formatted);
    ASSERT_TRUE(again->ok()) << f << ":\n" << again->report();
    EXPECT_EQ(ir_dump(*original->checked), ir_dump(*again->checked)) << f;
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

TEST(format, canonical_layout_of_a_messy_file) {
  std::string messy =
    "workflow w { input a: text # note\n"
    "    llm s { prompt: \"Hi {{a}}\" temperature: 0.5 verify { json length: 1..10 } }\n"
    "output o: text = s ?? (\"x\") }\n";
  std::string expected =
    "workflow w {\n"
    "  input a: text  # note\n"
    "  llm s {\n"
    "    prompt: \"Hi {{a}}\"\n"
    "    temperature: 0.5\n"
    "    verify {\n"
    "      json\n"
    "      length: 1..10\n"
    "    }\n"
    "  }\n"
    "  output o: text = s ?? \"x\"\n"
    "}\n";
  auto out = format_text("messy.wf", messy);
  ASSERT_TRUE(out);
  EXPECT_EQ(expected, *out);
}

TEST(format, reindents_multiline_strings_without_changing_them) {
  std::string text =
    "workflow w {\n"
    "        input a: text = \"\"\"\n"
    "                 first\n"
    "                   indented\n"
    "\n"
    "                 last\n"
    "            \"\"\"\n"
    "  output o: text = a\n"
    "}\n";
  auto out = format_text("w.wf", text);
  ASSERT_TRUE(out);
  EXPECT_NE(out->find("  input a: text = \"\"\"\n    first\n      indented\n\n    last\n  \"\"\"\n"),
            std::string::npos) << *out;
  auto a = compile_source("w.wf", text), b = compile_source("w.wf", *out);
  ASSERT_TRUE(a->ok() && b->ok()) << a->report() << b->report();
  EXPECT_EQ(ir_dump(*a->checked), ir_dump(*b->checked));
  EXPECT_NE(ir_dump(*a->checked).find("\"first\\n  indented\\n\\nlast\""), std::string::npos);
}

TEST(format, expressions_get_minimal_parentheses) {
  auto out = format_text("e.wf",
    "workflow w { input a: number output o: bool = ((a + 1) * 2 > 3) and not (a == 1 or a == 2) }\n");
  ASSERT_TRUE(out);
  EXPECT_NE(out->find("output o: bool = (a + 1) * 2 > 3 and not (a == 1 or a == 2)"),
            std::string::npos) << *out;
}

} // namespace
} // namespace troupe::dsl
