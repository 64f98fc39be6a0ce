// Directory-driven golden tests: every tests/dsl/cases/NAME.wf is compiled
// and compared with NAME.err (the rendered diagnostics) and/or NAME.ir (the
// checked graph dump). Set TROUPE_UPDATE_GOLDEN=1 to rewrite expectations,
// then review the diff.
#include "dsl/compile.hpp"
#include "dsl/ir_dump.hpp"
#include "tests/dsl/test_files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace troupe::dsl {
namespace {

namespace fs = std::filesystem;
using testing::list_files;
using testing::slurp;
using testing::source_path;

const char* cases_dir = "tests/dsl/cases";

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& f : list_files(cases_dir, ".wf"))
    names.push_back(fs::path(f).stem().string());
  return names;
}

// Compiles with the cases directory as working directory, so diagnostics
// show short, machine-independent paths.
std::unique_ptr<compilation> compile_case(const std::string& name) {
  auto old = fs::current_path();
  fs::current_path(source_path(cases_dir));
  auto c = compile_file(name + ".wf");
  fs::current_path(old);
  return c;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class golden : public ::testing::TestWithParam<std::string> {};

TEST_P(golden, matches_expectation) {
  const auto& name = GetParam();
  std::string base = source_path(std::string(cases_dir) + "/" + name);
  auto c = compile_case(name);
  std::string report = c->report();
  std::string ir = c->ok() ? ir_dump(*c->checked) : "";
  if (std::getenv("TROUPE_UPDATE_GOLDEN")) {
    fs::remove(base + ".err");
    fs::remove(base + ".ir");
    if (!report.empty()) write(base + ".err", report);
    if (c->ok()) write(base + ".ir", ir);
  }
  bool has_err = fs::exists(base + ".err"), has_ir = fs::exists(base + ".ir");
  ASSERT_TRUE(has_err || has_ir) << name << " has neither .err nor .ir";
  if (has_err)
    EXPECT_EQ(slurp(base + ".err"), report);
  else
    EXPECT_EQ("", report) << "unexpected diagnostics";
  if (has_ir) {
    ASSERT_TRUE(c->ok()) << report;
    EXPECT_EQ(slurp(base + ".ir"), ir);
  } else {
    EXPECT_FALSE(c->ok()) << "case compiles but has no .ir expectation";
  }
}

INSTANTIATE_TEST_SUITE_P(cases, golden, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

TEST(golden_suite, has_at_least_forty_cases) {
  EXPECT_GE(case_names().size(), 40u);
}

std::set<std::string> codes_in_goldens() {
  std::set<std::string> seen;
  std::regex code(R"((?:error|warning)\[([EW]\d{3})\])");
  for (const auto& f : list_files(cases_dir, ".err")) {
    std::string text = slurp(source_path(f));
    for (std::sregex_iterator it(text.begin(), text.end(), code), end; it != end; ++it)
      seen.insert((*it)[1]);
  }
  return seen;
}

TEST(golden_suite, every_code_has_a_case) {
  auto seen = codes_in_goldens();
  for (auto c : all_codes())
    EXPECT_TRUE(seen.count(code_name(c))) << code_name(c) << " has no golden case";
}

TEST(golden_suite, every_code_is_documented) {
  std::string doc = slurp(source_path("docs/dsl.md"));
  ASSERT_FALSE(doc.empty()) << "docs/dsl.md is missing";
  for (auto c : all_codes())
    EXPECT_NE(doc.find("### " + code_name(c)), std::string::npos)
      << code_name(c) << " is not documented in docs/dsl.md";
}

} // namespace
} // namespace troupe::dsl
