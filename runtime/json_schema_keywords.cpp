#include "runtime/base/utf8.hpp"
#include "runtime/json_schema_validator.hpp"
#include "runtime/regex_search.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

// One check per group of keywords that apply to one kind of instance, and
// the combinators. Each reports what fails through fail() and returns
// whether everything held; a malformed keyword value is "invalid schema".

namespace troupe::runtime::schema_detail {

namespace {

bool has_type(const std::string& name, const value& v) {
  if (name == "integer") return is_integral(v);
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "object") return v.is_object();
  if (name == "array") return v.is_array();
  if (name == "boolean") return v.is_boolean();
  if (name == "null") return v.is_null();
  return false;
}

bool known_type(const std::string& name) {
  static const char* names[] = {"integer", "number", "string", "object",
                                "array", "boolean", "null"};
  return std::any_of(std::begin(names), std::end(names),
                     [&](const char* n) { return name == n; });
}

} // namespace

bool validator::check_generic(const value& s, at& a) {
  bool ok = true;
  if (auto it = s.find("type"); it != s.end()) {
    const bool list = it->is_array();
    std::vector<std::string> names;
    for (const auto& t : list ? *it : value::array({*it})) {
      if (!t.is_string() || !known_type(t.get<std::string>()))
        return fail(a, "invalid schema: type " + compact(t) + " is not one of \"object\", "
                         "\"array\", \"string\", \"number\", \"integer\", \"boolean\", \"null\"");
      names.push_back(t.get<std::string>());
    }
    if (std::none_of(names.begin(), names.end(),
                     [&](const std::string& n) { return has_type(n, a.inst); }))
      ok = fail(a, (list ? "expected one of the types " + compact(*it)
                         : "expected type \"" + names[0] + "\"")
                     + ", found " + found(a.inst));
  }
  if (auto it = s.find("enum"); it != s.end()) {
    if (!it->is_array())
      return fail(a, "invalid schema: enum must be a list, found " + found(*it));
    if (std::find(it->begin(), it->end(), a.inst) == it->end())
      ok = fail(a, "found " + found(a.inst) + ", expected one of " + compact(*it));
  }
  if (auto it = s.find("const"); it != s.end() && *it != a.inst)
    ok = fail(a, "found " + found(a.inst) + ", expected the constant " + compact(*it));
  return ok;
}

bool validator::check_number(const value& s, at& a) {
  if (!a.inst.is_number())
    return true;
  const double x = a.inst.get<double>();
  const std::string shown = value_to_text(a.inst);
  bool ok = true;
  struct bound {
    const char* name;
    bool (*holds)(double x, double limit);
    const char* broken;
  };
  static const bound bounds[] = {
    {"minimum", [](double x, double l) { return x >= l; }, "is less than the minimum"},
    {"maximum", [](double x, double l) { return x <= l; }, "is greater than the maximum"},
    {"exclusiveMinimum", [](double x, double l) { return x > l; },
     "is not greater than the exclusiveMinimum"},
    {"exclusiveMaximum", [](double x, double l) { return x < l; },
     "is not less than the exclusiveMaximum"},
  };
  for (const auto& b : bounds) {
    auto it = s.find(b.name);
    if (it == s.end())
      continue;
    if (!it->is_number())
      return fail(a, std::string("invalid schema: ") + b.name + " must be a number, found "
                       + found(*it));
    if (!b.holds(x, it->get<double>()))
      ok = fail(a, shown + " " + b.broken + " " + value_to_text(*it));
  }
  if (auto it = s.find("multipleOf"); it != s.end()) {
    if (!it->is_number() || it->get<double>() <= 0)
      return fail(a, "invalid schema: multipleOf must be a number above 0, found " + found(*it));
    const double q = x / it->get<double>();
    // Tolerate the rounding of decimal fractions: 0.3 / 0.1 is 2.9999999999999996.
    if (!std::isfinite(q) || std::fabs(q - std::round(q)) > 1e-9 * std::max(1.0, std::fabs(q)))
      ok = fail(a, shown + " is not a multiple of " + value_to_text(*it));
  }
  return ok;
}

