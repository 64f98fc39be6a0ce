// Name resolution for build_ir(): every name expression of a workflow is
// bound to an input, step, loop variable or `result`, and each step learns
// its dependencies.
#include "dsl/resolve_names.hpp"

#include "dsl/tools.hpp"

#include <set>

namespace troupe::dsl {

namespace {

class name_resolver {
public:
  explicit name_resolver(diagnostics& diags) : diags_(diags) {}

  void resolve_workflow(const ir::graph& g, ir::workflow& w);

private:
  struct scope {
    const ir::workflow* w;
    const ir::step* owner = nullptr; // Step whose expressions are resolved.
    bool loop_var = false;
    bool result = false;
    std::set<std::string>* deps = nullptr;
    std::set<std::string>* inputs = nullptr;
  };

  void resolve(ir::workflow& w, const scope& sc, const ast::expr_ptr& e) {
    if (!e)
      return;
    if (e->kind == ast::expr_kind::name) {
      resolve_name(w, sc, *e);
      return;
    }
    if (e->kind == ast::expr_kind::string)
      for (const auto& part : e->str.parts)
        resolve(w, sc, part.value);
    for (const auto& a : e->args)
      resolve(w, sc, a);
  }

  void resolve_name(ir::workflow& w, const scope& sc, const ast::expr& e) {
    const std::string& n = e.text;
    if (sc.loop_var && sc.owner && n == sc.owner->each->var) {
      w.refs[&e] = {ir::ref::loop_var, n};
    } else if (sc.result && n == "result") {
      w.refs[&e] = {ir::ref::result, n};
    } else if (w.find_input(n)) {
      w.refs[&e] = {ir::ref::input, n};
      if (sc.inputs)
        sc.inputs->insert(n);
    } else if (w.find_step(n)) {
      w.refs[&e] = {ir::ref::step, n};
      if (sc.deps)
        sc.deps->insert(n);
    } else {
      std::vector<std::string> names;
      for (const auto& i : w.inputs) names.push_back(i.name);
      for (const auto& s : w.steps) names.push_back(s.name);
      if (sc.loop_var && sc.owner) names.push_back(sc.owner->each->var);
      if (sc.result) names.push_back("result");
      std::string hint = did_you_mean(n, names);
      if (hint.empty() && n == "result")
        hint = "'result' names a step's output only inside its verify block";
      if (hint.empty() && sc.owner && !sc.loop_var && sc.owner->each
          && n == sc.owner->each->var)
        hint = "the loop variable is not visible in the list it iterates";
      diags_.add(diag_code::E020, e.range, "undefined name '" + n + "'", hint);
    }
  }

  // Input defaults are known before the run starts: literals only.
  void require_constant(const ast::expr& e, const std::string& what) {
    if (e.kind == ast::expr_kind::name) {
      diags_.add(diag_code::E034, e.range,
                 what + " must be a constant, but it names '" + e.text + "'",
                 "defaults cannot refer to inputs or steps; compute the value in a step");
      return;
    }
    if (e.kind == ast::expr_kind::string)
      for (const auto& p : e.str.parts)
        if (p.value) {
          diags_.add(diag_code::E034, p.value->range, what + " cannot interpolate");
          return;
        }
    for (const auto& a : e.args)
      require_constant(*a, what);
  }

  void resolve_targets(const ir::graph& g, const ir::step& s) {
    std::vector<std::string> models;
    for (const auto& m : g.models) models.push_back(m.name);
    auto check_model = [&](const std::optional<std::string>& name, const char* prop) {
      if (name && !g.find_model(*name))
        diags_.add(diag_code::E022, s.ranges.at(prop), "unknown model '" + *name + "'",
                   did_you_mean(*name, models));
    };
    check_model(s.model, "model");
    check_model(s.fallback, "fallback");
    if (s.target.empty())
      return;
    if (s.kind == ast::step_kind::tool && !find_tool(s.target)) {
      diags_.add(diag_code::E023, s.ranges.at("use"), "unknown tool '" + s.target + "'",
                 did_you_mean(s.target, tool_names()));
    } else if (s.kind == ast::step_kind::call && !g.find_workflow(s.target)) {
      std::vector<std::string> names;
      for (const auto& w : g.workflows) names.push_back(w.name);
      diags_.add(diag_code::E024, s.ranges.at("use"),
                 "unknown workflow '" + s.target + "'", did_you_mean(s.target, names));
    }
  }

  diagnostics& diags_;
};

void name_resolver::resolve_workflow(const ir::graph& g, ir::workflow& w) {
  for (auto& in : w.inputs)
    if (in.default_value)
      require_constant(*in.default_value, "the default of input '" + in.name + "'");
  for (auto& s : w.steps) {
    std::set<std::string> deps, inputs;
    scope plain{&w, &s, false, false, &deps, &inputs};
    scope inner{&w, &s, s.each.has_value(), false, &deps, &inputs};
    scope verify{&w, &s, s.each.has_value(), true, &deps, &inputs};
    if (s.each) {
      resolve(w, plain, s.each->list);
      if (w.find_input(s.each->var) || w.find_step(s.each->var))
        diags_.add(diag_code::E021, s.each->var_range,
                   "loop variable '" + s.each->var
                     + "' hides an input or step of the same name");
    }
    resolve(w, inner, s.prompt);
    resolve(w, inner, s.system);
    resolve(w, inner, s.when);
    for (auto& a : s.args)
      resolve(w, inner, a.value);
    for (auto& a : s.verify.asserts)
      resolve(w, verify, a);
    for (const auto& [name, at] : s.after) {
      if (w.find_step(name)) {
        deps.insert(name);
      } else {
        std::vector<std::string> names;
        for (const auto& x : w.steps) names.push_back(x.name);
        diags_.add(diag_code::E044, at, "'after' names '" + name + "', which is not a step",
                   w.find_input(name) ? "'" + name + "' is an input: inputs are ready "
                                        "before any step runs"
                                      : did_you_mean(name, names));
      }
    }
    s.deps.assign(deps.begin(), deps.end());
    s.inputs_used.assign(inputs.begin(), inputs.end());
    resolve_targets(g, s);
  }
  for (auto& o : w.outputs) {
    std::set<std::string> deps, inputs;
    resolve(w, {&w, nullptr, false, false, &deps, &inputs}, o.value);
    o.deps.assign(deps.begin(), deps.end());
    o.inputs_used.assign(inputs.begin(), inputs.end());
  }
}

} // namespace

void resolve_names(const ir::graph& g, ir::workflow& w, diagnostics& diags) {
  name_resolver(diags).resolve_workflow(g, w);
}

} // namespace troupe::dsl
