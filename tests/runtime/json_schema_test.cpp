// The JSON Schema validator: each keyword accepting and rejecting, with the
// exact message and instance pointer, then the bounds that hostile schemas
// and instances run into.
#include "runtime/json_schema.hpp"

#include <gtest/gtest.h>

#include <string>

namespace troupe::runtime {
namespace {

struct schema_case {
  const char* schema;
  const char* instance;
  const char* pointer; ///< Of the first violation; null when the instance is valid.
  const char* message; ///< The first violation's message.
};

std::ostream& operator<<(std::ostream& out, const schema_case& c) {
  return out << c.schema << " <- " << c.instance;
}

class json_schema_keyword : public ::testing::TestWithParam<schema_case> {};

TEST_P(json_schema_keyword, validates) {
  const auto& c = GetParam();
  auto found = schema_validate(value::parse(c.schema), value::parse(c.instance));
  if (!c.pointer) {
    EXPECT_TRUE(found.empty()) << found.front().pointer << ": " << found.front().message;
    return;
  }
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.front().pointer, c.pointer);
  EXPECT_EQ(found.front().message, c.message);
}

const schema_case keyword_cases[] = {
  // type
  {R"({"type": "string"})", R"("x")", nullptr, nullptr},
  {R"({"type": "string"})", "3", "", "expected type \"string\", found number 3"},
  {R"({"type": "integer"})", "3.0", nullptr, nullptr},
  {R"({"type": "integer"})", "3.5", "", "expected type \"integer\", found number 3.5"},
  {R"({"type": "number"})", "3", nullptr, nullptr},
  {R"({"type": "boolean"})", "null", "", "expected type \"boolean\", found null"},
  {R"({"type": "object"})", "[1]", "", "expected type \"object\", found array of 1 item"},
  {R"({"type": ["string", "null"]})", "null", nullptr, nullptr},
  {R"({"type": ["string", "null"]})", "{}", "",
   "expected one of the types [\"string\",\"null\"], found object"},
  // enum and const (JSON equality: 1 equals 1.0)
  {R"({"enum": ["a", 1, [2]]})", "1.0", nullptr, nullptr},
  {R"({"enum": ["a", 1, [2]]})", "[2]", nullptr, nullptr},
  {R"({"enum": ["a", 1, [2]]})", R"("b")", "",
   "found string \"b\", expected one of [\"a\",1,[2]]"},
  {R"({"const": {"k": 1}})", R"({"k": 1})", nullptr, nullptr},
  {R"({"const": {"k": 1}})", R"({"k": 2})", "", "found object, expected the constant {\"k\":1}"},
  // properties, required, additionalProperties, patternProperties
  {R"({"properties": {"a": {"type": "number"}}})", R"({"a": 1, "b": "x"})", nullptr, nullptr},
  {R"({"properties": {"a": {"type": "number"}}})", R"({"a": "1"})", "/a",
   "expected type \"number\", found string \"1\""},
  {R"({"required": ["a", "b"]})", R"({"a": 1, "b": null})", nullptr, nullptr},
  {R"({"required": ["a", "b"]})", R"({"a": 1})", "", "missing required property \"b\""},
  {R"({"properties": {"a": {}}, "additionalProperties": false})", R"({"a": 1})", nullptr,
   nullptr},
  {R"({"properties": {"a": {}}, "additionalProperties": false})", R"({"a": 1, "x/y": 2})",
   "/x~1y", "property \"x/y\" is not allowed (additionalProperties is false)"},
  {R"({"additionalProperties": {"type": "string"}})", R"({"a": "x", "b~": 2})", "/b~0",
   "expected type \"string\", found number 2"},
  {R"({"patternProperties": {"^n_": {"type": "number"}}, "additionalProperties": false})",
   R"({"n_a": 1})", nullptr, nullptr},
  {R"({"patternProperties": {"^n_": {"type": "number"}}, "additionalProperties": false})",
   R"({"n_a": "1"})", "/n_a", "expected type \"number\", found string \"1\""},
  {R"({"minProperties": 1, "maxProperties": 2})", R"({"a": 1})", nullptr, nullptr},
  {R"({"minProperties": 1})", "{}", "",
   "object with 0 properties has fewer than minProperties 1"},
  {R"({"maxProperties": 1})", R"({"a": 1, "b": 2})", "",
   "object with 2 properties has more than maxProperties 1"},
  // items, additionalItems, minItems, maxItems, uniqueItems
  {R"({"items": {"type": "number"}})", "[1, 2]", nullptr, nullptr},
  {R"({"items": {"type": "number"}})", R"([1, "2"])", "/1",
   "expected type \"number\", found string \"2\""},
  {R"({"items": [{"type": "string"}, {"type": "number"}]})", R"(["a", 1, null])", nullptr,
   nullptr},
  {R"({"items": [{"type": "string"}, {"type": "number"}]})", R"([1])", "/0",
   "expected type \"string\", found number 1"},
  {R"({"items": [{}], "additionalItems": false})", "[1]", nullptr, nullptr},
  {R"({"items": [{}], "additionalItems": false})", "[1, 2]", "",
   "item 1 is not allowed: the tuple has 1 items and additionalItems is false"},
  {R"({"items": [{}], "additionalItems": {"type": "string"}})", R"([1, "a", 3])", "/2",
   "expected type \"string\", found number 3"},
  {R"({"additionalItems": false})", "[1, 2]", nullptr, nullptr}, // no tuple: ignored
  {R"({"minItems": 2, "maxItems": 3})", "[1, 2]", nullptr, nullptr},
  {R"({"minItems": 2})", "[1]", "", "array of 1 item has fewer than minItems 2"},
  {R"({"maxItems": 1})", "[1, 2]", "", "array of 2 items has more than maxItems 1"},
  {R"({"uniqueItems": true})", R"([1, "1", [1], {"a": 1}])", nullptr, nullptr},
  {R"({"uniqueItems": true})", R"([{"a": 1}, 2, 3, 2.0])", "",
   "items 1 and 3 are equal, but uniqueItems is true"},
  {R"({"uniqueItems": false})", "[1, 1]", nullptr, nullptr},
  // minLength and maxLength count code points; pattern searches
  {R"({"minLength": 2, "maxLength": 3})", "\"\u00e9\u00e9\u00e9\"", nullptr, nullptr},
  {R"({"maxLength": 2})", "\"\u00e9\u00e9\u00e9\"", "",
   "text of 3 code points is longer than maxLength 2"},
  {R"({"minLength": 4})", R"("abc")", "", "text of 3 code points is shorter than minLength 4"},
  {R"({"maxLength": 1e30, "maxItems": 1.0})", R"("abc")", nullptr, nullptr},
  {R"({"pattern": "b+"})", R"("abbc")", nullptr, nullptr},
  {R"({"pattern": "^b"})", R"("abc")", "",
   "string \"abc\" does not match the pattern \"^b\""},
  // numbers
  {R"({"minimum": 1, "maximum": 3})", "1", nullptr, nullptr},
  {R"({"minimum": 1})", "0.5", "", "0.5 is less than the minimum 1"},
  {R"({"maximum": 3})", "4", "", "4 is greater than the maximum 3"},
  {R"({"exclusiveMinimum": 1, "exclusiveMaximum": 3})", "2", nullptr, nullptr},
  {R"({"exclusiveMinimum": 1})", "1", "", "1 is not greater than the exclusiveMinimum 1"},
  {R"({"exclusiveMaximum": 3})", "3.0", "", "3 is not less than the exclusiveMaximum 3"},
  {R"({"multipleOf": 0.1})", "0.3", nullptr, nullptr},
  {R"({"multipleOf": 3})", "-9", nullptr, nullptr},
  {R"({"multipleOf": 3})", "10", "", "10 is not a multiple of 3"},
  {R"({"minimum": 5, "type": "string"})", R"("3")", nullptr, nullptr}, // numbers only
  // combinators
  {R"({"allOf": [{"type": "number"}, {"minimum": 2}]})", "3", nullptr, nullptr},
  {R"({"allOf": [{"type": "number"}, {"minimum": 2}]})", "1", "", "1 is less than the minimum 2"},
  {R"({"anyOf": [{"type": "string"}, {"minimum": 2}]})", "3", nullptr, nullptr},
  {R"({"anyOf": [{"type": "string"}, {"required": ["a"]}]})", "{}", "",
   "matches none of the schemas in anyOf: [0] expected type \"string\", found object; "
   "[1] missing required property \"a\""},
  {R"({"oneOf": [{"type": "string"}, {"type": "number"}]})", "3", nullptr, nullptr},
  {R"({"oneOf": [{"type": "number"}, {"minimum": 2}]})", "3", "",
   "matches 2 schemas in oneOf (0 and 1); exactly one must match"},
  {R"({"oneOf": [{"items": {"type": "string"}}]})", "[1]", "",
   "matches none of the schemas in oneOf: [0] at /0: expected type \"string\", found number 1"},
  {R"({"not": {"type": "string"}})", "3", nullptr, nullptr},
  {R"({"not": {"type": "string"}})", R"("x")", "",
   "matches the schema in not: {\"type\":\"string\"}"},
  // boolean schemas, unknown keywords
  {"true", "[1]", nullptr, nullptr},
  {"false", "1", "", "no value is allowed here (the schema is false)"},
  {R"({"properties": {"gone": false}})", R"({"gone": 1})", "/gone",
   "no value is allowed here (the schema is false)"},
  {R"({"format": "email", "x-anything": [1]})", "3", nullptr, nullptr},
  // $ref to local pointers, with other keywords beside it void (draft-07)
  {R"({"definitions": {"n": {"type": "number"}}, "items": {"$ref": "#/definitions/n"}})",
   "[1, 2]", nullptr, nullptr},
  {R"({"definitions": {"n": {"type": "number"}}, "items": {"$ref": "#/definitions/n"}})",
   R"([1, "2"])", "/1", "expected type \"number\", found string \"2\""},
  {R"({"definitions": {"a/b": {"type": "null"}}, "$ref": "#/definitions/a~1b"})", "1", "",
   "expected type \"null\", found number 1"},
  {R"({"definitions": {"n": {}}, "$ref": "#/definitions/n", "type": "string"})", "1", nullptr,
   nullptr},
  {R"({"type": "object", "properties": {"kids": {"items": {"$ref": "#"}}}})",
   R"({"kids": [{"kids": []}, {"kids": [3]}]})", "/kids/1/kids/0",
   "expected type \"object\", found number 3"},
  // schema mistakes are reported, not crashes
  {R"({"type": "text"})", "1", "",
   "invalid schema: type \"text\" is not one of \"object\", \"array\", \"string\", "
   "\"number\", \"integer\", \"boolean\", \"null\""},
  {R"({"minLength": -1})", R"("a")", "",
   "invalid schema: minLength must be a non-negative whole number, found number -1"},
  {R"({"minimum": "1"})", "1", "", "invalid schema: minimum must be a number, found string \"1\""},
  {R"({"exclusiveMinimum": true})", "1", "",
   "invalid schema: exclusiveMinimum must be a number, found boolean true"},
  {R"({"multipleOf": 0})", "1", "",
   "invalid schema: multipleOf must be a number above 0, found number 0"},
  {R"({"pattern": "("})", R"("a")", "", "invalid schema: pattern \"(\" is not a valid regex"},
  {R"({"anyOf": []})", "1", "", "invalid schema: anyOf must be a non-empty list, found array of 0 items"},
  {R"({"properties": {"a": 3}})", R"({"a": 1})", "/a",
   "invalid schema: a schema is an object or a bool, found number 3"},
  {R"({"$ref": "http://example.com/s.json"})", "1", "",
   "invalid schema: $ref \"http://example.com/s.json\" is not supported; only local "
   "references (\"#/...\") are"},
  {R"({"$ref": "#/definitions/missing"})", "1", "",
   "invalid schema: $ref \"#/definitions/missing\" points at nothing"},
};

INSTANTIATE_TEST_SUITE_P(keywords, json_schema_keyword, ::testing::ValuesIn(keyword_cases));

TEST(json_schema, reports_every_violation_up_to_the_limit) {
  const value schema = value::parse(R"({
    "type": "object",
    "required": ["name", "tags"],
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "age": {"type": "integer", "minimum": 0},
      "tags": {"type": "array", "items": {"type": "string"}}
    }
  })");
  const value instance = value::parse(R"({"name": "", "age": -1.5, "tags": [1, "b", 3]})");
  auto all = schema_validate(schema, instance);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].pointer, "/age");
  EXPECT_EQ(all[0].message, "expected type \"integer\", found number -1.5");
  EXPECT_EQ(all[1].message, "-1.5 is less than the minimum 0");
  EXPECT_EQ(all[2].pointer, "/name");
  EXPECT_EQ(all[3].pointer, "/tags/0");
  EXPECT_EQ(all[4].pointer, "/tags/2");
  EXPECT_EQ(schema_validate(schema, instance, 2).size(), 2u);
  EXPECT_EQ(schema_validate(schema, instance, 0).size(), 1u); // 0 counts as 1
}

