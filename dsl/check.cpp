// check(): ir::graph -> checked_graph.
#include "dsl/check.hpp"

#include "dsl/check_policies.hpp"

#include "dsl/tools.hpp"
#include "dsl/typing.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>

namespace troupe::dsl {

namespace {

// A literal of type `t`, for hints.
std::string default_literal(const type& t) {
  switch (t.kind()) {
    case type_kind::number: return "0";
    case type_kind::boolean: return "false";
    case type_kind::list: return "[]";
    case type_kind::json: return "null";
    default: return "\"\"";
  }
}

} // namespace

class checker {
public:
  explicit checker(diagnostics& diags) : diags_(diags) {}

  std::optional<checked_graph> run(ir::graph g) {
    for (const auto& m : g.models)
      check_model(m, diags_);
    check_router(g.router, diags_);
    for (auto& w : g.workflows)
      for (auto& s : w.steps) {
        type base = base_output_type(g, s);
        s.output_type = s.each ? type::list_of(base) : base;
      }
    std::map<std::string, std::vector<std::string>> order;
    for (const auto& w : g.workflows) {
      if (w.router)
        check_router(*w.router, diags_);
      order[w.name] = check_workflow(g, w);
    }
    check_call_cycles(g);
    if (diags_.has_errors())
      return std::nullopt;
    return checked_graph(std::move(g), std::move(order));
  }

private:
  // Kahn's algorithm in source order; reports each cycle once and returns a
  // run order of the acyclic part.
  std::vector<std::string> run_order(const ir::workflow& w) {
    std::map<std::string, size_t> pending;
    std::map<std::string, std::vector<std::string>> users;
    for (const auto& s : w.steps) {
      pending[s.name] = s.deps.size();
      for (const auto& d : s.deps)
        users[d].push_back(s.name);
    }
    std::vector<std::string> order;
    std::set<std::string> done;
    bool progress = true;
    while (progress) {
      progress = false;
      for (const auto& s : w.steps) {
        if (done.count(s.name) || pending[s.name] != 0)
          continue;
        done.insert(s.name);
        order.push_back(s.name);
        for (const auto& u : users[s.name])
          --pending[u];
        progress = true;
      }
    }
    if (order.size() != w.steps.size())
      report_cycles(w, done);
    return order;
  }

  void report_cycles(const ir::workflow& w, const std::set<std::string>& done) {
    std::set<std::string> reported;
    for (const auto& s : w.steps) {
      if (done.count(s.name) || reported.count(s.name))
        continue;
      // Walk dependencies inside the blocked set until a step repeats.
      std::vector<std::string> path{s.name};
      std::string cur = s.name;
      while (true) {
        const auto* st = w.find_step(cur);
        std::string next;
        for (const auto& d : st->deps)
          if (!done.count(d)) { next = d; break; }
        auto it = std::find(path.begin(), path.end(), next);
        if (next.empty())
          break;
        if (it != path.end()) {
          std::vector<std::string> cycle(it, path.end());
          bool seen = false;
          for (const auto& c : cycle)
            seen = seen || reported.count(c);
          if (!seen) {
            // Start the printed cycle at the step declared first.
            auto first = std::min_element(cycle.begin(), cycle.end(),
              [&](const auto& a, const auto& b) {
                return w.find_step(a)->range.begin < w.find_step(b)->range.begin;
              });
            std::rotate(cycle.begin(), first, cycle.end());
            std::string text;
            for (const auto& c : cycle)
              text += c + " -> ";
            text += cycle.front();
            const auto* head = w.find_step(cycle.front());
            auto& d = diags_.add(diag_code::E040, head->name_range,
                                 "dependency cycle: " + text,
                                 cycle.size() == 1 ? "a step cannot use its own output"
                                                   : "break the cycle: one of these steps "
                                                     "must not need another's output");
            for (size_t i = 1; i < cycle.size(); ++i)
              d.notes.push_back({w.find_step(cycle[i])->name_range,
                                 "'" + cycle[i] + "' is part of the cycle"});
          }
          reported.insert(cycle.begin(), cycle.end());
          break;
        }
        path.push_back(next);
        cur = next;
      }
    }
  }

  std::vector<std::string> check_workflow(const ir::graph& g, const ir::workflow& w) {
    expr_typer typer(w, diags_);
    if (w.outputs.empty())
      diags_.add(diag_code::E043, w.name_range,
                 "workflow '" + w.name + "' declares no output",
                 "add 'output <name>: <type> = <expression>'");
    for (const auto& in : w.inputs)
      if (in.default_value)
        typer.expect(*in.default_value, nullptr, in.type_,
                     "the default of input '" + in.name + "'");
    auto order = run_order(w);
    for (const auto& s : w.steps)
      check_step(g, w, s, typer);
    for (const auto& o : w.outputs) {
      type t = typer.type_of(*o.value, nullptr);
      if (!assignable(t, o.type_))
        diags_.add(diag_code::E030, o.value->range,
                   "output '" + o.name + "' is declared '" + o.type_.to_string()
                     + "' but its value is '" + t.to_string() + "'");
      if (const auto* cond = may_be_missing(w, *o.value))
        diags_.add(diag_code::E042, o.value->range,
                   "output '" + o.name + "' may be missing: step '" + cond->name
                     + "' runs only when its condition holds",
                   "give a default with '?\?', for example " + cond->name + " ?? "
                     + default_literal(o.type_));
    }
    check_unused(w);
    return order;
  }

