#include "runtime/workflow_run.hpp"

#include "dsl/diagnostics.hpp"

#include <deque>
#include <optional>

namespace troupe::runtime {

namespace ir = dsl::ir;

namespace {

bool has_type(const value& v, const dsl::type& t) {
  switch (t.kind()) {
    case dsl::type_kind::text: return v.is_string();
    case dsl::type_kind::number:
    case dsl::type_kind::duration: return v.is_number();
    case dsl::type_kind::boolean: return v.is_boolean();
    case dsl::type_kind::null: return v.is_null();
    case dsl::type_kind::list:
      if (!v.is_array())
        return false;
      for (const auto& e : v)
        if (!has_type(e, t.element()))
          return false;
      return true;
    case dsl::type_kind::record: return v.is_object();
    case dsl::type_kind::json:
    case dsl::type_kind::error: return true;
  }
  return true;
}

const char* json_kind(const value& v) {
  switch (v.type()) {
    case value::value_t::string: return "text";
    case value::value_t::boolean: return "a bool";
    case value::value_t::number_integer:
    case value::value_t::number_unsigned:
    case value::value_t::number_float: return "a number";
    case value::value_t::array: return "a list";
    case value::value_t::object: return "an object";
    default: return "null";
  }
}

// A `when` condition: true, false, or "when: ..." saying why it is neither.
result<bool, std::string> evaluate_when(const dsl::ast::expr& when, const eval_scope& scope) {
  auto w = evaluate(when, scope);
  if (!w)
    return "when: " + w.error().message;
  if (!w.value().is_boolean())
    return std::string("when: expected a bool, found ") + json_kind(w.value());
  return w.value().get<bool>();
}

std::string element_key(const std::string& base, int64_t index) {
  return index < 0 ? base : base + "[" + std::to_string(index) + "]";
}

} // namespace

result<value, std::vector<std::string>> bind_inputs(const ir::workflow& wf,
                                                    const value& given) {
  std::vector<std::string> problems;
  value bound = value::object();
  if (!given.is_object())
    return std::vector<std::string>{"inputs must be a JSON object of name: value"};
  for (const auto& [name, v] : given.items())
    if (!wf.find_input(name)) {
      std::vector<std::string> names;
      for (const auto& in : wf.inputs) names.push_back(in.name);
      std::string hint = dsl::did_you_mean(name, names);
      problems.push_back("workflow '" + wf.name + "' has no input '" + name + "'"
                         + (hint.empty() ? "" : " (" + hint + ")"));
    }
  for (const auto& in : wf.inputs) {
    auto it = given.find(in.name);
    if (it != given.end()) {
      if (!has_type(*it, in.type_))
        problems.push_back("input '" + in.name + "' must be " + in.type_.to_string()
                           + ", found " + json_kind(*it));
      bound[in.name] = *it;
      continue;
    }
    if (!in.default_value) {
      problems.push_back("input '" + in.name + "' (" + in.type_.to_string()
                         + ") is required: give it with --input " + in.name + "=VALUE");
      continue;
    }
    eval_scope none{&wf, &bound, nullptr, nullptr, nullptr};
    auto v = evaluate(*in.default_value, none);
    if (!v)
      problems.push_back("default of input '" + in.name + "': " + v.error().message);
    else
      bound[in.name] = v.value();
  }
  if (!problems.empty())
    return problems;
  return bound;
}

struct step_state {
  enum status_t { waiting, preparing, running, done, skipped, failed } status = waiting;
  size_t deps_left = 0;
  std::vector<size_t> dependents;
  int64_t elements_left = 0;
  std::vector<std::optional<value>> elements; ///< nullopt: filtered out by `when`.
};

struct workflow_run::frame {
  const ir::workflow* wf = nullptr;
  value inputs;
  std::string prefix; ///< "" for the main workflow, "cats/" under call step cats.
  frame* parent = nullptr;
  size_t parent_step = 0;
  int64_t parent_index = -1;
  std::map<std::string, value> results; ///< Finished steps; skipped ones absent.
  std::vector<step_state> states;
  std::map<std::string, size_t> index; ///< Step name -> position in wf->steps.
  size_t unfinished = 0;
  bool failed = false;
};

workflow_run::workflow_run(const dsl::checked_graph& graph,
                           std::map<std::string, value> restored)
  : graph_(graph), restored_(std::move(restored)) {}

workflow_run::~workflow_run() = default;

result<std::unique_ptr<workflow_run>, run_error>
workflow_run::start(const dsl::checked_graph& graph, const std::string& workflow,
                    value inputs, std::map<std::string, value> restored) {
  const auto* wf = graph.graph().find_workflow(workflow);
  if (!wf)
    return run_error{"no workflow '" + workflow + "' in the file"};
  std::unique_ptr<workflow_run> run(new workflow_run(graph, std::move(restored)));
  auto& f = run->open_frame(*wf, std::move(inputs), "", nullptr, 0);
  run->settle(f);
  return run;
}

workflow_run::frame& workflow_run::open_frame(const ir::workflow& wf, value inputs,
                                              std::string prefix, frame* parent,
                                              size_t parent_step) {
  auto f = std::make_unique<frame>();
  f->wf = &wf;
  f->inputs = std::move(inputs);
  f->prefix = std::move(prefix);
  f->parent = parent;
  f->parent_step = parent_step;
  f->states.resize(wf.steps.size());
  f->unfinished = wf.steps.size();
  for (size_t i = 0; i < wf.steps.size(); ++i)
    f->index[wf.steps[i].name] = i;
  for (size_t i = 0; i < wf.steps.size(); ++i)
    for (const auto& d : wf.steps[i].deps) {
      f->states[i].deps_left++;
      f->states[f->index.at(d)].dependents.push_back(i);
    }
  frames_.push_back(std::move(f));
  return *frames_.back();
}

// Queues the frame's initially ready steps in run order, then drains.
void workflow_run::settle(frame& f) {
  if (f.wf->steps.empty()) {
    frame_done(f);
  } else {
    for (const auto& name : graph_.run_order(f.wf->name)) {
      size_t i = f.index.at(name);
      if (f.states[i].deps_left == 0)
        queue_.emplace_back(&f, i);
    }
  }
  drain();
}

// Prepares queued steps breadth first, so a long chain of restored steps
// does not recurse.
void workflow_run::drain() {
  while (!queue_.empty()) {
    auto [f, i] = queue_.front();
    queue_.pop_front();
    if (f->states[i].status == step_state::waiting)
      prepare(*f, i);
  }
}

eval_scope workflow_run::scope_of(const frame& f, const value* loop_value) const {
  return eval_scope{f.wf, &f.inputs, &f.results, loop_value, nullptr};
}

void workflow_run::prepare(frame& f, size_t i) {
  const auto& s = f.wf->steps[i];
  auto& st = f.states[i];
  st.status = step_state::preparing;
  const std::string key = f.prefix + s.name;
  auto scope = scope_of(f, nullptr);
  // Under `for`, `when` may read the loop variable, so it filters elements
  // (in emit); otherwise it decides for the whole step here.
  if (s.when && !s.each) {
    auto w = evaluate_when(*s.when, scope);
    if (!w)
      return fail_step(f, i, key, w.error());
    if (!w.value()) {
      notes_.push_back({ev_step_note::skipped, key, key});
      return finish_step(f, i, nullptr, true);
    }
  }
  if (!s.each)
    return emit(f, i, -1, nullptr);
  auto list = evaluate(*s.each->list, scope);
  if (!list)
    return fail_step(f, i, key, "for: " + list.error().message);
  if (!list.value().is_array())
    return fail_step(f, i, key, std::string("for: expected a list, found ") + json_kind(list.value()));
  const auto& items = list.value();
  if (items.empty()) {
    notes_.push_back({ev_step_note::empty, key, key});
    return finish_step(f, i, value::array(), false);
  }
  st.elements.assign(items.size(), std::nullopt);
  st.elements_left = int64_t(items.size());
  st.status = step_state::running;
  for (size_t k = 0; k < items.size() && f.states[i].status == step_state::running; ++k)
    emit(f, i, int64_t(k), items[k]);
}

void workflow_run::emit(frame& f, size_t i, int64_t index, const value& element) {
  const auto& s = f.wf->steps[i];
  f.states[i].status = step_state::running;
  const std::string key = element_key(f.prefix + s.name, index);
  const value* loop = s.each ? &element : nullptr;
  auto scope = scope_of(f, loop);
  if (s.when && s.each) {
    auto w = evaluate_when(*s.when, scope);
    if (!w)
      return fail_step(f, i, key, w.error());
    if (!w.value()) {
      notes_.push_back({ev_step_note::skipped, key, key});
      return finish_element(f, i, index, std::nullopt);
    }
  }
  if (auto r = restored_.find(key); r != restored_.end()) {
    notes_.push_back({ev_step_note::reused, key, key});
    completed_[key] = r->second;
    return finish_element(f, i, index, r->second);
  }
  task t;
  t.key = key;
  t.wf = f.wf;
  t.step = &s;
  t.index = index;
  if (loop)
    t.loop_value = element;
  auto text = [&](const dsl::ast::expr_ptr& e, std::string& out, const char* what) {
    if (!e)
      return true;
    auto v = evaluate(*e, scope);
    if (!v) {
      fail_step(f, i, key, std::string(what) + ": " + v.error().message);
      return false;
    }
    out = value_to_text(v.value());
    return true;
  };
  if (!text(s.prompt, t.prompt, s.kind == dsl::ast::step_kind::plan ? "goal" : "prompt")
      || !text(s.system, t.system, "system"))
    return;
  for (const auto& a : s.args) {
    auto v = evaluate(*a.value, scope);
    if (!v)
      return fail_step(f, i, key, "argument '" + a.name + "': " + v.error().message);
    t.args[a.name] = v.value();
  }
  if (s.kind == dsl::ast::step_kind::call) {
    const auto* callee = graph_.graph().find_workflow(s.target);
    auto bound = bind_inputs(*callee, t.args);
    if (!bound) {
      std::string why;
      for (const auto& p : bound.error()) why += (why.empty() ? "" : "; ") + p;
      return fail_step(f, i, key, why);
    }
    auto& child = open_frame(*callee, bound.value(), key + "/", &f, i);
    child.parent_index = index;
    return settle(child);
  }
  in_flight_[key] = slot{&f, i, index};
  ready_.push_back(std::move(t));
}

void workflow_run::finish_element(frame& f, size_t i, int64_t index,
                                  std::optional<value> result) {
  auto& st = f.states[i];
  if (st.status != step_state::running)
    return; // The step already failed; late elements change nothing.
  if (index < 0)
    return finish_step(f, i, result ? std::move(*result) : value(), !result);
  st.elements[size_t(index)] = std::move(result);
  if (--st.elements_left > 0)
    return;
  value list = value::array();
  for (auto& e : st.elements)
    if (e)
      list.push_back(std::move(*e));
  st.elements.clear();
  bool all_filtered = list.empty();
  finish_step(f, i, std::move(list), all_filtered);
}

void workflow_run::finish_step(frame& f, size_t i, value result, bool skipped) {
  auto& st = f.states[i];
  st.status = skipped ? step_state::skipped : step_state::done;
  if (!skipped)
    f.results[f.wf->steps[i].name] = std::move(result);
  for (size_t d : st.dependents)
    if (--f.states[d].deps_left == 0)
      queue_.emplace_back(&f, d);
  if (--f.unfinished == 0 && !f.failed)
    frame_done(f);
}

void workflow_run::fail_step(frame& f, size_t i, const std::string& key, std::string why) {
  if (f.states[i].status == step_state::failed)
    return;
  f.states[i].status = step_state::failed;
  f.states[i].elements.clear();
  failures_.emplace_back(key, why);
  if (f.failed)
    return;
  f.failed = true;
  if (f.parent) {
    std::string call_key = element_key(f.parent->prefix + f.parent->wf->steps[f.parent_step].name,
                                       f.parent_index);
    fail_step(*f.parent, f.parent_step, call_key, "in called workflow '" + f.wf->name + "'");
  }
}

// A called workflow finished: its outputs become the call step's result.
void workflow_run::frame_done(frame& f) {
  if (!f.parent)
    return;
  value record = value::object();
  auto scope = scope_of(f, nullptr);
  std::string call_key = element_key(f.parent->prefix + f.parent->wf->steps[f.parent_step].name,
                                     f.parent_index);
  for (const auto& o : f.wf->outputs) {
    auto v = evaluate(*o.value, scope);
    if (!v)
      return fail_step(*f.parent, f.parent_step, call_key,
                       "output '" + o.name + "' of '" + f.wf->name + "': " + v.error().message);
    record[o.name] = v.value();
  }
  finish_element(*f.parent, f.parent_step, f.parent_index, std::move(record));
}

std::vector<task> workflow_run::take_ready() {
  std::vector<task> out;
  out.swap(ready_);
  return out;
}

std::vector<ev_step_note> workflow_run::take_notes() {
  std::vector<ev_step_note> out;
  out.swap(notes_);
  return out;
}

void workflow_run::complete(const std::string& key, value result) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end())
    return;
  slot s = it->second;
  in_flight_.erase(it);
  completed_[key] = result;
  finish_element(*s.f, s.step, s.index, std::move(result));
  drain();
}

