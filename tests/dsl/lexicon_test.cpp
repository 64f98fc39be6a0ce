// dsl/lexicon: the keyword list against the grammar, names, and string
// quoting that the parser reads back to the same text.
#include "dsl/format.hpp"
#include "dsl/lexicon.hpp"
#include "dsl/parse.hpp"
#include "tests/dsl/test_files.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

namespace troupe::dsl {
namespace {

// The words of the grammar's keyword rules: `NAME : 'word' ;` with a word
// of letters only (punctuation tokens are written inline in parser rules).
std::set<std::string> grammar_keywords() {
  std::set<std::string> words;
  std::istringstream in(testing::slurp(testing::source_path("dsl/grammar/Troupe.g4")));
  const std::regex rule(R"(^\s*[A-Z][A-Z_]*\s*:\s*'([A-Za-z]+)'\s*;)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, rule))
      words.insert(m[1]);
  return words;
}

// Parses `text` as a file; nullopt (with the diagnostics in `diags`) when
// it has a lexical or syntax error.
std::optional<ast::file> parse_text(const std::string& text, diagnostics& diags) {
  source_manager sm;
  auto id = sm.add("lexicon.wf", "lexicon.wf", text);
  return parse(sm, id, diags);
}

// The string a step's `prompt:` parses to, for `literal` written in it.
std::optional<ast::template_string> parse_prompt(const std::string& literal,
                                                 std::string& report) {
  diagnostics diags;
  auto f = parse_text("workflow w {\n  llm s {\n    prompt: " + literal + "\n  }\n}\n", diags);
  if (!f) {
    for (const auto& d : diags.items())
      report += d.message + "; ";
    return std::nullopt;
  }
  const auto& wf = std::get<ast::workflow_decl>(f->items.at(0));
  const auto& step = std::get<ast::step_decl>(wf.members.at(0));
  return step.body.entries.at(0).value->str;
}

// The text of `s` with each interpolation written back as {{expr}}.
std::string reassemble(const ast::template_string& s) {
  std::string out;
  for (const auto& p : s.parts)
    out += p.value ? "{{" + expr_to_source(*p.value) + "}}" : p.literal;
  return out;
}

TEST(lexicon, keywords_are_the_grammars_keyword_rules) {
  const auto& words = keywords();
  EXPECT_TRUE(std::is_sorted(words.begin(), words.end()));
  EXPECT_EQ(words.end(), std::adjacent_find(words.begin(), words.end()));
  const std::set<std::string> listed(words.begin(), words.end());
  const auto grammar = grammar_keywords();
  ASSERT_FALSE(grammar.empty()) << "no keyword rules found in dsl/grammar/Troupe.g4";
  EXPECT_EQ(grammar, listed);
}

TEST(lexicon, no_keyword_parses_as_a_name) {
  for (auto word : keywords()) {
    const std::string w{word};
    EXPECT_TRUE(is_keyword(w)) << w;
    EXPECT_FALSE(is_identifier(w)) << w;
    diagnostics diags;
    EXPECT_FALSE(parse_text("workflow " + w + " {}\n", diags)) << w;
    EXPECT_FALSE(diags.items().empty()) << w;
  }
  diagnostics diags;
  EXPECT_TRUE(parse_text("workflow workflows {}\n", diags));
}

TEST(lexicon, identifiers) {
  struct row {
    const char* word;
    bool identifier;
  };
  const row rows[] = {
    {"draft", true},     {"_x", true},        {"a1_b2", true},   {"Workflow", true},
    {"result", true},    {"forx", true},      {"", false},       {"1a", false},
    {"a-b", false},      {"a b", false},      {"a.b", false},    {"caf\xC3\xA9", false},
    {"for", false},      {"null", false},     {"registry", false},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(r.identifier, is_identifier(r.word)) << "'" << r.word << "'";
    if (r.identifier) {
      diagnostics diags;
      EXPECT_TRUE(parse_text(std::string("workflow ") + r.word + " {}\n", diags)) << r.word;
    }
  }
}

// Text a prompt may hold; none opens a {{ that it does not close.
const char* const tricky[] = {
  "",
  "plain words",
  "say \"hi\" and 'bye'",
  "back\\slash, \\n is not a newline, \\u{41} no escape",
  "ends with a backslash \\",
  "line one\nline two\r\n\ttabbed",
  "\"\"\" not a triple string",
  "# not a comment",
  "lone { brace } and }} closers",
  "caf\xC3\xA9, \xE6\x97\xA5\xE6\x9C\xAC, \xF0\x9F\x8E\x89",
  "use {{draft}} and {{notes.summary}} and {{items[0]}}",
};

TEST(lexicon, literal_quoting_parses_back_to_the_same_text) {
  for (const std::string s : tricky) {
    std::string report;
    auto parsed = parse_prompt(quote_string(s, string_braces::literal), report);
    ASSERT_TRUE(parsed) << quote_string(s, string_braces::literal) << ": " << report;
    EXPECT_TRUE(parsed->is_plain()) << s;
    EXPECT_EQ(s, parsed->plain_text());
  }
}

TEST(lexicon, interpolating_quoting_keeps_interpolations) {
  for (const std::string s : tricky) {
    std::string report;
    auto parsed = parse_prompt(quote_string(s), report);
    ASSERT_TRUE(parsed) << quote_string(s) << ": " << report;
    EXPECT_EQ(s, reassemble(*parsed));
    EXPECT_EQ(s.find("{{") == std::string::npos, parsed->is_plain()) << s;
  }
  std::string report;
  auto parsed = parse_prompt(quote_string("a {{draft}} b"), report);
  ASSERT_TRUE(parsed) << report;
  ASSERT_EQ(3u, parsed->parts.size());
  EXPECT_EQ("a ", parsed->parts[0].literal);
  ASSERT_TRUE(parsed->parts[1].value);
  EXPECT_EQ("draft", parsed->parts[1].value->text);
  EXPECT_EQ(" b", parsed->parts[2].literal);
}

TEST(lexicon, escapes_are_the_ones_the_parser_reads) {
  EXPECT_EQ(R"(a\"b\\c\nd\te\rf{g)", escape_string("a\"b\\c\nd\te\rf{g", string_braces::interpolate));
  EXPECT_EQ(R"(\{\{x}})", escape_string("{{x}}", string_braces::literal));
  EXPECT_EQ("\"\"", quote_string(""));
}

} // namespace
} // namespace troupe::dsl