bool validator::pattern_matches(const value& pattern, const std::string& text, at& a,
                                bool& matched) {
  if (!pattern.is_string())
    return fail(a, "invalid schema: pattern must be text, found " + found(pattern));
  const std::string& source = pattern.get_ref<const std::string&>();
  auto [it, fresh] = patterns_.try_emplace(source);
  if (fresh) {
    try {
      it->second.emplace(source, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
    }
  }
  if (!it->second)
    return fail(a, "invalid schema: pattern " + compact(pattern) + " is not a valid regex");
  auto found_match = regex_search_bounded(*it->second, text);
  if (!found_match)
    return fail(a, "cannot check pattern " + compact(pattern) + ": " + found_match.error());
  matched = found_match.value();
  return true;
}

bool validator::check_string(const value& s, at& a) {
  if (!a.inst.is_string())
    return true;
  const std::string& text = a.inst.get_ref<const std::string&>();
  std::optional<uint64_t> min, max;
  if (!count(s, "minLength", a, min) || !count(s, "maxLength", a, max))
    return false;
  const size_t n = base::utf8_length(text);
  bool ok = true;
  if (min && n < *min)
    ok = fail(a, "text of " + std::to_string(n) + " code points is shorter than minLength "
                   + std::to_string(*min));
  if (max && n > *max)
    ok = fail(a, "text of " + std::to_string(n) + " code points is longer than maxLength "
                   + std::to_string(*max));
  if (auto it = s.find("pattern"); it != s.end()) {
    bool matched = false;
    if (!pattern_matches(*it, text, a, matched))
      return false;
    if (!matched)
      ok = fail(a, found(a.inst) + " does not match the pattern " + compact(*it));
  }
  return ok;
}

bool validator::check_array(const value& s, at& a) {
  if (!a.inst.is_array())
    return true;
  const value& arr = a.inst;
  std::optional<uint64_t> min, max;
  if (!count(s, "minItems", a, min) || !count(s, "maxItems", a, max))
    return false;
  bool ok = true;
  if (min && arr.size() < *min)
    ok = fail(a, found(arr) + " has fewer than minItems " + std::to_string(*min));
  if (max && arr.size() > *max)
    ok = fail(a, found(arr) + " has more than maxItems " + std::to_string(*max));
  if (auto it = s.find("uniqueItems"); it != s.end() && it->is_boolean() && it->get<bool>())
    ok = check_unique(arr, a) && ok;
  auto items = s.find("items");
  if (items == s.end())
    return ok;
  const bool tuple = items->is_array();
  // Only a tuple has additional items (draft-07).
  auto extra_it = s.find("additionalItems");
  const value* extra = tuple && extra_it != s.end() ? &*extra_it : nullptr;
  for (size_t i = 0; i < arr.size() && !a.out.full() && !aborted_; ++i) {
    const bool beyond = tuple && i >= items->size();
    const value* rule = !tuple ? &*items : beyond ? extra : &(*items)[i];
    if (!rule)
      break;
    if (beyond && rule->is_boolean() && !rule->get<bool>()) {
      ok = fail(a, "item " + std::to_string(i) + " is not allowed: the tuple has "
                     + std::to_string(items->size()) + " items and additionalItems is false");
      break;
    }
    ok = child(*rule, arr[i], std::to_string(i), a) && ok;
  }
  return ok;
}

bool validator::check_unique(const value& items, at& a) {
  // Sorting makes this n log n; JSON's order puts equal values side by side.
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return items[x] < items[y]; });
  for (size_t i = 1; i < order.size(); ++i)
    if (items[order[i - 1]] == items[order[i]])
      return fail(a, "items " + std::to_string(std::min(order[i - 1], order[i])) + " and "
                       + std::to_string(std::max(order[i - 1], order[i]))
                       + " are equal, but uniqueItems is true");
  return true;
}

bool validator::check_object(const value& s, at& a) {
  if (!a.inst.is_object())
    return true;
  std::optional<uint64_t> min, max;
  if (!count(s, "minProperties", a, min) || !count(s, "maxProperties", a, max))
    return false;
  const size_t n = a.inst.size();
  bool ok = true;
  if (min && n < *min)
    ok = fail(a, "object with " + std::to_string(n) + " properties has fewer than "
                   + "minProperties " + std::to_string(*min));
  if (max && n > *max)
    ok = fail(a, "object with " + std::to_string(n) + " properties has more than "
                   + "maxProperties " + std::to_string(*max));
  if (auto it = s.find("required"); it != s.end()) {
    if (!it->is_array())
      return fail(a, "invalid schema: required must be a list, found " + found(*it));
    for (const auto& name : *it) {
      if (!name.is_string())
        return fail(a, "invalid schema: required lists text, found " + found(name));
      if (!a.inst.contains(name.get<std::string>()))
        ok = fail(a, "missing required property " + compact(name));
    }
  }
  return check_properties(s, a) && ok;
}