void workflow_run::fail(const std::string& key, std::string why) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end())
    return;
  slot s = it->second;
  in_flight_.erase(it);
  fail_step(*s.f, s.step, key, std::move(why));
  drain();
}

run_outcome run_outcome_of(const workflow_run* run, std::vector<std::string> failures) {
  run_outcome o;
  if (run) {
    for (const auto& [key, why] : run->failures())
      failures.push_back(key + ": " + why);
    if (failures.empty()) {
      if (auto out = run->outputs()) {
        o.ok = true;
        o.outputs = out.value();
      } else {
        failures.push_back(out.error().message);
      }
    }
  }
  o.failures = std::move(failures);
  return o;
}

ev_run_finished run_finished_event(std::string run_id, const run_outcome& outcome, bool nested) {
  ev_run_finished ev;
  ev.run_id = std::move(run_id);
  ev.status = outcome.ok ? "ok" : "failed";
  ev.nested = nested;
  if (outcome.ok)
    ev.outputs = outcome.outputs;
  else
    ev.failures = outcome.failures;
  return ev;
}

value verify_context_json(const verify_context& c) {
  value steps = value::object();
  for (const auto& [k, v] : c.steps) steps[k] = v;
  return value{{"inputs", c.inputs}, {"steps", std::move(steps)}, {"loop", c.loop_value}};
}

