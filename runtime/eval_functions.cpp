#include "runtime/eval_functions.hpp"

#include "runtime/base/utf8.hpp"

#include <cmath>

// The built-in functions and the operators over computed values. Case
// mapping and trimming are ASCII-only: other code points pass unchanged.

namespace troupe::runtime::eval_detail {

namespace {

using dsl::ast::expr;
using eval_result = result<value, eval_error>;

bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string plural(size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

const std::string& text(const value& v) {
  return v.get_ref<const std::string&>();
}

eval_result bad_arg(const expr& call, size_t i, const std::string& expected,
                    const value& found) {
  return fault(*call.args[i], "argument " + std::to_string(i + 1) + " of " + call.text
                                + "() must be " + expected + ", found " + describe(found));
}

eval_result len(const expr& call, const value& x) {
  if (x.is_string())
    return number_value(static_cast<double>(base::utf8_length(text(x))));
  if (x.is_array() || x.is_object())
    return number_value(static_cast<double>(x.size()));
  return bad_arg(call, 0, "text, a list or an object", x);
}

// contains(text, part), contains(list, item) and, for an object, whether it
// has the key.
eval_result contains(const expr& call, const value& where, const value& what) {
  if (where.is_string()) {
    if (!what.is_string())
      return bad_arg(call, 1, "text when argument 1 is text", what);
    return value(text(where).find(text(what)) != std::string::npos);
  }
  if (where.is_array()) {
    for (const auto& item : where)
      if (item == what)
        return value(true);
    return value(false);
  }
  if (where.is_object()) {
    if (!what.is_string())
      return bad_arg(call, 1, "text (a key) when argument 1 is an object", what);
    return value(where.contains(text(what)));
  }
  return bad_arg(call, 0, "text, a list or an object", where);
}

eval_result join(const expr& call, const value& list, const value& sep) {
  if (!list.is_array())
    return bad_arg(call, 0, "a list", list);
  if (!sep.is_string())
    return bad_arg(call, 1, "text", sep);
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0)
      out += text(sep);
    out += value_to_text(list[i]);
  }
  return value(std::move(out));
}

eval_result text_function(const expr& call, const value& x) {
  if (!x.is_string())
    return bad_arg(call, 0, "text", x);
  std::string s = text(x);
  if (call.text == "trim") {
    size_t b = 0, e = s.size();
    while (b < e && ascii_space(s[b])) ++b;
    while (e > b && ascii_space(s[e - 1])) --e;
    return value(s.substr(b, e - b));
  }
  const bool up = call.text == "upper";
  for (char& c : s) {
    if (up && c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    else if (!up && c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return value(std::move(s));
}

size_t arity(const std::string& name) {
  if (name == "len" || name == "lower" || name == "upper" || name == "trim")
    return 1;
  if (name == "contains" || name == "join")
    return 2;
  return 0;
}

eval_result arithmetic(const expr& e, const value& l, const value& r) {
  const std::string& op = e.op;
  // `+` joins when either side is text; the other side may be any scalar,
  // as it would read in an interpolation.
  if (op == "+" && (l.is_string() || r.is_string())) {
    for (const value* v : {&l, &r})
      if (!v->is_string() && !v->is_number() && !v->is_boolean())
        return fault(e, "'+' cannot join text and " + describe(*v));
    return value(value_to_text(l) + value_to_text(r));
  }
  if (!l.is_number() || !r.is_number())
    return fault(e, "'" + op + "' needs numbers" + (op == "+" ? " or text" : "")
                      + ", found " + describe(l) + " and " + describe(r));
  const double a = l.get<double>(), b = r.get<double>();
  double x = 0;
  if (op == "+") x = a + b;
  else if (op == "-") x = a - b;
  else if (op == "*") x = a * b;
  else if (op == "/") {
    if (b == 0)
      return fault(e, "division by zero");
    x = a / b;
  } else {
    return fault(e, "unknown operator '" + op + "'");
  }
  if (!std::isfinite(x))
    return fault(e, "the result of '" + op + "' is too large for a number");
  return number_value(x);
}

eval_result ordering(const expr& e, const value& l, const value& r) {
  int c = 0;
  if (l.is_number() && r.is_number()) {
    const double a = l.get<double>(), b = r.get<double>();
    c = a < b ? -1 : a > b ? 1 : 0;
  } else if (l.is_string() && r.is_string()) {
    c = text(l).compare(text(r)); // Byte order, which is code point order in UTF-8.
  } else {
    return fault(e, "cannot order " + describe(l) + " and " + describe(r)
                      + ": '" + e.op + "' compares two numbers or two texts");
  }
  const std::string& op = e.op;
  return value(op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0);
}

} // namespace

eval_error fault(const expr& at, std::string message) {
  return {std::move(message), at.range};
}

std::string describe(const value& v) {
  switch (v.type()) {
    case value::value_t::string: return "text " + quote_excerpt(text(v), 40);
    case value::value_t::null: return "null";
    case value::value_t::boolean: return "bool " + value_to_text(v);
    case value::value_t::number_integer:
    case value::value_t::number_unsigned:
    case value::value_t::number_float: return "number " + value_to_text(v);
    case value::value_t::array: return "a list of " + plural(v.size(), "element");
    case value::value_t::object: return "an object";
    default: return v.type_name();
  }
}

eval_result call_builtin(const expr& call, const std::vector<value>& args) {
  const size_t n = arity(call.text);
  if (n == 0)
    return fault(call, "unknown function '" + call.text + "'");
  if (args.size() != n || call.args.size() != n)
    return fault(call, call.text + "() takes " + plural(n, "argument") + ", found "
                         + std::to_string(args.size()));
  if (call.text == "len")
    return len(call, args[0]);
  if (call.text == "contains")
    return contains(call, args[0], args[1]);
  if (call.text == "join")
    return join(call, args[0], args[1]);
  return text_function(call, args[0]);
}

eval_result apply_binary(const expr& e, const value& l, const value& r) {
  const std::string& op = e.op;
  // JSON equality: numbers by value whatever their representation (1 ==
  // 1.0), containers element by element, different kinds unequal.
  if (op == "==")
    return value(l == r);
  if (op == "!=")
    return value(l != r);
  if (op == "<" || op == "<=" || op == ">" || op == ">=")
    return ordering(e, l, r);
  return arithmetic(e, l, r);
}

} // namespace troupe::runtime::eval_detail