bool validator::check_properties(const value& s, at& a) {
  auto props = s.find("properties");
  auto patterns = s.find("patternProperties");
  auto extra = s.find("additionalProperties");
  if (props != s.end() && !props->is_object())
    return fail(a, "invalid schema: properties must be an object, found " + found(*props));
  if (patterns != s.end() && !patterns->is_object())
    return fail(a, "invalid schema: patternProperties must be an object, found "
                     + found(*patterns));
  bool ok = true;
  for (auto it = a.inst.begin(); it != a.inst.end() && !a.out.full() && !aborted_; ++it) {
    bool covered = false;
    if (props != s.end())
      if (auto p = props->find(it.key()); p != props->end()) {
        covered = true;
        ok = child(*p, *it, it.key(), a) && ok;
      }
    if (patterns != s.end())
      for (auto p = patterns->begin(); p != patterns->end(); ++p) {
        bool matched = false;
        if (!pattern_matches(value(p.key()), it.key(), a, matched))
          return false;
        if (matched) {
          covered = true;
          ok = child(*p, *it, it.key(), a) && ok;
        }
      }
    if (covered || extra == s.end())
      continue;
    if (extra->is_boolean() && !extra->get<bool>()) {
      const size_t len = a.ptr.size();
      a.ptr += "/" + escape_token(it.key());
      ok = fail(a, "property " + compact(value(it.key()))
                     + " is not allowed (additionalProperties is false)");
      a.ptr.resize(len);
    } else {
      ok = child(*extra, *it, it.key(), a) && ok;
    }
  }
  return ok;
}

// anyOf or oneOf: each branch is tried against a sink of its own, so a
// failing branch reports nothing unless all fail; then the message quotes
// the first violation of the first four branches.
bool validator::check_branches(const value& s, const char* name, at& a) {
  auto it = s.find(name);
  if (it == s.end())
    return true;
  if (!it->is_array() || it->empty())
    return fail(a, std::string("invalid schema: ") + name + " must be a non-empty list, found "
                     + found(*it));
  std::vector<size_t> matching;
  std::string reasons;
  for (size_t i = 0; i < it->size() && !aborted_; ++i) {
    sink probe;
    if (same((*it)[i], a, probe, a.refs)) {
      matching.push_back(i);
      continue;
    }
    if (probe.found.empty() || i >= 4)
      continue;
    const auto& v = probe.found.front();
    reasons += std::string(reasons.empty() ? "" : "; ") + "[" + std::to_string(i) + "] "
               + (v.pointer == a.ptr ? "" : "at " + v.pointer + ": ") + v.message;
  }
  if (aborted_)
    return false;
  const bool one = std::string(name) == "oneOf";
  if (matching.empty())
    return fail(a, std::string("matches none of the schemas in ") + name + ": " + reasons);
  if (one && matching.size() > 1)
    return fail(a, "matches " + std::to_string(matching.size()) + " schemas in oneOf ("
                     + std::to_string(matching[0]) + " and " + std::to_string(matching[1])
                     + "); exactly one must match");
  return true;
}

bool validator::check_combinators(const value& s, at& a) {
  bool ok = true;
  if (auto it = s.find("allOf"); it != s.end()) {
    if (!it->is_array() || it->empty())
      return fail(a, "invalid schema: allOf must be a non-empty list, found " + found(*it));
    for (const auto& branch : *it)
      if (!same(branch, a, a.out, a.refs)) {
        ok = false;
        if (aborted_ || a.out.full())
          return false;
      }
  }
  ok = check_branches(s, "anyOf", a) && ok;
  ok = check_branches(s, "oneOf", a) && ok;
  if (auto it = s.find("not"); it != s.end()) {
    sink probe;
    if (same(*it, a, probe, a.refs))
      ok = fail(a, "matches the schema in not: " + compact(*it));
  }
  return ok;
}

} // namespace troupe::runtime::schema_detail