std::optional<verify_context> verify_context_read(const value& json,
                                                  const dsl::ir::workflow* wf) {
  if (!json.is_object())
    return std::nullopt;
  verify_context c;
  c.wf = wf;
  c.inputs = json.value("inputs", value::object());
  if (auto s = json.find("steps"); s != json.end() && s->is_object())
    for (const auto& [k, v] : s->items())
      c.steps[k] = v;
  c.loop_value = json.value("loop", value());
  return c;
}

verify_context workflow_run::context_for(const task& t) const {
  verify_context c;
  c.wf = t.wf;
  c.loop_value = t.loop_value;
  auto it = in_flight_.find(t.key);
  if (it == in_flight_.end())
    return c;
  const frame& f = *it->second.f;
  c.inputs = f.inputs;
  for (const auto& d : t.step->deps)
    if (auto r = f.results.find(d); r != f.results.end())
      c.steps[d] = r->second;
  return c;
}

size_t workflow_run::in_flight() const { return in_flight_.size() - ready_.size(); }

bool workflow_run::finished() const { return in_flight_.empty(); }

const std::vector<std::pair<std::string, std::string>>& workflow_run::failures() const {
  return failures_;
}

const std::map<std::string, value>& workflow_run::completed() const { return completed_; }

result<value, run_error> workflow_run::outputs() const {
  if (!failures_.empty()) {
    std::string why = "the run failed:";
    for (const auto& [key, reason] : failures_)
      why += "\n  " + key + ": " + reason;
    return run_error{why};
  }
  const frame& main = *frames_.front();
  value out = value::object();
  auto scope = scope_of(main, nullptr);
  for (const auto& o : main.wf->outputs) {
    auto v = evaluate(*o.value, scope);
    if (!v)
      return run_error{"output '" + o.name + "': " + v.error().message};
    out[o.name] = v.value();
  }
  return out;
}

} // namespace troupe::runtime
