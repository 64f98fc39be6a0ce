#include "runtime/verifier.hpp"

#include "dsl/format.hpp"
#include "dsl/tools.hpp"
#include "runtime/base/utf8.hpp"
#include "runtime/json_schema.hpp"
#include "runtime/regex_search.hpp"

#include <cmath>
#include <map>

namespace troupe::runtime {

namespace {

// Enough to show what is wrong without burying the rest of the report.
constexpr size_t max_schema_failures = 8;

dsl::source_range range_of(const dsl::ir::verify_policy& policy, const char* entry) {
  auto it = policy.ranges.find(entry);
  return it == policy.ranges.end() ? dsl::source_range{} : it->second;
}

// The result as JSON: strings are parsed, everything else already is.
result<value, std::string> as_json(const value& v) {
  if (!v.is_string())
    return v;
  return parse_json_bounded(v.get_ref<const std::string&>());
}

void check_json(const dsl::ir::verify_policy& policy, const value& result,
                verify_report& report) {
  auto parsed = as_json(result);
  if (!parsed)
    report.failures.push_back(
      {"json", "result is not valid JSON: " + parsed.error() + "; the text is "
                 + quote_excerpt(result.get_ref<const std::string&>()),
       range_of(policy, "json")});
}

void check_schema(const dsl::ir::verify_policy& policy, const value& result,
                  verify_report& report) {
  const auto range = range_of(policy, "schema");
  auto schema = parse_json_bounded(*policy.schema);
  if (!schema) {
    report.failures.push_back({"schema", "the schema is not valid JSON: " + schema.error(),
                               range});
    return;
  }
  auto instance = as_json(result);
  if (!instance) {
    report.failures.push_back(
      {"schema", "result is not JSON, so it cannot match the schema: " + instance.error()
                   + "; the text is " + quote_excerpt(result.get_ref<const std::string&>()),
       range});
    return;
  }
  for (auto& v : schema_validate(schema.value(), instance.value(), max_schema_failures))
    report.failures.push_back(
      {"schema", "schema violation at " + (v.pointer.empty() ? "the root" : v.pointer) + ": "
                   + v.message,
       range});
}

void check_regexes(const dsl::ir::verify_policy& policy, const value& result,
                   verify_report& report) {
  if (policy.regexes.empty())
    return;
  const std::string text = value_to_text(result);
  for (const auto& [pattern, range] : policy.regexes) {
    const std::string shown = "regex " + quote_excerpt(pattern);
    std::regex re;
    try {
      re = dsl::compile_regex(pattern);
    } catch (const std::regex_error& e) {
      report.failures.push_back({"regex", shown + " is invalid: " + e.what(), range});
      continue;
    }
    auto matched = regex_search_bounded(re, text);
    if (!matched)
      report.failures.push_back({"regex", shown + " could not be checked: " + matched.error(),
                                 range});
    else if (!matched.value())
      report.failures.push_back({"regex", shown + " did not match " + quote_excerpt(text),
                                 range});
  }
}

// A value in a message: text quoted, anything else as it reads, cut short.
std::string shown(const value& v) {
  if (v.is_string())
    return quote_excerpt(v.get_ref<const std::string&>(), 40);
  std::string text = value_to_text(v);
  if (text.size() <= 80)
    return text;
  return text.substr(0, base::utf8_floor(text, 80)) + "...";
}

void check_asserts(const dsl::ir::verify_policy& policy, const value& result,
                   const eval_scope& scope, verify_report& report) {
  eval_scope inner = scope;
  inner.result = &result;
  for (const auto& a : policy.asserts) {
    if (!a)
      continue;
    const std::string source = dsl::expr_to_source(*a);
    auto v = evaluate(*a, inner);
    if (!v)
      report.failures.push_back({"assert", "assert " + source + " could not be evaluated: "
                                             + v.error().message,
                                 v.error().range});
    else if (!v.value().is_boolean())
      report.failures.push_back(
        {"assert", "assert " + source + " gave " + v.value().type_name() + " "
                     + shown(v.value()) + ", not a bool",
         a->range});
    else if (!v.value().get<bool>())
      report.failures.push_back({"assert", "assert failed: " + source, a->range});
  }
}

void check_length(const dsl::ir::verify_policy& policy, const value& result,
                  verify_report& report) {
  const auto [min, max] = *policy.length;
  size_t n = 0;
  std::string unit;
  if (result.is_string()) {
    n = base::utf8_length(result.get_ref<const std::string&>());
    unit = "code points of the text";
  } else if (result.is_array()) {
    n = result.size();
    unit = "elements of the list";
  } else {
    n = base::utf8_length(value_to_text(result));
    unit = std::string("code points of the ") + result.type_name() + " as text";
  }
  const auto length = static_cast<int64_t>(n);
  if (length < min || length > max)
    report.failures.push_back({"length", "length " + std::to_string(n) + " is outside "
                                           + std::to_string(min) + ".." + std::to_string(max)
                                           + " (" + unit + ")",
                               range_of(policy, "length")});
}

// A copy of `v` whose integral floats are integers, so 1 and 1.0 dump alike.
value canonical_numbers(value v) {
  std::vector<value*> todo{&v};
  while (!todo.empty()) {
    value* node = todo.back();
    todo.pop_back();
    if (node->is_structured()) {
      for (auto& child : *node)
        todo.push_back(&child);
    } else if (node->is_number_float()) {
      const double x = node->get<double>();
      if (std::trunc(x) == x && std::fabs(x) < 9e15)
        *node = static_cast<int64_t>(x);
    }
  }
  return v;
}

std::string normalize_text(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  while (!out.empty() && (out.back() == '.' || out.back() == '!' || out.back() == '?'
                          || out.back() == ' '))
    out.pop_back();
  return out;
}

} // namespace

verify_report verify_result(const dsl::ir::verify_policy& policy, const value& result,
                            const eval_scope& scope) {
  verify_report report;
  if (policy.json)
    check_json(policy, result, report);
  if (policy.schema)
    check_schema(policy, result, report);
  check_regexes(policy, result, report);
  check_asserts(policy, result, scope, report);
  if (policy.length)
    check_length(policy, result, report);
  return report;
}

std::string agreement_key(const value& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    auto parsed = parse_json_bounded(s);
    if (parsed && parsed.value().is_structured())
      return value_to_text(canonical_numbers(std::move(parsed).value()));
    return normalize_text(s);
  }
  // Compact JSON, object keys sorted (value_to_text() writes arrays and
  // objects so, deep ones included; scalars need dump(): null is "null").
  if (v.is_structured())
    return value_to_text(canonical_numbers(v));
  return value_to_json(canonical_numbers(v));
}

agreement find_agreement(const std::vector<value>& answers, size_t k) {
  std::map<std::string, size_t> group_of;
  std::vector<std::vector<size_t>> groups; // In order of their first member.
  for (size_t i = 0; i < answers.size(); ++i) {
    auto [it, fresh] = group_of.try_emplace(agreement_key(answers[i]), groups.size());
    if (fresh)
      groups.emplace_back();
    groups[it->second].push_back(i);
  }
  agreement out;
  for (auto& g : groups)
    if (g.size() > out.group.size())
      out.group = std::move(g);
  out.reached = out.group.size() >= k;
  return out;
}

} // namespace troupe::runtime
