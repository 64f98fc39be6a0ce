// Expression evaluation on real compiled workflows: every expression below
// went through parse(), build_ir() and check(), and names resolve through
// the checked workflow's refs.
#include "runtime/eval.hpp"
#include "runtime/value.hpp"
#include "tests/runtime/wf_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace troupe::runtime {
namespace {

using test::wf_fixture;

// Inputs of every kind, a json step and a conditional step; each test adds
// the outputs it evaluates.
std::string workflow_with(const std::string& members) {
  return R"(model m {
  backend: gguf("stories260K.gguf")
}

workflow t {
  input n: number
  input s: text
  input j: json
  input xs: list<number>
  input names: list<text>

  tool parsed {
    use: json_parse
    args {
      text: s
    }
  }

  llm expert {
    when: n > 100
    prompt: "Answer {{s}}"
    model: m
  }

)" + members + "\n}\n";
}

class eval_expr : public ::testing::Test {
protected:
  // Compiles `members` into the workflow and binds the standard inputs.
  wf_fixture& make(const std::string& members) {
    fx_ = std::make_unique<wf_fixture>(workflow_with(members));
    fx_->inputs = {{"n", 7},
                   {"s", "Hello"},
                   {"j",
                    {{"first", "Ada"},
                     {"last", "Lovelace"},
                     {"count", 3},
                     {"ratio", 0.5},
                     {"big", 1e300},
                     {"flag", "yes"},
                     {"items", {10, 20, 30}},
                     {"mixed", {1, 2.5, "x", true, nullptr, {1}}}}},
                   {"xs", {1, 2, 3}},
                   {"names", {"Ada", "Linus"}}};
    return *fx_;
  }

  // The value of output `o` of a workflow whose only output is `o: TYPE = EXPR`.
  value eval_ok(const std::string& type, const std::string& expr) {
    auto& fx = make("  output o: " + type + " = " + expr);
    auto r = fx.eval("o");
    if (!r) {
      ADD_FAILURE() << expr << ": " << r.error().message;
      return value();
    }
    return r.value();
  }

  eval_error eval_fault(const std::string& type, const std::string& expr) {
    auto& fx = make("  output o: " + type + " = " + expr);
    auto r = fx.eval("o");
    if (r) {
      ADD_FAILURE() << expr << " gave " << r.value().dump() << ", expected a fault";
      return {};
    }
    return r.error();
  }

  std::unique_ptr<wf_fixture> fx_;
};

TEST_F(eval_expr, arithmetic_follows_precedence_and_whole_results_are_integers) {
  EXPECT_EQ(eval_ok("number", "n * 2 + 1"), 15);
  EXPECT_EQ(eval_ok("number", "2 + 3 * 4 - 1"), 13);
  EXPECT_EQ(eval_ok("number", "(2 + 3) * 4"), 20);
  EXPECT_EQ(eval_ok("number", "n / 2"), 3.5);
  EXPECT_EQ(eval_ok("number", "-n - -1"), -6);
  EXPECT_EQ(eval_ok("number", "j.count + 1"), 4);
  EXPECT_EQ(eval_ok("json", "j.count * j.ratio"), 1.5);
  // Whole results print as integers in JSON outputs and journals.
  EXPECT_TRUE(eval_ok("number", "n * 2").is_number_integer());
  EXPECT_EQ("14", eval_ok("number", "n * 2").dump());
  EXPECT_TRUE(eval_ok("number", "n / 2").is_number_float());
  EXPECT_EQ("3", eval_ok("number", "len(xs)").dump());
}

TEST_F(eval_expr, plus_joins_text_when_either_side_is_text) {
  EXPECT_EQ(eval_ok("text", "s + \", world\""), "Hello, world");
  EXPECT_EQ(eval_ok("text", "j.first + \" \" + j.last"), "Ada Lovelace");
  EXPECT_EQ(eval_ok("json", "j.first + j.last"), "AdaLovelace");
  EXPECT_EQ(eval_ok("json", "j.count + j.ratio"), 3.5);
  EXPECT_EQ(eval_ok("text", "\"n=\" + j.count"), "n=3");
  EXPECT_EQ(eval_ok("text", "\"r=\" + j.ratio"), "r=0.5");
}

