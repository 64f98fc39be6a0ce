#include "runtime/json_schema.hpp"

#include "runtime/base/utf8.hpp"
#include "runtime/json_schema_validator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

// The walk of the validator: boolean schemas, $ref, and the bounds that keep
// hostile inputs from exhausting the stack or the clock (an up-front depth
// check on schema and instance, a nesting bound, a $ref chain bound and a
// budget of checks). The keywords themselves are in json_schema_keywords.cpp.

namespace troupe::runtime {

namespace schema_detail {

namespace {

constexpr size_t max_checks = 1'000'000;

// A local JSON pointer ("" or "/a/b") resolved in `root`, or null.
const value* resolve_pointer(const value& root, const std::string& pointer) {
  const value* node = &root;
  size_t pos = 0;
  while (pos < pointer.size()) {
    if (pointer[pos] != '/')
      return nullptr;
    size_t end = pointer.find('/', pos + 1);
    if (end == std::string::npos)
      end = pointer.size();
    std::string token;
    for (size_t i = pos + 1; i < end; ++i) {
      const bool escape = pointer[i] == '~' && i + 1 < end
                          && (pointer[i + 1] == '0' || pointer[i + 1] == '1');
      token += escape ? (pointer[++i] == '0' ? '~' : '/') : pointer[i];
    }
    pos = end;
    if (node->is_object()) {
      auto it = node->find(token);
      if (it == node->end())
        return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      const bool digits = !token.empty() && token.size() <= 9
                          && std::all_of(token.begin(), token.end(),
                                         [](char c) { return c >= '0' && c <= '9'; });
      if (!digits || std::stoul(token) >= node->size())
        return nullptr;
      node = &(*node)[std::stoul(token)];
    } else {
      return nullptr;
    }
  }
  return node;
}

void add_to(sink& out, const std::string& ptr, std::string message) {
  if (!out.full())
    out.found.push_back({ptr, std::move(message)});
}

} // namespace

std::string escape_token(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string compact(const value& v, size_t max_code_points) {
  if (v.is_string())
    return quote_excerpt(v.get_ref<const std::string&>(), max_code_points);
  std::string text = value_to_text(v);
  const size_t cut = base::utf8_prefix_bytes(text, max_code_points);
  return cut < text.size() ? text.substr(0, cut) + "..." : text;
}

std::string found(const value& v) {
  if (v.is_array())
    return "array of " + std::to_string(v.size()) + (v.size() == 1 ? " item" : " items");
  if (v.is_object())
    return "object";
  if (v.is_null())
    return "null";
  return std::string(v.is_number() ? "number" : v.type_name()) + " " + compact(v, 40);
}

bool is_integral(const value& v) {
  if (v.is_number_integer() || v.is_number_unsigned())
    return true;
  if (!v.is_number_float())
    return false;
  const double x = v.get<double>();
  return std::isfinite(x) && std::trunc(x) == x;
}

validator::validator(const value& root, size_t max_violations) : root_(root) {
  main_.limit = std::max<size_t>(1, max_violations);
}

std::vector<schema_violation> validator::run(const value& instance) {
  std::string ptr;
  if (value_depth(root_) > value_max_depth)
    add_to(main_, ptr, "invalid schema: it nests deeper than "
                         + std::to_string(value_max_depth) + " levels");
  else if (size_t depth = value_depth(instance); depth > value_max_depth)
    add_to(main_, ptr, "the value nests " + std::to_string(depth) + " levels deep; at most "
                         + std::to_string(value_max_depth) + " can be checked");
  else
    check(root_, {instance, ptr, main_, 0, 0});
  return std::move(main_.found);
}

bool validator::check(const value& s, at a) {
  if (aborted_)
    return false;
  if (++checks_ > max_checks)
    return abort(a, "validation gave up after " + std::to_string(max_checks)
                      + " checks; the schema branches too much");
  if (a.nesting > schema_max_nesting)
    return abort(a, "validation gave up: checks nest deeper than "
                      + std::to_string(schema_max_nesting) + " levels");
  if (s.is_boolean())
    return s.get<bool>() || fail(a, "no value is allowed here (the schema is false)");
  if (!s.is_object())
    return fail(a, "invalid schema: a schema is an object or a bool, found " + found(s));
  if (auto ref = s.find("$ref"); ref != s.end())
    return follow_ref(*ref, a);
  bool ok = true;
  for (keyword_group group : {&validator::check_generic, &validator::check_number,
                              &validator::check_string, &validator::check_array,
                              &validator::check_object, &validator::check_combinators})
    if (!(this->*group)(s, a)) {
      ok = false;
      if (aborted_ || a.out.full())
        break;
    }
  return ok;
}

// Reports `message` at `a` (until its sink is full); always false.
bool validator::fail(at& a, std::string message) {
  if (!aborted_)
    add_to(a.out, a.ptr, std::move(message));
  return false;
}

// Ends validation: the message goes to the caller's list even from inside an
// anyOf branch, and every check after it fails at once.
bool validator::abort(at& a, std::string message) {
  add_to(main_, a.ptr, std::move(message));
  aborted_ = true;
  return false;
}

// `s` checked against the member of the instance named by `token`.
bool validator::child(const value& s, const value& inst, const std::string& token, at& a) {
  const size_t len = a.ptr.size();
  a.ptr += '/';
  a.ptr += escape_token(token);
  const bool ok = check(s, {inst, a.ptr, a.out, a.nesting + 1, 0});
  a.ptr.resize(len);
  return ok;
}

// `s` checked against the same instance, reporting to `out`.
bool validator::same(const value& s, at& a, sink& out, size_t refs) {
  return check(s, {a.inst, a.ptr, out, a.nesting + 1, refs});
}

bool validator::follow_ref(const value& ref, at& a) {
  if (!ref.is_string())
    return fail(a, "invalid schema: $ref must be text, found " + found(ref));
  const std::string& target = ref.get_ref<const std::string&>();
  if (target.empty() || target[0] != '#')
    return fail(a, "invalid schema: $ref " + compact(ref)
                     + " is not supported; only local references (\"#/...\") are");
  if (a.refs >= schema_max_ref_chain)
    return abort(a, "invalid schema: more than " + std::to_string(schema_max_ref_chain)
                      + " $refs in a row without moving into the value (a cycle at "
                      + compact(ref) + "?)");
  const value* s = resolve_pointer(root_, target.substr(1));
  if (!s)
    return fail(a, "invalid schema: $ref " + compact(ref) + " points at nothing");
  return same(*s, a, a.out, a.refs + 1);
}

// A non-negative whole number in keyword `name`, left unset when absent;
// false (reported) when the keyword holds anything else.
bool validator::count(const value& s, const char* name, at& a, std::optional<uint64_t>& out) {
  auto it = s.find(name);
  if (it == s.end())
    return true;
  if (!is_integral(*it) || it->get<double>() < 0)
    return fail(a, std::string("invalid schema: ") + name
                     + " must be a non-negative whole number, found " + found(*it));
  // A float bound past 2^64 (1e30) means "no bound"; casting it is undefined.
  const double bound = it->get<double>();
  out = it->is_number_float() && bound >= 1.8e19 ? UINT64_MAX : it->get<uint64_t>();
  return true;
}

} // namespace schema_detail

std::vector<schema_violation> schema_validate(const value& schema, const value& instance,
                                              size_t max_violations) {
  return schema_detail::validator(schema, max_violations).run(instance);
}

} // namespace troupe::runtime