TEST(json_schema, deeply_nested_instance_is_refused_without_overflow) {
  std::string text(10000, '[');
  text += std::string(10000, ']');
  const value deep = value::parse(text);
  auto found = schema_validate(value::parse(R"({"items": {"$ref": "#"}})"), deep);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer, "");
  EXPECT_EQ(found[0].message, "the value nests 10000 levels deep; at most 512 can be checked");
  // Within the limit, the same recursive schema walks every level.
  std::string ok_text(500, '[');
  ok_text += "1" + std::string(500, ']');
  found = schema_validate(value::parse(R"({"items": {"$ref": "#"}, "type": "array"})"),
                          value::parse(ok_text));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer.size(), 2u * 500); // "/0" per level
  EXPECT_EQ(found[0].message, "expected type \"array\", found number 1");
}

TEST(json_schema, deeply_nested_schema_is_refused) {
  std::string text;
  for (int i = 0; i < 600; ++i)
    text += R"({"not": )";
  text += "{}" + std::string(600, '}');
  auto found = schema_validate(value::parse(text), 1);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message, "invalid schema: it nests deeper than 512 levels");
}

TEST(json_schema, ref_cycles_stop_at_the_chain_bound) {
  for (const char* schema : {R"({"$ref": "#"})",
                             R"({"definitions": {"a": {"$ref": "#/definitions/b"},
                                                 "b": {"allOf": [{"$ref": "#/definitions/a"}]}},
                                 "$ref": "#/definitions/a"})"}) {
    auto found = schema_validate(value::parse(schema), value::parse("[1]"));
    ASSERT_EQ(found.size(), 1u) << schema;
    EXPECT_EQ(found[0].message.rfind("invalid schema: more than 32 $refs in a row", 0), 0u)
      << found[0].message;
  }
}