TEST_F(eval_expr, interpolation_renders_with_value_to_text) {
  EXPECT_EQ(eval_ok("text", "\"{{n}}/{{n / 2}}/{{n / 7}}\""), "7/3.5/1");
  EXPECT_EQ(eval_ok("text", "\"[{{null}}] {{true}} {{xs}} {{names}}\""),
            "[] true [1,2,3] [\"Ada\",\"Linus\"]");
  EXPECT_EQ(eval_ok("text", "\"{{j.items}} {{j.missing}}.\""), "[10,20,30] .");
  EXPECT_EQ(eval_ok("text", "\"{{ join(names, ' & ') }} wrote {{len(s)}} letters\""),
            "Ada & Linus wrote 5 letters");
}

TEST_F(eval_expr, equality_is_json_equality) {
  EXPECT_EQ(eval_ok("bool", "j.count == 3"), true); // integer 3 from JSON, double 3 from .wf
  EXPECT_EQ(eval_ok("bool", "xs == [1, 2, 3]"), true);
  EXPECT_EQ(eval_ok("bool", "xs != [1, 2]"), true);
  EXPECT_EQ(eval_ok("bool", "j.first == \"Ada\""), true);
  EXPECT_EQ(eval_ok("bool", "j.count == \"3\""), false); // different kinds differ
  EXPECT_EQ(eval_ok("bool", "j.missing == null"), true);
}

TEST_F(eval_expr, ordering_compares_numbers_or_texts) {
  EXPECT_EQ(eval_ok("bool", "n > 6.5"), true);
  EXPECT_EQ(eval_ok("bool", "n <= 7"), true);
  EXPECT_EQ(eval_ok("bool", "j.ratio < j.count"), true);
  EXPECT_EQ(eval_ok("bool", "s < \"World\""), true);
  EXPECT_EQ(eval_ok("bool", "\"b\" >= \"ab\""), true);
  EXPECT_EQ(eval_ok("bool", "5s < 1m"), true);
}

TEST_F(eval_expr, durations_are_milliseconds) {
  EXPECT_EQ(eval_ok("json", "1.5s + 250ms"), 1750);
  EXPECT_EQ(eval_ok("json", "-2m"), -120000);
}

TEST_F(eval_expr, and_or_short_circuit) {
  // j.flag is text: reading it as a bool would fault, but it is never read.
  EXPECT_EQ(eval_ok("bool", "n > 100 and j.flag"), false);
  EXPECT_EQ(eval_ok("bool", "n < 100 or j.flag"), true);
  EXPECT_EQ(eval_ok("bool", "n < 100 and not (n == 8)"), true);
}

TEST_F(eval_expr, missing_fields_and_skipped_steps_read_as_null) {
  EXPECT_TRUE(eval_ok("json", "j.missing").is_null());
  EXPECT_EQ(eval_ok("json", "j.missing ?? \"none\""), "none");
  EXPECT_EQ(eval_ok("json", "j.missing.deeper ?? 1"), 1);
  EXPECT_EQ(eval_ok("json", "j[\"missing\"] ?? j.first"), "Ada");
  EXPECT_EQ(eval_ok("json", "j.missing[0] ?? 5"), 5);
  EXPECT_EQ(eval_ok("json", "j.first ?? \"unused\""), "Ada");
  EXPECT_EQ(eval_ok("text", "expert ?? \"not escalated\""), "not escalated");
}

