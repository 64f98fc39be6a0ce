// The verifier on the verify blocks of real compiled workflows, and the
// agreement of several answers.
#include "dsl/compile.hpp"
#include "runtime/verifier.hpp"
#include "tests/runtime/wf_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace troupe::runtime {
namespace {

using test::wf_fixture;

const char* const checked_wf = R"(model m {
  backend: gguf("stories260K.gguf")
}

workflow t {
  input q: text
  input min_len: number
  input items: list<text>

  llm extract {
    prompt: "Extract the fields of {{q}} as JSON."
    model: m
    format: json
    verify {
      json
      schema: """
        {"type": "object", "required": ["name"],
         "properties": {"name": {"type": "string"}, "age": {"minimum": 0}}}
      """
      assert: len(result.name) > 0
      assert: result.ok ?? true
    }
  }

  llm summary {
    prompt: "Summarize {{q}}"
    model: m
    verify {
      regex: "(?i)^summary:"
      regex: "done\\.$"
      length: 10..200
      assert: not contains(result, "TODO")
      assert: len(result) > min_len
    }
  }

  llm raw {
    prompt: "Say something"
    model: m
    verify {
      json
    }
  }

  llm words {
    prompt: "Say many words"
    model: m
    verify {
      regex: "^(\\w|\\s)*$"
    }
  }

  llm each for item in items {
    prompt: "About {{item}}"
    model: m
    verify {
      assert: contains(result, item)
      length: 1..3
    }
  }

  output a: json = extract
  output b: text = summary
  output c: text = raw
  output w: text = words
  output d: list<text> = each
}
)";

class verifier : public ::testing::Test {
protected:
  verifier() : fx_(checked_wf) {
    fx_.inputs = {{"q", "Ada"}, {"min_len", 12}, {"items", {"x", "y"}}};
  }

  verify_report verify(const std::string& step, const value& result,
                       const value* loop_value = nullptr) {
    return verify_result(fx_.step(step).verify, result, fx_.scope(loop_value));
  }

  wf_fixture fx_;
};

std::string all_messages(const verify_report& r) {
  std::string out;
  for (const auto& f : r.failures)
    out += f.check + ": " + f.message + "\n";
  return out;
}

TEST_F(verifier, passing_results_pass) {
  EXPECT_TRUE(verify("extract", {{"name", "Ada"}, {"age", 36}}).passed());
  EXPECT_TRUE(verify("extract", {{"age", 1}, {"name", "Ada"}, {"ok", true}}).passed());
  auto r = verify("summary", "Summary: all went well, done.");
  EXPECT_TRUE(r.passed()) << all_messages(r);
  r = verify("summary", "SUMMARY: it is done.");
  EXPECT_TRUE(r.passed()) << all_messages(r);
}

TEST_F(verifier, json_check_names_the_parse_error_and_shows_the_text) {
  auto r = verify("raw", "Once upon a time");
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  const auto& f = r.failures[0];
  EXPECT_EQ(f.check, "json");
  EXPECT_EQ(f.message.rfind("result is not valid JSON: parse error at line 1, column ", 0), 0u)
    << f.message;
  EXPECT_NE(f.message.find("; the text is \"Once upon a time\""), std::string::npos) << f.message;
  EXPECT_EQ(f.range.begin, fx_.pos_of("json", "llm raw"));
  // A string is parsed; anything else already is JSON.
  EXPECT_TRUE(verify("raw", " [1, {\"a\": null}] ").passed());
  EXPECT_TRUE(verify("raw", value{{"k", 1}}).passed());
  EXPECT_TRUE(verify("raw", 3).passed());
  r = verify("raw", std::string(600, '[') + std::string(600, ']'));
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].message.rfind("result is not valid JSON: JSON nests deeper than 512 "
                                        "levels; the text is \"[[[[",
                                        0),
            0u)
    << r.failures[0].message;
}