  // The conditional step whose absence would leave `e` without a value.
  const ir::step* may_be_missing(const ir::workflow& w, const ast::expr& e) {
    if (e.kind == ast::expr_kind::binary && e.op == "??")
      return may_be_missing(w, *e.args[1]);
    if (e.kind == ast::expr_kind::name) {
      auto it = w.refs.find(&e);
      if (it != w.refs.end() && it->second.kind == ir::ref::step) {
        const auto* s = w.find_step(it->second.name);
        return s->when ? s : nullptr;
      }
      return nullptr;
    }
    if (e.kind == ast::expr_kind::string)
      for (const auto& p : e.str.parts)
        if (p.value)
          if (const auto* s = may_be_missing(w, *p.value))
            return s;
    for (const auto& a : e.args)
      if (const auto* s = may_be_missing(w, *a))
        return s;
    return nullptr;
  }

  void check_step(const ir::graph& g, const ir::workflow& w, const ir::step& s,
                  expr_typer& typer) {
    std::string what = "step '" + s.name + "'";
    if (s.each)
      loop_element_type(w, s, diags_);
    if (s.prompt) typer.type_of(*s.prompt, &s);
    if (s.system) typer.type_of(*s.system, &s);
    if (s.when)
      typer.expect(*s.when, &s, type::boolean(), "'when' of " + what);
    for (const auto& a : s.verify.asserts)
      typer.expect(*a, &s, type::boolean(), "an assert of " + what);
    if (s.kind == ast::step_kind::tool)
      check_tool_args(s, typer);
    if (s.kind == ast::step_kind::call)
      check_call_args(g, s, typer);
    if (s.kind == ast::step_kind::llm || s.kind == ast::step_kind::plan)
      check_model_use(g, s);
    check_step_policies(s, diags_);
    check_verify(s, s.model ? 0 : candidates(g, s).size(), diags_);
  }

  void check_tool_args(const ir::step& s, expr_typer& typer) {
    const auto* tool = find_tool(s.target);
    if (!tool) {
      for (const auto& a : s.args) typer.type_of(*a.value, &s);
      return;
    }
    std::vector<std::string> names;
    for (const auto& p : tool->params) names.push_back(p.name);
    for (const auto& a : s.args) {
      auto it = std::find_if(tool->params.begin(), tool->params.end(),
                             [&](const auto& p) { return p.name == a.name; });
      if (it == tool->params.end()) {
        std::string hint = did_you_mean(a.name, names);
        if (hint.empty()) {
          hint = s.target + " takes:";
          for (const auto& p : tool->params) hint += " " + p.name;
        }
        diags_.add(diag_code::E033, a.name_range,
                   "tool '" + s.target + "' has no argument '" + a.name + "'", hint);
        typer.type_of(*a.value, &s);
        continue;
      }
      typer.expect(*a.value, &s, it->type_, "argument '" + a.name + "' of tool '" + s.target + "'");
      if (s.target == "regex_extract" && a.name == "pattern"
          && a.value->kind == ast::expr_kind::string && a.value->str.is_plain()) {
        try {
          compile_regex(a.value->str.plain_text());
        } catch (const std::regex_error& e) {
          diags_.add(diag_code::E055, a.value->range,
                     "invalid regular expression: " + std::string(e.what()));
        }
      }
    }
    for (const auto& p : tool->params)
      if (p.required && std::none_of(s.args.begin(), s.args.end(),
                                     [&](const auto& a) { return a.name == p.name; }))
        diags_.add(diag_code::E033, s.name_range,
                   "tool '" + s.target + "' needs argument '" + p.name + "' ("
                     + p.type_.to_string() + ")",
                   "add it under 'args { " + p.name + ": ... }'");
  }

