#include "dsl/typing.hpp"

#include "dsl/tools.hpp"

#include <algorithm>

namespace troupe::dsl {

namespace {

bool is_number_like(const type& t) {
  return t.is(type_kind::number) || t.is(type_kind::json) || t.is_error();
}

bool is_bool_like(const type& t) {
  return t.is(type_kind::boolean) || t.is(type_kind::json) || t.is_error();
}

std::string quoted(const type& t) { return "'" + t.to_string() + "'"; }

} // namespace

const std::vector<std::string>& expr_typer::function_names() {
  static const std::vector<std::string> names = {"contains", "join", "len",
                                                 "lower", "trim", "upper"};
  return names;
}

type expr_typer::mismatch(const ast::expr& at, const std::string& message,
                          const std::string& hint) {
  diags_.add(diag_code::E030, at.range, message, hint);
  return type::error();
}

type expr_typer::type_of(const ast::expr& e, const ir::step* owner) {
  switch (e.kind) {
    case ast::expr_kind::number: return type::number();
    case ast::expr_kind::duration: return type::duration();
    case ast::expr_kind::boolean: return type::boolean();
    case ast::expr_kind::null: return type::null();
    case ast::expr_kind::string:
      for (const auto& p : e.str.parts)
        if (p.value)
          type_of(*p.value, owner); // Anything can be rendered as text.
      return type::text();
    case ast::expr_kind::list: return list_type(e, owner);
    case ast::expr_kind::name: return name_type(e, owner);
    case ast::expr_kind::field: return field_type(e, owner);
    case ast::expr_kind::index: return index_type(e, owner);
    case ast::expr_kind::call: return call_type(e, owner);
    case ast::expr_kind::unary: return unary_type(e, owner);
    case ast::expr_kind::binary: return binary_type(e, owner);
    case ast::expr_kind::range:
    case ast::expr_kind::agree:
      diags_.add(diag_code::E034, e.range,
                 "a range or agreement is only valid in a verify block");
      return type::error();
  }
  return type::error();
}

void expr_typer::expect(const ast::expr& e, const ir::step* owner,
                        const type& expected, const std::string& what) {
  type t = type_of(e, owner);
  if (!assignable(t, expected))
    mismatch(e, what + " must be " + quoted(expected) + ", found " + quoted(t));
}

type expr_typer::list_type(const ast::expr& e, const ir::step* owner) {
  if (e.args.empty())
    return type::list_of(type::json());
  type first = type_of(*e.args[0], owner);
  for (size_t i = 1; i < e.args.size(); ++i) {
    type t = type_of(*e.args[i], owner);
    if (!assignable(t, first))
      return mismatch(*e.args[i], "list items must share one type: expected "
                                    + quoted(first) + ", found " + quoted(t));
  }
  return type::list_of(first);
}

type expr_typer::name_type(const ast::expr& e, const ir::step* owner) {
  auto it = w_.refs.find(&e);
  if (it == w_.refs.end())
    return type::error(); // Undefined; build_ir reported it.
  const auto& r = it->second;
  switch (r.kind) {
    case ir::ref::input: return w_.find_input(r.name)->type_;
    case ir::ref::step: return w_.find_step(r.name)->output_type;
    case ir::ref::loop_var: {
      if (!owner || !owner->each)
        return type::error();
      diagnostics quiet; // The list's own errors are reported once, elsewhere.
      return loop_element_type(w_, *owner, quiet);
    }
    case ir::ref::result: {
      if (!owner)
        return type::error();
      const auto& t = owner->output_type;
      return owner->each && t.is(type_kind::list) ? t.element() : t;
    }
  }
  return type::error();
}

type expr_typer::field_type(const ast::expr& e, const ir::step* owner) {
  type base = type_of(*e.args[0], owner);
  if (base.is_error() || base.is(type_kind::json) || base.is(type_kind::null))
    return base.is_error() ? base : type::json();
  if (base.is(type_kind::record)) {
    if (const auto* f = base.field(e.text))
      return *f;
    std::vector<std::string> names;
    for (const auto& [n, t] : base.fields()) names.push_back(n);
    diags_.add(diag_code::E031, e.range,
               "no field '" + e.text + "' in " + quoted(base),
               did_you_mean(e.text, names));
    return type::error();
  }
  std::string hint;
  const auto& inner = *e.args[0];
  if (inner.kind == ast::expr_kind::name && base.is(type_kind::text)) {
    auto it = w_.refs.find(&inner);
    if (it != w_.refs.end() && it->second.kind == ir::ref::step)
      hint = "set 'format: json' on step '" + inner.text + "' to get structured output";
  }
  diags_.add(diag_code::E031, e.range,
             "cannot read field '" + e.text + "' of a value of type " + quoted(base),
             hint);
  return type::error();
}

type expr_typer::index_type(const ast::expr& e, const ir::step* owner) {
  type base = type_of(*e.args[0], owner);
  type idx = type_of(*e.args[1], owner);
  if (base.is_error())
    return base;
  if (base.is(type_kind::list)) {
    if (!is_number_like(idx))
      return mismatch(*e.args[1], "a list index must be a number, found " + quoted(idx));
    return base.element();
  }
  if (base.is(type_kind::json)) {
    if (!is_number_like(idx) && !idx.is(type_kind::text))
      return mismatch(*e.args[1], "a json index must be a number or text, found " + quoted(idx));
    return type::json();
  }
  return mismatch(e, "cannot index a value of type " + quoted(base));
}

type expr_typer::call_type(const ast::expr& e, const ir::step* owner) {
  const auto& fns = function_names();
  if (std::find(fns.begin(), fns.end(), e.text) == fns.end()) {
    std::string hint = did_you_mean(e.text, fns);
    if (hint.empty())
      hint = "available functions: contains, join, len, lower, trim, upper";
    diags_.add(diag_code::E029, e.range, "unknown function '" + e.text + "'", hint);
    for (const auto& a : e.args)
      type_of(*a, owner);
    return type::error();
  }
  std::vector<type> args;
  for (const auto& a : e.args)
    args.push_back(type_of(*a, owner));
  for (size_t i = 0; i < e.arg_names.size(); ++i)
    if (!e.arg_names[i].empty()) {
      diags_.add(diag_code::E032, e.arg_name_ranges[i],
                 e.text + "() takes no named arguments");
      return type::error();
    }
  auto arity = [&](size_t n) {
    if (args.size() == n)
      return true;
    diags_.add(diag_code::E032, e.range,
               e.text + "() takes " + std::to_string(n) + " argument"
                 + (n == 1 ? "" : "s") + ", found " + std::to_string(args.size()));
    return false;
  };
  auto bad_arg = [&](size_t i, const std::string& expected) {
    diags_.add(diag_code::E032, e.args[i]->range,
               "argument " + std::to_string(i + 1) + " of " + e.text + "() must be "
                 + expected + ", found " + quoted(args[i]));
    return type::error();
  };
  auto any = [](const type& t, std::initializer_list<type_kind> ks) {
    if (t.is_error() || t.is(type_kind::json))
      return true;
    for (auto k : ks)
      if (t.is(k))
        return true;
    return false;
  };
  if (e.text == "len") {
    if (!arity(1)) return type::error();
    if (!any(args[0], {type_kind::text, type_kind::list})) return bad_arg(0, "text, a list or json");
    return type::number();
  }
  if (e.text == "contains") {
    if (!arity(2)) return type::error();
    if (args[0].is(type_kind::list)) {
      if (!assignable(args[1], args[0].element()))
        return bad_arg(1, quoted(args[0].element()));
    } else if (!any(args[0], {type_kind::text})) {
      return bad_arg(0, "text, a list or json");
    } else if (args[0].is(type_kind::text) && !any(args[1], {type_kind::text})) {
      return bad_arg(1, "'text'");
    }
    return type::boolean();
  }
  if (e.text == "join") {
    if (!arity(2)) return type::error();
    if (!any(args[0], {type_kind::list})) return bad_arg(0, "a list");
    if (!any(args[1], {type_kind::text})) return bad_arg(1, "'text'");
    return type::text();
  }
  // lower, upper, trim
  if (!arity(1)) return type::error();
  if (!any(args[0], {type_kind::text})) return bad_arg(0, "'text'");
  return type::text();
}

type expr_typer::unary_type(const ast::expr& e, const ir::step* owner) {
  type t = type_of(*e.args[0], owner);
  if (e.op == "not") {
    if (!is_bool_like(t))
      return mismatch(e, "'not' needs a bool, found " + quoted(t));
    return type::boolean();
  }
  if (t.is(type_kind::duration))
    return t;
  if (!is_number_like(t))
    return mismatch(e, "'-' needs a number, found " + quoted(t));
  return type::number();
}

type expr_typer::binary_type(const ast::expr& e, const ir::step* owner) {
  type l = type_of(*e.args[0], owner);
  type r = type_of(*e.args[1], owner);
  const std::string& op = e.op;
  if (l.is_error() || r.is_error())
    return op == "??" ? (l.is_error() ? r : l)
           : (op == "+" || op == "-" || op == "*" || op == "/") ? type::error()
                                                               : type::boolean();
  auto operands = [&] { return quoted(l) + " and " + quoted(r); };
  if (op == "??") {
    if (l.is(type_kind::null))
      return r;
    if (!assignable(r, l))
      return mismatch(e, "'?\?' needs a default of the same type: " + operands());
    return l;
  }
  if (op == "and" || op == "or") {
    if (!is_bool_like(l) || !is_bool_like(r))
      return mismatch(e, "'" + op + "' needs bools, found " + operands());
    return type::boolean();
  }
  if (op == "==" || op == "!=") {
    if (!assignable(l, r) && !assignable(r, l))
      return mismatch(e, "cannot compare " + operands());
    return type::boolean();
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    bool ok = (is_number_like(l) && is_number_like(r))
              || (l == r && (l.is(type_kind::text) || l.is(type_kind::duration)))
              || (l.is(type_kind::json) || r.is(type_kind::json));
    if (!ok)
      return mismatch(e, "cannot order " + operands());
    return type::boolean();
  }
  if (op == "+") {
    bool lt = l.is(type_kind::text), rt = r.is(type_kind::text);
    bool lj = l.is(type_kind::json), rj = r.is(type_kind::json);
    if ((lt && (rt || rj)) || (rt && lj))
      return type::text();
    if (lj && rj)
      return type::json(); // Text or number: known at run time.
  }
  if ((op == "+" || op == "-") && l.is(type_kind::duration) && r.is(type_kind::duration))
    return l;
  if (!is_number_like(l) || !is_number_like(r))
    return mismatch(e, "'" + op + "' needs numbers, found " + operands());
  return type::number();
}

type loop_element_type(const ir::workflow& w, const ir::step& s,
                       diagnostics& diags) {
  if (!s.each)
    return type::error();
  expr_typer typer(w, diags);
  type t = typer.type_of(*s.each->list, nullptr);
  if (t.is(type_kind::list))
    return t.element();
  if (t.is(type_kind::json) || t.is_error())
    return t.is_error() ? t : type::json();
  diags.add(diag_code::E035, s.each->list->range,
            "'for' needs a list to iterate, found '" + t.to_string() + "'");
  return type::error();
}

type base_output_type(const ir::graph& g, const ir::step& s) {
  switch (s.kind) {
    case ast::step_kind::llm:
      return s.format == ir::output_format::json ? type::json() : type::text();
    case ast::step_kind::plan:
      return type::json();
    case ast::step_kind::tool: {
      const auto* t = find_tool(s.target);
      return t ? t->result : type::error();
    }
    case ast::step_kind::call: {
      const auto* w = g.find_workflow(s.target);
      if (!w)
        return type::error();
      std::vector<std::pair<std::string, type>> fields;
      for (const auto& o : w->outputs)
        fields.emplace_back(o.name, o.type_);
      return type::record(std::move(fields));
    }
  }
  return type::error();
}

} // namespace troupe::dsl