TEST_F(verifier, schema_violations_each_become_a_failure) {
  auto r = verify("extract", {{"name", 3}, {"age", -1}});
  ASSERT_EQ(r.failures.size(), 3u) << all_messages(r);
  EXPECT_EQ(r.failures[0].check, "schema");
  EXPECT_EQ(r.failures[0].message, "schema violation at /age: -1 is less than the minimum 0");
  EXPECT_EQ(r.failures[1].message,
            "schema violation at /name: expected type \"string\", found number 3");
  EXPECT_EQ(r.failures[0].range.begin, fx_.pos_of(R"(""")"));
  // The assert faults on the same value: its message and range say where.
  EXPECT_EQ(r.failures[2].check, "assert");
  EXPECT_EQ(r.failures[2].message,
            "assert len(result.name) > 0 could not be evaluated: argument 1 of len() must be "
            "text, a list or an object, found number 3");
  EXPECT_EQ(r.failures[2].range.begin, fx_.pos_of("result.name)"));

  r = verify("extract", {{"ok", false}});
  ASSERT_EQ(r.failures.size(), 3u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message,
            "schema violation at the root: missing required property \"name\"");
  EXPECT_EQ(r.failures[2].message, "assert failed: result.ok ?? true");
}

TEST_F(verifier, a_string_that_is_not_json_fails_json_and_schema) {
  auto r = verify("extract", "name: Ada");
  ASSERT_EQ(r.failures.size(), 4u) << all_messages(r);
  EXPECT_EQ(r.failures[0].check, "json");
  EXPECT_EQ(r.failures[1].check, "schema");
  EXPECT_EQ(r.failures[1].message.rfind("result is not JSON, so it cannot match the schema: ", 0),
            0u);
  // A string has no fields: both asserts fault.
  EXPECT_EQ(r.failures[2].message,
            "assert len(result.name) > 0 could not be evaluated: cannot read field 'name' of "
            "text \"name: Ada\"");
  EXPECT_EQ(r.failures[3].check, "assert");
}

TEST_F(verifier, regex_is_a_search_with_an_excerpt_in_the_message) {
  const std::string story =
    "Once upon a time there was a little robot who wanted to learn how to paint the sky, "
    "and it was done.";
  auto r = verify("summary", story);
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].check, "regex");
  EXPECT_EQ(r.failures[0].message,
            "regex \"(?i)^summary:\" did not match \"Once upon a time there was a little robot "
            "who wanted to learn how to paint the s...\"");
  EXPECT_EQ(r.failures[0].range.begin, fx_.pos_of(R"("(?i)^summary:")"));
  // `$` anchors at the end of the text, `^` at its start: "done." inside
  // the text is not enough.
  r = verify("summary", "summary: done. And then more");
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message,
            "regex \"done\\\\.$\" did not match \"summary: done. And then more\"");
}

TEST_F(verifier, regex_on_long_results_neither_overflows_nor_hangs) {
  // libstdc++ recurses per character for this pattern: 100 000 characters
  // overflow an 8 MiB stack when searched on the caller's thread.
  std::string words;
  while (words.size() < 100000)
    words += "word ";
  auto r = verify("words", words);
  EXPECT_TRUE(r.passed()) << all_messages(r);
  r = verify("words", words + "!");
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message.rfind("regex \"^(\\\\w|\\\\s)*$\" did not match \"word word", 0),
            0u)
    << r.failures[0].message;
  r = verify("words", std::string(600000, 'a'));
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].message,
            "regex \"^(\\\\w|\\\\s)*$\" could not be checked: text of 600000 bytes is too long "
            "to search with a regex (the limit is 524288)");
}

TEST_F(verifier, length_counts_code_points_and_elements) {
  auto r = verify("summary", "Summary: " + std::string(300, 'x') + " done.");
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].check, "length");
  EXPECT_EQ(r.failures[0].message, "length 315 is outside 10..200 (code points of the text)");
  EXPECT_EQ(r.failures[0].range.begin, fx_.pos_of("10..200"));
  std::string accents = "Summary: ";
  for (int i = 0; i < 180; ++i)
    accents += "\u00e9"; // 2 bytes, 1 code point
  r = verify("summary", accents + " done.");
  EXPECT_TRUE(r.passed()) << all_messages(r);

  const value item = "x";
  EXPECT_TRUE(verify("each", value::array({"x", "y"}), &item).passed());
  r = verify("each", value::array({"a", "b", "c", "d"}), &item);
  ASSERT_EQ(r.failures.size(), 2u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message, "assert failed: contains(result, item)");
  EXPECT_EQ(r.failures[1].message, "length 4 is outside 1..3 (elements of the list)");
  r = verify("each", value{{"x", 1}, {"y", 2}}, &item); // other kinds: length of the text
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message, "length 13 is outside 1..3 (code points of the object as text)");
}