TEST_F(eval_expr, conditional_step_result_and_when) {
  auto& fx = make("  output o: text = expert ?? \"none\"");
  const auto& expert = fx.step("expert");
  auto when = evaluate(*expert.when, fx.scope());
  ASSERT_TRUE(when) << when.error().message;
  EXPECT_EQ(when.value(), false);
  fx.steps["expert"] = "forty-two";
  auto r = fx.eval("o");
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value(), "forty-two");
  auto prompt = render(expert.prompt->str, fx.scope());
  ASSERT_TRUE(prompt);
  EXPECT_EQ(prompt.value(), "Answer Hello");
}

TEST_F(eval_expr, indexes_lists_by_number_and_objects_by_text) {
  EXPECT_EQ(eval_ok("number", "xs[1]"), 2);
  EXPECT_EQ(eval_ok("json", "j.items[2]"), 30);
  EXPECT_EQ(eval_ok("json", "j[\"first\"]"), "Ada");
  EXPECT_EQ(eval_ok("text", "names[n - 6]"), "Linus");
  EXPECT_EQ(eval_ok("json", "j.mixed[5][0]"), 1);
}

TEST_F(eval_expr, builtin_functions) {
  EXPECT_EQ(eval_ok("number", "len(\"h\u00e9llo \u4e16\u754c\")"), 8); // code points
  EXPECT_EQ(eval_ok("number", "len(xs)"), 3);
  EXPECT_EQ(eval_ok("number", "len(j)"), 8); // an object: its members
  EXPECT_EQ(eval_ok("bool", "contains(s, \"ell\")"), true);
  EXPECT_EQ(eval_ok("bool", "contains(s, \"hell\")"), false);
  EXPECT_EQ(eval_ok("bool", "contains(names, \"Ada\")"), true);
  EXPECT_EQ(eval_ok("bool", "contains(xs, 2)"), true);
  EXPECT_EQ(eval_ok("bool", "contains(j.items, 20)"), true);
  EXPECT_EQ(eval_ok("bool", "contains(j, \"first\")"), true); // an object: its keys
  EXPECT_EQ(eval_ok("text", "join(j.mixed, \"-\")"), "1-2.5-x-true--[1]");
  EXPECT_EQ(eval_ok("text", "join([], \", \")"), "");
  EXPECT_EQ(eval_ok("text", "upper(\"h\u00e9llo\")"), "H\u00e9LLO"); // ASCII only
  EXPECT_EQ(eval_ok("text", "lower(\"HeLLo \u00c9\")"), "hello \u00c9");
  EXPECT_EQ(eval_ok("text", "trim(\" \\t a b \\n\")"), "a b");
}

TEST_F(eval_expr, loop_variable_and_input_defaults) {
  auto& fx = make(R"(  input k: number = 2 + 3 * 4
  llm greet for name in names {
    prompt: "Hi {{name}}, {{upper(name)}}"
    model: m
  }
  output o: list<text> = greet)");
  const auto& greet = fx.step("greet");
  const value name = "Ada";
  auto prompt = render(greet.prompt->str, fx.scope(&name));
  ASSERT_TRUE(prompt) << prompt.error().message;
  EXPECT_EQ(prompt.value(), "Hi Ada, ADA");
  auto list = evaluate(*greet.each->list, fx.scope());
  ASSERT_TRUE(list);
  EXPECT_EQ(list.value(), fx.inputs["names"]);
  // A default is constant: it evaluates with nothing bound.
  auto k = evaluate(*fx.wf().find_input("k")->default_value, eval_scope{&fx.wf()});
  ASSERT_TRUE(k);
  EXPECT_EQ(k.value(), 14);
  // Without the loop variable bound, a fault instead of a crash.
  auto unbound = render(greet.prompt->str, fx.scope());
  ASSERT_FALSE(unbound);
  EXPECT_EQ(unbound.error().message, "loop variable 'name' has no value here");
}

// Each fault names its cause and points at the sub-expression to blame.
TEST_F(eval_expr, division_by_zero_points_at_the_division) {
  auto e = eval_fault("number", "1 + n / (j.count - 3)");
  EXPECT_EQ(e.message, "division by zero");
  EXPECT_EQ(e.range.begin, fx_->pos_of("n / (j.count"));
}