TEST(json_schema, exponential_schemas_stop_at_the_check_budget) {
  // Each level names the one below twice: 2^25 checks without a budget.
  value defs = value::object();
  defs["d0"] = {{"type", "number"}};
  for (int i = 1; i <= 25; ++i) {
    const value below = {{"$ref", "#/definitions/d" + std::to_string(i - 1)}};
    defs["d" + std::to_string(i)] = {{"anyOf", value::array({below, below})}};
  }
  const value s = {{"definitions", defs}, {"$ref", "#/definitions/d25"}};
  auto found = schema_validate(s, value("x"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message,
            "validation gave up after 1000000 checks; the schema branches too much");
}

TEST(json_schema, pattern_on_long_text_does_not_overflow) {
  // libstdc++'s matcher recurses per character: 200 000 characters need
  // far more than a default 8 MiB stack.
  const value text = std::string(200000, 'a');
  EXPECT_TRUE(schema_validate(value::parse(R"({"pattern": "^(a|b)*$"})"), text).empty());
  auto found = schema_validate(value::parse(R"({"pattern": "^(a|b)*c$"})"), text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message.rfind("string \"aaaa", 0), 0u) << found[0].message;
  found = schema_validate(value::parse(R"({"pattern": "a"})"), std::string(600000, 'a'));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].message, "cannot check pattern \"a\": text of 600000 bytes is too long to "
                              "search with a regex (the limit is 524288)");
}

} // namespace
} // namespace troupe::runtime