TEST_F(verifier, asserts_see_inputs_and_report_their_source) {
  auto r = verify("summary", "Summary: a TODO, done.");
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message, "assert failed: not contains(result, \"TODO\")");
  EXPECT_EQ(r.failures[0].range.begin, fx_.pos_of("not contains"));
  fx_.inputs["min_len"] = 100;
  r = verify("summary", "Summary: short, done.");
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message, "assert failed: len(result) > min_len");
  r = verify("extract", {{"name", "Ada"}, {"ok", "yes"}});
  ASSERT_EQ(r.failures.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.failures[0].message, "assert result.ok ?? true gave string \"yes\", not a bool");
}

TEST(verifier_sample, plan_verify_workflow) {
  auto c = dsl::compile_file(std::string(TROUPE_SOURCE_DIR) + "/workflows/plan_verify.wf");
  ASSERT_TRUE(c->ok()) << c->report();
  const auto* wf = c->checked->graph().find_workflow("plan_and_verify");
  ASSERT_NE(wf, nullptr);
  const value inputs = {{"question", "Why is the sky blue?"}};
  const std::map<std::string, value> steps;
  const eval_scope scope{wf, &inputs, &steps};
  const auto& solve = wf->find_step("solve")->verify;
  EXPECT_TRUE(verify_result(solve, value::parse(R"({"steps": [{"do": "look up"}]})"), scope)
                .passed());
  auto r = verify_result(solve, value::parse(R"({"steps": []})"), scope);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].message, "assert failed: len(result.steps) > 0");
  const auto& answer = wf->find_step("answer")->verify;
  EXPECT_TRUE(verify_result(answer, "Rayleigh scattering.", scope).passed());
  r = verify_result(answer, "", scope);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].message, "length 0 is outside 1..3000 (code points of the text)");
}

TEST(agreement, keys_normalize_text_and_json) {
  EXPECT_EQ(agreement_key("Paris."), "paris");
  EXPECT_EQ(agreement_key("  PARIS!?  "), "paris");
  EXPECT_EQ(agreement_key("The   answer\n is\t42 ."), "the answer is 42");
  EXPECT_EQ(agreement_key("Mr. Smith"), "mr. smith"); // only trailing punctuation goes
  EXPECT_EQ(agreement_key(R"({"b": 1, "a": [1, 2.0]})"), R"({"a":[1,2],"b":1})");
  EXPECT_EQ(agreement_key(R"( {"a":[1,2],  "b":1} )"), R"({"a":[1,2],"b":1})");
  EXPECT_EQ(agreement_key(value{{"b", 1}, {"a", {1, 2}}}), R"({"a":[1,2],"b":1})");
  EXPECT_EQ(agreement_key(1.0), agreement_key(1));
  EXPECT_EQ(agreement_key(true), "true");
  EXPECT_EQ(agreement_key(nullptr), "null");
  EXPECT_EQ(agreement_key("42"), "42"); // a JSON scalar in text stays text
  EXPECT_NE(agreement_key(R"({"a": 1})"), agreement_key(R"({"a": 2})"));
}

TEST(agreement, largest_group_wins_and_ties_go_to_the_earliest) {
  auto a = find_agreement({"Paris.", "London", "paris", "PARIS!"}, 2);
  EXPECT_TRUE(a.reached);
  EXPECT_EQ(a.group, (std::vector<size_t>{0, 2, 3}));
  a = find_agreement({"b", "a", "a", "b"}, 2);
  EXPECT_TRUE(a.reached);
  EXPECT_EQ(a.group, (std::vector<size_t>{0, 3}));
  a = find_agreement({"b", "a", "a", "b"}, 3);
  EXPECT_FALSE(a.reached);
  EXPECT_EQ(a.group, (std::vector<size_t>{0, 3}));
  a = find_agreement({R"({"x": 1, "y": 2})", value{{"y", 2}, {"x", 1}}, "no"}, 2);
  EXPECT_TRUE(a.reached);
  EXPECT_EQ(a.group, (std::vector<size_t>{0, 1}));
  a = find_agreement({}, 1);
  EXPECT_FALSE(a.reached);
  EXPECT_TRUE(a.group.empty());
  EXPECT_TRUE(find_agreement({"x"}, 0).reached);
}

} // namespace
} // namespace troupe::runtime