  void check_call_args(const ir::graph& g, const ir::step& s, expr_typer& typer) {
    const auto* callee = g.find_workflow(s.target);
    if (!callee) {
      for (const auto& a : s.args) typer.type_of(*a.value, &s);
      return;
    }
    std::vector<std::string> names;
    for (const auto& in : callee->inputs) names.push_back(in.name);
    for (const auto& a : s.args) {
      const auto* in = callee->find_input(a.name);
      if (!in) {
        diags_.add(diag_code::E033, a.name_range,
                   "workflow '" + s.target + "' has no input '" + a.name + "'",
                   did_you_mean(a.name, names));
        typer.type_of(*a.value, &s);
        continue;
      }
      typer.expect(*a.value, &s, in->type_, "input '" + a.name + "' of workflow '" + s.target + "'");
    }
    for (const auto& in : callee->inputs)
      if (!in.default_value && std::none_of(s.args.begin(), s.args.end(),
                                            [&](const auto& a) { return a.name == in.name; }))
        diags_.add(diag_code::E033, s.name_range,
                   "workflow '" + s.target + "' needs input '" + in.name + "' ("
                     + in.type_.to_string() + ")");
  }

  std::vector<const ir::model*> candidates(const ir::graph& g, const ir::step& s) {
    std::vector<const ir::model*> out;
    for (const auto& m : g.models)
      if (s.domain.empty() || m.domains.empty()
          || std::find(m.domains.begin(), m.domains.end(), s.domain) != m.domains.end())
        out.push_back(&m);
    return out;
  }

  void check_model_use(const ir::graph& g, const ir::step& s) {
    const ir::model* pinned = s.model ? g.find_model(*s.model) : nullptr;
    if (s.model && !s.domain.empty())
      diags_.add(diag_code::W004, range_of(s.ranges, "domain", s.name_range),
                 "step '" + s.name + "' pins model '" + *s.model
                   + "', so its domain does not affect routing",
                 "remove 'model' to let the router choose by domain");
    if (s.fallback && s.model && *s.fallback == *s.model)
      diags_.add(diag_code::W003, range_of(s.ranges, "fallback", s.name_range),
                 "the fallback of step '" + s.name + "' is its own model");
    if (pinned && s.max_tokens > pinned->context)
      diags_.add(diag_code::E060, range_of(s.ranges, "max_tokens", s.name_range),
                 "max_tokens " + std::to_string(s.max_tokens) + " exceeds model '"
                   + pinned->name + "' context of " + std::to_string(pinned->context));
    if (!s.model && candidates(g, s).empty()) {
      std::string msg = g.models.empty()
                          ? "no model is declared, so nothing can run step '" + s.name + "'"
                          : "no model serves domain '" + s.domain + "' of step '" + s.name + "'";
      diags_.add(diag_code::E059, range_of(s.ranges, "domain", s.name_range), msg,
                 g.models.empty() ? "declare a model, or import a registry"
                                  : "declare a model with this domain, or import a registry");
    }
  }

  void check_unused(const ir::workflow& w) {
    std::set<std::string> used_steps, used_inputs;
    for (const auto& [e, r] : w.refs) {
      if (r.kind == ir::ref::input) used_inputs.insert(r.name);
      if (r.kind == ir::ref::step) used_steps.insert(r.name);
    }
    for (const auto& s : w.steps)
      for (const auto& [name, at_] : s.after)
        used_steps.insert(name);
    for (const auto& s : w.steps) {
      const auto* tool = s.kind == ast::step_kind::tool ? find_tool(s.target) : nullptr;
      if (used_steps.count(s.name) || (tool && tool->side_effects))
        continue;
      diags_.add(diag_code::W001, s.name_range,
                 "the output of step '" + s.name + "' is never used",
                 "use it in an output or another step, or remove the step");
    }
    for (const auto& in : w.inputs)
      if (!used_inputs.count(in.name))
        diags_.add(diag_code::W002, in.name_range, "input '" + in.name + "' is never used");
  }

  void check_call_cycles(const ir::graph& g) {
    std::map<std::string, int> state; // 0 new, 1 on stack, 2 done
    std::vector<std::string> stack;
    std::function<void(const ir::workflow&)> visit = [&](const ir::workflow& w) {
      state[w.name] = 1;
      stack.push_back(w.name);
      for (const auto& s : w.steps) {
        if (s.kind != ast::step_kind::call)
          continue;
        const auto* callee = g.find_workflow(s.target);
        if (!callee)
          continue;
        if (state[callee->name] == 1) {
          std::string path;
          auto it = std::find(stack.begin(), stack.end(), callee->name);
          for (; it != stack.end(); ++it)
            path += *it + " -> ";
          diags_.add(diag_code::E041, range_of(s.ranges, "use", s.name_range),
                     "workflow call cycle: " + path + callee->name,
                     "workflows cannot call themselves, directly or indirectly");
        } else if (state[callee->name] == 0) {
          visit(*callee);
        }
      }
      stack.pop_back();
      state[w.name] = 2;
    };
    for (const auto& w : g.workflows)
      if (state[w.name] == 0)
        visit(w);
  }

  diagnostics& diags_;
};

std::optional<checked_graph> check(ir::graph g, diagnostics& diags) {
  return checker(diags).run(std::move(g));
}

} // namespace troupe::dsl
