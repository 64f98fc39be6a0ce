// No input may crash the compiler: every sample and case truncated at every
// line boundary, and hand-made hostile inputs, must end in diagnostics with
// valid locations (or compile).
#include "dsl/compile.hpp"
#include "dsl/dot.hpp"
#include "dsl/ir_dump.hpp"
#include "tests/dsl/test_files.hpp"

#include <gtest/gtest.h>

namespace troupe::dsl {
namespace {

using testing::list_files;
using testing::slurp;
using testing::source_path;

// Compiles and checks the invariants every result must hold.
void expect_sane(const std::string& display, const std::string& text) {
  auto c = compile_source(display, text);
  if (c->ok()) {
    EXPECT_FALSE(ir_dump(*c->checked).empty());
    EXPECT_FALSE(to_dot(*c->checked).empty());
    return;
  }
  ASSERT_TRUE(c->diags.has_errors()) << display << ": failed without an error";
  for (const auto& d : c->diags.items()) {
    ASSERT_TRUE(d.range.valid()) << display << ": " << d.message;
    ASSERT_LT(d.range.file, c->sources.size());
    const auto& f = c->sources.file(d.range.file);
    EXPECT_LE(d.range.begin.line, f.line_starts.size() + 1) << display << ": " << d.message;
  }
  EXPECT_NE(c->report().find("error["), std::string::npos);
}

TEST(robustness, every_truncation_of_every_file_yields_diagnostics) {
  auto files = list_files("workflows", ".wf");
  auto cases = list_files("tests/dsl/cases", ".wf");
  files.insert(files.end(), cases.begin(), cases.end());
  size_t runs = 0;
  for (const auto& f : files) {
    auto path = source_path(f);
    auto text = slurp(path);
    for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', nl + 1)) {
      expect_sane(path, text.substr(0, nl + 1));
      ++runs;
    }
  }
  EXPECT_GT(runs, 500u);
}

TEST(robustness, hostile_inputs) {
  std::string deep(10000, '(');
  std::string chain = "workflow w { output o: number = 1";
  for (int i = 0; i < 5000; ++i) chain += " ?? 1";
  std::string prefix = "workflow w { output o: bool = ";
  for (int i = 0; i < 5000; ++i) prefix += "not ";
  const std::vector<std::string> inputs = {
    "", "#", "\n\n\n", std::string("\0\0\0", 3), "\xff\xfe", "workflow", "workflow w {",
    "}", "{{}}", "\"", "\"\"\"", "'", "workflow w { input a: text = \"{{\" }",
    "workflow w { input a: text = \"{{ {{ }} }}\" }", deep, chain, prefix + "true }",
    "workflow w { llm s { prompt: \"\\u{110000}\" } }", "model m { backend: gguf() }",
    "import \"/\"", "import \"\"", "import registry \"/dev/null\"",
    "workflow w {\r\n  input a: text\r\n  output o: text = a\r\n}\r\n",
    "workflow w { output o: number = 1e999999 }",
    "workflow w { llm s { retries: 99999999999999999999999 prompt: \"x\" } output o: text = s }",
  };
  for (const auto& in : inputs)
    expect_sane("hostile.wf", in);
}

} // namespace
} // namespace troupe::dsl