TEST_F(eval_expr, index_out_of_range_points_at_the_index) {
  auto e = eval_fault("number", "xs[n - 2]");
  EXPECT_EQ(e.message, "index 5 is out of range for a list of 3 elements");
  EXPECT_EQ(e.range.begin, fx_->pos_of("n - 2]"));
  e = eval_fault("number", "xs[0 - 1]");
  EXPECT_EQ(e.message, "index -1 is out of range for a list of 3 elements");
  e = eval_fault("number", "xs[0.5]");
  EXPECT_EQ(e.message, "index 0.5 is not a whole number");
  e = eval_fault("json", "j[0]");
  EXPECT_EQ(e.message, "an object is indexed by text, not by number 0");
  e = eval_fault("json", "j.items[\"a\"]");
  EXPECT_EQ(e.message, "a list is indexed by a number, not by text \"a\"");
  e = eval_fault("json", "j.first[0]");
  EXPECT_EQ(e.message, "cannot index text \"Ada\"");
}

TEST_F(eval_expr, field_of_a_non_object_is_a_fault) {
  auto e = eval_fault("json", "j.first.size ?? 0");
  EXPECT_EQ(e.message, "cannot read field 'size' of text \"Ada\"");
  EXPECT_EQ(e.range.begin, fx_->pos_of("j.first.size"));
  e = eval_fault("json", "j.items.size");
  EXPECT_EQ(e.message, "cannot read field 'size' of a list of 3 elements");
}

TEST_F(eval_expr, wrong_json_kinds_are_faults) {
  auto e = eval_fault("bool", "j.first < 3");
  EXPECT_EQ(e.message,
            "cannot order text \"Ada\" and number 3: '<' compares two numbers or two texts");
  EXPECT_EQ(e.range.begin, fx_->pos_of("j.first < 3"));
  e = eval_fault("bool", "n < 100 and j.flag");
  EXPECT_EQ(e.message, "'and' needs bools, found text \"yes\"");
  EXPECT_EQ(e.range.begin, fx_->pos_of("j.flag"));
  EXPECT_EQ(eval_fault("bool", "not j.count").message, "'not' needs a bool, found number 3");
  EXPECT_EQ(eval_fault("number", "-j.first").message, "'-' needs a number, found text \"Ada\"");
  EXPECT_EQ(eval_fault("json", "j.items + 1").message,
            "'+' needs numbers or text, found a list of 3 elements and number 1");
  EXPECT_EQ(eval_fault("json", "j.first + j.missing").message,
            "'+' cannot join text and null");
  EXPECT_EQ(eval_fault("number", "j.big * j.big").message,
            "the result of '*' is too large for a number");
}

TEST_F(eval_expr, wrong_function_arguments_are_faults) {
  auto e = eval_fault("number", "len(j.count)");
  EXPECT_EQ(e.message, "argument 1 of len() must be text, a list or an object, found number 3");
  EXPECT_EQ(e.range.begin, fx_->pos_of("j.count)"));
  EXPECT_EQ(eval_fault("bool", "contains(j.first, j.count)").message,
            "argument 2 of contains() must be text when argument 1 is text, found number 3");
  EXPECT_EQ(eval_fault("bool", "contains(j.missing, 1)").message,
            "argument 1 of contains() must be text, a list or an object, found null");
  EXPECT_EQ(eval_fault("text", "join(j.first, \",\")").message,
            "argument 1 of join() must be a list, found text \"Ada\"");
  EXPECT_EQ(eval_fault("text", "upper(j.items)").message,
            "argument 1 of upper() must be text, found a list of 3 elements");
}

TEST_F(eval_expr, missing_bindings_are_faults_not_crashes) {
  auto& fx = make("  output o: number = n + 1");
  eval_scope none; // No workflow at all.
  auto r = evaluate(fx.output("o"), none);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no workflow to resolve 'n' in");
  value empty = value::object();
  eval_scope no_inputs{&fx.wf(), &empty};
  r = evaluate(fx.output("o"), no_inputs);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "input 'n' has no value");
  // An expression of another compilation was never resolved in this one.
  wf_fixture other(workflow_with("  output o: number = n + 1"));
  r = evaluate(other.output("o"), fx.scope());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a resolved name"), std::string::npos);
}

