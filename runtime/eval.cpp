#include "runtime/eval.hpp"

#include "runtime/eval_functions.hpp"

#include <cmath>

// The tree walk of evaluate(): names, fields, indexes and the operators that
// decide what to evaluate (and, or, ??). Operators over computed values and
// the built-in functions live in eval_functions.cpp. Recursion follows the
// expression's nesting, which the parser bounds (E007).

namespace troupe::runtime {

namespace {

using namespace eval_detail;
using dsl::ast::expr;
using dsl::ast::expr_kind;
using eval_result = result<value, eval_error>;

class evaluator {
public:
  explicit evaluator(const eval_scope& scope) : scope_(scope) {}

  eval_result eval(const expr& e) {
    switch (e.kind) {
      case expr_kind::number:
      case expr_kind::duration: return number_value(e.number);
      case expr_kind::boolean: return value(e.boolean);
      case expr_kind::null: return value(nullptr);
      case expr_kind::string: {
        auto text = render(e.str);
        if (!text)
          return text.error();
        return value(std::move(text).value());
      }
      case expr_kind::list: return list(e);
      case expr_kind::name: return name(e);
      case expr_kind::field: return field(e);
      case expr_kind::index: return index(e);
      case expr_kind::call: return call(e);
      case expr_kind::unary: return unary(e);
      case expr_kind::binary: return binary(e);
      case expr_kind::range:
      case expr_kind::agree:
        return fault(e, "a range or agreement has no value outside a verify block");
    }
    return fault(e, "unknown kind of expression");
  }

  result<std::string, eval_error> render(const dsl::ast::template_string& s) {
    std::string out;
    for (const auto& part : s.parts) {
      if (!part.value) {
        out += part.literal;
        continue;
      }
      auto v = eval(*part.value);
      if (!v)
        return v.error();
      out += value_to_text(v.value());
    }
    return out;
  }

private:
  eval_result list(const expr& e) {
    value out = value::array();
    for (const auto& item : e.args) {
      auto v = eval(*item);
      if (!v)
        return v;
      out.push_back(std::move(v).value());
    }
    return out;
  }

  eval_result name(const expr& e) {
    if (!scope_.wf)
      return fault(e, "no workflow to resolve '" + e.text + "' in");
    auto it = scope_.wf->refs.find(&e);
    if (it == scope_.wf->refs.end())
      return fault(e, "'" + e.text + "' is not a resolved name (was the workflow checked?)");
    const dsl::ir::ref& r = it->second;
    switch (r.kind) {
      case dsl::ir::ref::input: {
        if (scope_.inputs && scope_.inputs->is_object()) {
          auto in = scope_.inputs->find(r.name);
          if (in != scope_.inputs->end())
            return *in;
        }
        return fault(e, "input '" + r.name + "' has no value");
      }
      case dsl::ir::ref::step: {
        // Absent: skipped by `when` or not run; `??` tests for this null.
        if (!scope_.steps)
          return value(nullptr);
        auto s = scope_.steps->find(r.name);
        return s == scope_.steps->end() ? value(nullptr) : s->second;
      }
      case dsl::ir::ref::loop_var:
        if (!scope_.loop_value)
          return fault(e, "loop variable '" + r.name + "' has no value here");
        return *scope_.loop_value;
      case dsl::ir::ref::result:
        if (!scope_.result)
          return fault(e, "'result' has a value only inside verify");
        return *scope_.result;
    }
    return fault(e, "unknown kind of name '" + e.text + "'");
  }

  // Null has no fields but is not a fault: a skipped step's fields read as
  // null too, so `skipped.answer ?? "none"` works.
  eval_result field(const expr& e) {
    auto base = eval(*e.args[0]);
    if (!base)
      return base;
    const value& v = base.value();
    if (v.is_null())
      return value(nullptr);
    if (!v.is_object())
      return fault(e, "cannot read field '" + e.text + "' of " + describe(v));
    auto it = v.find(e.text);
    return it == v.end() ? value(nullptr) : *it;
  }

  eval_result index(const expr& e) {
    auto base = eval(*e.args[0]);
    if (!base)
      return base;
    auto idx = eval(*e.args[1]);
    if (!idx)
      return idx;
    const value& v = base.value();
    const value& i = idx.value();
    if (v.is_null())
      return value(nullptr);
    if (v.is_object()) {
      if (!i.is_string())
        return fault(*e.args[1], "an object is indexed by text, not by " + describe(i));
      auto it = v.find(i.get_ref<const std::string&>());
      return it == v.end() ? value(nullptr) : *it;
    }
    if (!v.is_array())
      return fault(e, "cannot index " + describe(v));
    if (!i.is_number())
      return fault(*e.args[1], "a list is indexed by a number, not by " + describe(i));
    const double n = i.get<double>();
    if (std::trunc(n) != n)
      return fault(*e.args[1], "index " + value_to_text(i) + " is not a whole number");
    if (n < 0 || n >= static_cast<double>(v.size()))
      return fault(*e.args[1], "index " + value_to_text(i) + " is out of range for a list of "
                                 + std::to_string(v.size()) + " element"
                                 + (v.size() == 1 ? "" : "s"));
    return v[static_cast<size_t>(n)];
  }

  eval_result call(const expr& e) {
    std::vector<value> args;
    args.reserve(e.args.size());
    for (const auto& a : e.args) {
      auto v = eval(*a);
      if (!v)
        return v;
      args.push_back(std::move(v).value());
    }
    return call_builtin(e, args);
  }

  eval_result unary(const expr& e) {
    auto operand = eval(*e.args[0]);
    if (!operand)
      return operand;
    const value& v = operand.value();
    if (e.op == "not") {
      if (!v.is_boolean())
        return fault(e, "'not' needs a bool, found " + describe(v));
      return value(!v.get<bool>());
    }
    if (e.op == "-") {
      if (!v.is_number())
        return fault(e, "'-' needs a number, found " + describe(v));
      return number_value(-v.get<double>());
    }
    return fault(e, "unknown operator '" + e.op + "'");
  }

  eval_result binary(const expr& e) {
    auto left = eval(*e.args[0]);
    if (!left)
      return left;
    if (e.op == "??")
      return left.value().is_null() ? eval(*e.args[1]) : left;
    if (e.op == "and" || e.op == "or") {
      if (!left.value().is_boolean())
        return fault(*e.args[0], "'" + e.op + "' needs bools, found "
                                   + describe(left.value()));
      const bool l = left.value().get<bool>();
      if (l == (e.op == "or")) // Short circuit: true or _, false and _.
        return value(l);
      auto right = eval(*e.args[1]);
      if (!right)
        return right;
      if (!right.value().is_boolean())
        return fault(*e.args[1], "'" + e.op + "' needs bools, found "
                                   + describe(right.value()));
      return right;
    }
    auto right = eval(*e.args[1]);
    if (!right)
      return right;
    return apply_binary(e, left.value(), right.value());
  }

  const eval_scope& scope_;
};

} // namespace

result<value, eval_error> evaluate(const dsl::ast::expr& e, const eval_scope& scope) {
  return evaluator(scope).eval(e);
}

result<std::string, eval_error> render(const dsl::ast::template_string& s,
                                       const eval_scope& scope) {
  return evaluator(scope).render(s);
}

} // namespace troupe::runtime
