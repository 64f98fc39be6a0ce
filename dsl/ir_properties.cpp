#include "dsl/ir_properties.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::dsl {

property_reader::property_reader(diagnostics& diags, const ast::block& block,
                                 std::string what,
                                 std::vector<std::string> allowed,
                                 std::vector<std::string> repeatable)
  : diags_(diags), block_(block), what_(std::move(what)) {
  std::map<std::string, const ast::entry*> seen;
  for (const auto& e : block_.entries) {
    if (std::find(allowed.begin(), allowed.end(), e.name) == allowed.end()) {
      std::vector<std::string> sorted = allowed;
      std::sort(sorted.begin(), sorted.end());
      std::string hint = did_you_mean(e.name, allowed);
      if (hint.empty()) {
        hint = "allowed here:";
        for (const auto& a : sorted)
          hint += " " + a;
      }
      diags_.add(diag_code::E025, e.name_range,
                 "unknown property '" + e.name + "' in " + what_, hint);
      continue;
    }
    bool repeats = std::find(repeatable.begin(), repeatable.end(), e.name)
                   != repeatable.end();
    auto [it, fresh] = seen.emplace(e.name, &e);
    if (!fresh && !repeats) {
      diags_.add(diag_code::E027, e.name_range,
                 "property '" + e.name + "' is given twice in " + what_)
        .notes.push_back({it->second->name_range, "first given here"});
    }
  }
}

const ast::entry* property_reader::get(const std::string& name) const {
  for (const auto& e : block_.entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

std::vector<const ast::entry*> property_reader::all(const std::string& name) const {
  std::vector<const ast::entry*> out;
  for (const auto& e : block_.entries)
    if (e.name == name)
      out.push_back(&e);
  return out;
}

void property_reader::wrong_form(const ast::entry& e, const std::string& expected,
                                 const std::string& hint) {
  diags_.add(diag_code::E034, e.value ? e.value->range : e.range,
             "'" + e.name + "' in " + what_ + " expects " + expected, hint);
}

const ast::entry* property_reader::value_entry(const std::string& name) {
  const auto* e = get(name);
  if (!e)
    return nullptr;
  if (!e->value) {
    wrong_form(*e, "a value", "write '" + name + ": <value>'");
    return nullptr;
  }
  ranges_[name] = e->value->range;
  return e;
}

std::optional<double> literal_number(const ast::expr& e) {
  if (e.kind == ast::expr_kind::number)
    return e.number;
  if (e.kind == ast::expr_kind::unary && e.op == "-"
      && e.args[0]->kind == ast::expr_kind::number)
    return -e.args[0]->number;
  return std::nullopt;
}

std::optional<double> property_reader::number(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  if (auto v = literal_number(*e->value))
    return v;
  wrong_form(*e, "a number");
  return std::nullopt;
}

std::optional<int64_t> property_reader::integer(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  auto v = literal_number(*e->value);
  if (v && std::floor(*v) == *v && std::fabs(*v) < 1e15)
    return static_cast<int64_t>(*v);
  wrong_form(*e, "a whole number");
  return std::nullopt;
}

std::optional<int64_t> property_reader::duration_ms(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  const auto& v = *e->value;
  bool neg = v.kind == ast::expr_kind::unary && v.op == "-";
  const auto& d = neg ? *v.args[0] : v;
  if (d.kind == ast::expr_kind::duration && d.number < 1e15)
    return static_cast<int64_t>(neg ? -d.number : d.number);
  wrong_form(*e, "a duration",
             d.kind == ast::expr_kind::number
               ? "add a unit: ms, s, m or h (for example " + d.text + "s)"
               : "for example 30s, 500ms, 2m or 1h");
  return std::nullopt;
}

std::optional<bool> property_reader::boolean(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  if (e->value->kind == ast::expr_kind::boolean)
    return e->value->boolean;
  wrong_form(*e, "true or false");
  return std::nullopt;
}

std::optional<std::string> property_reader::string(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  if (e->value->kind == ast::expr_kind::string && e->value->str.is_plain())
    return e->value->str.plain_text();
  wrong_form(*e, "a string without interpolation");
  return std::nullopt;
}

ast::expr_ptr property_reader::templ(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return nullptr;
  if (e->value->kind == ast::expr_kind::string)
    return e->value;
  wrong_form(*e, "a string", "interpolate values with \"... {{ name }} ...\"");
  return nullptr;
}

std::optional<std::string> property_reader::ident(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  if (e->value->kind == ast::expr_kind::name)
    return e->value->text;
  wrong_form(*e, "a name",
             e->value->kind == ast::expr_kind::string
               ? "write the name without quotes"
               : std::string());
  return std::nullopt;
}

std::optional<std::vector<std::string>>
property_reader::string_list(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  std::vector<std::string> out;
  if (e->value->kind == ast::expr_kind::list) {
    for (const auto& x : e->value->args) {
      if (x->kind != ast::expr_kind::string || !x->str.is_plain()) {
        wrong_form(*e, "a list of strings");
        return std::nullopt;
      }
      out.push_back(x->str.plain_text());
    }
    return out;
  }
  wrong_form(*e, "a list of strings", "for example [\"a\", \"b\"]");
  return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, source_range>>>
property_reader::ident_list(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return std::nullopt;
  std::vector<std::pair<std::string, source_range>> out;
  if (e->value->kind == ast::expr_kind::name)
    return decltype(out){{e->value->text, e->value->range}};
  if (e->value->kind == ast::expr_kind::list) {
    for (const auto& x : e->value->args) {
      if (x->kind != ast::expr_kind::name) {
        wrong_form(*e, "a list of step names");
        return std::nullopt;
      }
      out.emplace_back(x->text, x->range);
    }
    return out;
  }
  wrong_form(*e, "a list of step names", "for example [fetch, clean]");
  return std::nullopt;
}

ast::expr_ptr property_reader::expr(const std::string& name) {
  const auto* e = value_entry(name);
  if (!e)
    return nullptr;
  auto k = e->value->kind;
  if (k == ast::expr_kind::range || k == ast::expr_kind::agree) {
    wrong_form(*e, "an expression");
    return nullptr;
  }
  return e->value;
}

ast::expr_ptr property_reader::any(const std::string& name) {
  const auto* e = value_entry(name);
  return e ? e->value : nullptr;
}

const ast::block* property_reader::nested(const std::string& name) {
  const auto* e = get(name);
  if (!e)
    return nullptr;
  if (!e->nested) {
    wrong_form(*e, "a block", "write '" + name + " { ... }'");
    return nullptr;
  }
  ranges_[name] = e->range;
  return e->nested.get();
}

bool property_reader::flag(const std::string& name) {
  const auto* e = get(name);
  if (!e)
    return false;
  if (!e->is_flag()) {
    wrong_form(*e, "no value", "write '" + name + "' alone");
    return false;
  }
  ranges_[name] = e->range;
  return true;
}

bool property_reader::require(const std::string& name, const std::string& hint) {
  if (has(name))
    return true;
  diags_.add(diag_code::E026, anchor_.valid() ? anchor_ : block_.range,
             what_ + " is missing required property '" + name + "'", hint);
  return false;
}

} // namespace troupe::dsl