TEST(eval_value, value_to_text_reads_like_the_language) {
  EXPECT_EQ(value_to_text(3.0), "3");
  EXPECT_EQ(value_to_text(-0.0), "0");
  EXPECT_EQ(value_to_text(3.25), "3.25");
  EXPECT_EQ(value_to_text(0.1), "0.1");
  EXPECT_EQ(value_to_text(1e300), "1e+300");
  EXPECT_EQ(value_to_text(1e18), "1000000000000000000");
  EXPECT_EQ(value_to_text(value(int64_t{-42})), "-42");
  EXPECT_EQ(value_to_text(value(uint64_t{18446744073709551615u})), "18446744073709551615");
  EXPECT_EQ(value_to_text(true), "true");
  EXPECT_EQ(value_to_text(nullptr), "");
  EXPECT_EQ(value_to_text("as \"is\"\n"), "as \"is\"\n");
  EXPECT_EQ(value_to_text(value::parse(R"({"b": [true, null, 1.5], "a": "x"})")),
            R"({"a":"x","b":[true,null,1.5]})");
}

TEST(eval_value, invalid_utf8_inside_json_does_not_throw) {
  value v = value::array({std::string("ok\xff")});
  EXPECT_EQ(value_to_text(v), "[\"ok\xef\xbf\xbd\"]");
  EXPECT_EQ(value_to_text(std::string("raw\xff")), "raw\xff"); // top-level text as is
}

TEST(eval_value, deep_values_render_without_recursion) {
  // Past value_max_depth the iterative writer takes over; it must agree
  // with dump() where both work.
  value v = value::object({{"k", "v"}});
  for (int i = 0; i < 600; ++i)
    v = value::array({v, i});
  EXPECT_EQ(value_depth(v), 601u);
  EXPECT_EQ(value_to_text(v), v.dump());
  std::string text(200000, '[');
  text += std::string(200000, ']');
  value deep = value::parse(text); // nlohmann parses without recursion
  EXPECT_EQ(value_depth(deep), 200000u);
  EXPECT_EQ(value_to_text(deep), text);
}

TEST(eval_value, parse_json_bounded_reports_why) {
  auto ok = parse_json_bounded(R"({"a": ["[[[[", 1]})");
  ASSERT_TRUE(ok) << ok.error(); // brackets inside strings do not count
  EXPECT_EQ(ok.value()["a"][1], 1);
  auto bad = parse_json_bounded("{\"a\": tru}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().rfind("parse error at line 1, column ", 0), 0u) << bad.error();
  std::string deep(513, '[');
  deep += std::string(513, ']');
  auto too_deep = parse_json_bounded(deep);
  ASSERT_FALSE(too_deep);
  EXPECT_EQ(too_deep.error(), "JSON nests deeper than 512 levels");
  EXPECT_TRUE(parse_json_bounded(deep.substr(1, 1024)));
  EXPECT_FALSE(parse_json_bounded("\"\xff\""));
}

TEST(eval_value, quote_excerpt_cuts_at_code_points) {
  EXPECT_EQ(quote_excerpt("short"), "\"short\"");
  EXPECT_EQ(quote_excerpt("line\nbreak"), "\"line\\nbreak\"");
  std::string accents;
  for (int i = 0; i < 100; ++i)
    accents += "\u00e9";
  std::string expected = "\"";
  for (int i = 0; i < 80; ++i)
    expected += "\u00e9";
  EXPECT_EQ(quote_excerpt(accents), expected + "...\"");
  EXPECT_EQ(quote_excerpt(accents, 3), "\"\u00e9\u00e9\u00e9...\"");
}

} // namespace
} // namespace troupe::runtime
