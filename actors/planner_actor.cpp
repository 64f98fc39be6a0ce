#include "actors/planner_actor.hpp"

#include "actors/records.hpp"
#include "runtime/journal.hpp"
#include "runtime/plan.hpp"
#include "runtime/router.hpp"
#include "runtime/workflow_run.hpp"

#include "caf/typed_event_based_actor.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>

namespace troupe::actors {

namespace {

using runtime::value;

// Internal: the journal thread reports a durable write (key, error or "").
using planner_impl_type =
  planner_actor::extend<caf::reacts_to<journaled_atom, std::string, std::string>>;

const std::string end_key = "#run_finished";

// One task being worked on: its attempts so far and the current one.
struct attempt_state {
  runtime::task t;
  uint32_t attempts = 0;
  uint32_t max_attempts = 1;
  std::vector<std::string> tried;   ///< Models of earlier attempts.
  value history = value::array();   ///< One entry per failed attempt.
  std::vector<std::string> models;  ///< Models of the current attempt.
  std::vector<step_record_data> records;
  size_t outstanding = 0;
  uint32_t agree_k = 0;             ///< 0: no agreement needed.
  uint32_t candidates = 1;          ///< Plan steps: alternative plans (tree of thought).
  std::string explain;              ///< The router's line for this attempt.
};

// Whether the verifier has anything to check on one answer (`agree` is
// handled across answers, by the planner).
bool has_checks(const dsl::ir::verify_policy& v) {
  return v.json || v.schema || !v.regexes.empty() || !v.asserts.empty() || v.length;
}

std::string step_path(const runtime::task& t) {
  if (t.index < 0)
    return t.key;
  return t.key.substr(0, t.key.size() - std::to_string(t.index).size() - 2);
}

class planner_impl : public planner_impl_type::base {
public:
  planner_impl(caf::actor_config& cfg, planner_options opts)
    : planner_impl_type::base(cfg), opts_(std::move(opts)), load_(opts_.executors.size(), 0),
      alive_(opts_.executors.size(), true) {
    set_down_handler([this](const caf::down_msg& d) { executor_down(d.source); });
    for (const auto& e : opts_.executors)
      monitor(e.actor);
  }

  behavior_type make_behavior() override {
    return {
      [this](run_atom) {
        auto promise = make_response_promise<run_summary>();
        waiters_.push_back(promise);
        if (!started_)
          start();
        else if (summary_)
          deliver_all();
        return promise;
      },
      [this](journaled_atom, const std::string& key, const std::string& error) {
        on_journaled(key, error);
      },
    };
  }

private:
  // -- journal --------------------------------------------------------------

  void record(value event, bool durable = false, const std::string& ack_key = {}) {
    event["ts"] = runtime::journal_now_us();
    if (!opts_.key_prefix.empty()) {
      // A plan's own run: its keys live under the plan step's, and its start
      // and end are not the run's.
      for (const char* field : {"key", "step"})
        if (auto f = event.find(field); f != event.end() && f->is_string())
          *f = opts_.key_prefix + f->get<std::string>();
      auto& name = event["event"];
      if (name == "run_started" || name == "run_finished")
        name = "plan_" + name.get<std::string>();
    }
    for (const auto& l : opts_.listeners)
      caf::anon_send(l, run_event{event.dump()});
    runtime::journal_callback cb;
    if (!ack_key.empty()) {
      auto self = caf::actor_cast<planner_impl_type>(this);
      cb = [self, ack_key](const std::optional<runtime::journal_error>& e) {
        caf::anon_send(self, journaled_atom_v, ack_key, e ? e->message : std::string());
      };
    }
    opts_.journal->post(std::move(event), durable, std::move(cb));
  }

  // -- the run --------------------------------------------------------------

  void start() {
    started_ = true;
    std::vector<std::string> reused;
    for (const auto& [k, v] : opts_.restored) reused.push_back(k);
    record({{"event", "run_started"}, {"run_id", opts_.run_id}, {"workflow", opts_.workflow},
            {"file", opts_.workflow_file}, {"inputs", opts_.inputs}, {"reused", reused}},
           true);
    auto run = runtime::workflow_run::start(*opts_.program->checked, opts_.workflow,
                                            opts_.inputs, opts_.restored);
    if (!run) {
      failures_.push_back(run.error().message);
      return end_run();
    }
    run_ = std::move(run).value();
    pump();
  }

  void pump() {
    for (const auto& n : run_->take_notes()) {
      const char* what = n.kind == runtime::run_note::skipped    ? "step_skipped"
                         : n.kind == runtime::run_note::restored ? "step_reused"
                                                                 : "step_empty";
      // "step" is the key itself and "index" -1, so task_key() gives it back.
      record({{"event", what}, {"key", n.key}, {"step", n.key}, {"index", -1}});
    }
    for (auto& t : run_->take_ready())
      backlog_.push_back(std::move(t));
    while (!backlog_.empty() && active_.size() < opts_.max_concurrent_steps) {
      auto t = std::move(backlog_.front());
      backlog_.pop_front();
      dispatch(std::move(t));
    }
    if (run_->finished() && active_.empty() && backlog_.empty() && !ending_)
      end_run();
  }

  void dispatch(runtime::task t) {
    auto key = t.key;
    auto& a = active_[key];
    a.t = std::move(t);
    a.max_attempts = uint32_t(a.t.step->retries) + 1;
    next_attempt(a);
  }

  void next_attempt(attempt_state& a) {
    a.attempts++;
    a.models.clear();
    a.records.clear();
    a.explain.clear();
    if (a.t.step->kind == dsl::ast::step_kind::tool)
      return send_jobs(a, {""});
    route(a);
  }

  void route(attempt_state& a) {
    const auto req = runtime::route_request_for(*a.t.wf, *a.t.step);
    route_query q;
    q.step = a.t.key;
    q.domain = req.domain;
    q.pinned = req.pinned.value_or("");
    q.fallbacks = req.fallback;
    q.exclude = a.tried;
    q.n = uint32_t(req.n);
    q.max_tokens = int32_t(req.max_tokens);
    if (req.policy) {
      q.has_policy = true;
      q.w_accuracy = req.policy->accuracy;
      q.w_cost = req.policy->cost;
      q.w_latency = req.policy->latency;
      q.load_aware = req.policy->load_aware;
    }
    const auto& agree = a.t.step->verify.agree;
    a.agree_k = agree ? uint32_t(agree->first) : 0;
    uint32_t copies = agree && req.pinned ? uint32_t(agree->second) : 1;
    a.candidates = 1;
    if (a.t.step->kind == dsl::ast::step_kind::plan && !agree && a.t.step->candidates > 1)
      copies = a.candidates = uint32_t(a.t.step->candidates);
    auto key = a.t.key;
    request(opts_.router, caf::infinite, route_atom_v, q)
      .then([this, key, copies](const route_reply& r) {
        auto it = active_.find(key);
        if (it == active_.end())
          return;
        auto& a = it->second;
        if (!r.ok)
          return no_model_left(a, r.error);
        a.explain = r.explain;
        auto decision = value::parse(r.decision_json, nullptr, false);
        record({{"event", "route"}, {"key", key}, {"attempt", a.attempts}, {"chosen", r.chosen},
                {"explain", r.explain}, {"decision", decision}});
        std::vector<std::string> models = r.chosen;
        if (copies > 1)
          models.assign(copies, r.chosen.front());
        if (a.agree_k == 0 && reuse_cached(a, models.front()))
          return;
        send_jobs(a, models);
      });
  }

  // -- plans ------------------------------------------------------------------

  runtime::plan_limits plan_limits_for(const dsl::ir::step& s) const {
    runtime::plan_limits limits;
    limits.max_steps = std::min<size_t>(size_t(s.max_steps), opts_.plan_max_steps);
    limits.depth_left = int(s.max_depth) - 1 - opts_.plan_depth;
    return limits;
  }

  // What a verify job carries besides the answer: the inputs, the results
  // of the steps `t` depends on, and its loop value.
  std::string verify_context_json(const runtime::task& t) const {
    auto ctx = run_->context_for(t);
    value steps = value::object();
    for (const auto& [k, val] : ctx.steps) steps[k] = val;
    return value{{"inputs", ctx.inputs}, {"steps", steps}, {"loop", ctx.loop_value}}.dump();
  }

  // Checks the plan as a .wf workflow and runs it with a child planner; the
  // step's result is {"plan": the plan, "result": its output step's value}.
  void expand_plan(attempt_state& a, const step_record_data& rec, value plan) {
    const auto& s = *a.t.step;
    auto limits = plan_limits_for(s);
    const auto& main = opts_.program->sources.file(opts_.program->checked->graph().main_file);
    std::string digest = std::to_string(std::hash<std::string>{}(plan.dump()) % 0xFFFFFF);
    std::string wf_name = "plan_" + std::to_string(next_plan_++);
    auto text = runtime::plan_to_wf(plan, wf_name, main.path, limits);
    if (!text)
      return attempt_failed(a, "plan", "the plan is not usable: " + text.error().message,
                            {{"plan", plan}});
    auto dir = std::filesystem::path(main.path).parent_path();
    std::shared_ptr<const dsl::compilation> program =
      dsl::compile_source((dir / (a.t.key + ".plan.wf")).string(), text.value());
    if (!program->ok()) {
      std::string report = program->report();
      if (report.size() > 2000)
        report = report.substr(0, 2000) + "...";
      return attempt_failed(a, "plan", "the plan does not check:\n" + report, {{"plan", plan}});
    }
    const std::string prefix = opts_.key_prefix + a.t.key + "@" + digest + "/";
    record({{"event", "plan_accepted"}, {"key", a.t.key}, {"attempt", a.attempts},
            {"plan", plan}, {"workflow", text.value()}});
    planner_options child;
    child.program = program;
    child.workflow = wf_name;
    child.inputs = value::object();
    child.run_id = opts_.run_id;
    child.workflow_file = main.path;
    const std::string own = prefix.substr(opts_.key_prefix.size());
    for (const auto& [k, v] : opts_.restored)
      if (k.rfind(own, 0) == 0)
        child.restored[k.substr(own.size())] = v;
    child.journal = opts_.journal;
    child.router = opts_.router;
    child.verifier = verifier_actor_spawn(system(), program);
    child.executors = opts_.executors;
    child.listeners = opts_.listeners;
    child.max_concurrent_steps = opts_.max_concurrent_steps;
    child.key_prefix = prefix;
    child.plan_depth = opts_.plan_depth + 1;
    child.plan_max_steps = opts_.plan_max_steps;
    auto verifier = child.verifier;
    auto planner = planner_actor_spawn(system(), std::move(child));
    auto key = a.t.key;
    auto attempt = a.attempts;
    request(planner, caf::infinite, run_atom_v)
      .then(
        [this, key, attempt, rec, plan, planner, verifier](const run_summary& sum) {
          caf::anon_send_exit(planner, caf::exit_reason::user_shutdown);
          caf::anon_send_exit(verifier, caf::exit_reason::user_shutdown);
          auto it = active_.find(key);
          if (it == active_.end() || it->second.attempts != attempt)
            return;
          if (!sum.ok) {
            std::string why;
            for (const auto& f : sum.failures) why += (why.empty() ? "" : "; ") + f;
            return attempt_failed(it->second, "plan_run", "the plan's steps failed: " + why);
          }
          auto outputs = value::parse(sum.outputs_json, nullptr, false);
          value result = outputs.is_object() ? outputs.value("result", value()) : value();
          succeed(it->second, rec, value{{"plan", plan}, {"result", result}}, true);
        },
        [this, key, attempt](const caf::error& e) {
          auto it = active_.find(key);
          if (it != active_.end() && it->second.attempts == attempt)
            attempt_failed(it->second, "plan_run", "the plan's planner failed: " + caf::to_string(e));
        });
  }

  // Tree of thought: of the candidate plans, those that check are scored by
  // the verifier (1 for checking, +1 for passing the step's verify clauses)
  // and the best (the first among equals) is run.
  void choose_plan(attempt_state& a, const std::vector<const step_record_data*>& ok) {
    struct scoring {
      std::vector<step_record_data> recs;
      std::vector<value> plans;
      std::vector<int> scores;
      std::vector<std::string> notes;
      size_t pending = 0;
    };
    auto sc = std::make_shared<scoring>();
    const auto& main = opts_.program->sources.file(opts_.program->checked->graph().main_file);
    auto limits = plan_limits_for(*a.t.step);
    for (const auto* r : ok) {
      sc->recs.push_back(*r);
      sc->plans.push_back(value::parse(r->output_json, nullptr, false));
      auto text = runtime::plan_to_wf(sc->plans.back(), "candidate", main.path, limits);
      int score = 0;
      std::string note;
      if (!text) {
        note = text.error().message;
      } else {
        auto dir = std::filesystem::path(main.path).parent_path();
        auto c = dsl::compile_source((dir / "candidate.plan.wf").string(), text.value());
        score = c->ok() ? 1 : 0;
        note = c->ok() ? "checks" : "does not check";
      }
      sc->scores.push_back(score);
      sc->notes.push_back(note);
    }
    auto key = a.t.key;
    auto attempt = a.attempts;
    auto decide = [this, key, attempt, sc] {
      auto it = active_.find(key);
      if (it == active_.end() || it->second.attempts != attempt)
        return;
      size_t best = 0;
      value table = value::array();
      for (size_t i = 0; i < sc->scores.size(); ++i) {
        if (sc->scores[i] > sc->scores[best])
          best = i;
        table.push_back({{"candidate", i}, {"score", sc->scores[i]}, {"note", sc->notes[i]}});
      }
      record({{"event", "plan_candidates"}, {"key", key}, {"attempt", attempt},
              {"scores", table}, {"chosen", best}});
      if (sc->scores[best] == 0)
        return attempt_failed(it->second, "plan", "none of the " + std::to_string(sc->scores.size())
                                                    + " candidate plans checks: " + sc->notes[best]);
      expand_plan(it->second, sc->recs[best], sc->plans[best]);
    };
    if (!has_checks(a.t.step->verify))
      return decide();
    std::string context = verify_context_json(a.t);
    for (size_t i = 0; i < sc->scores.size(); ++i) {
      if (sc->scores[i] == 0)
        continue;
      sc->pending++;
      verify_job job{a.t.wf->name, a.t.step->name, sc->recs[i].output_json, context};
      request(opts_.verifier, caf::infinite, verify_atom_v, job)
        .then([sc, i, decide](const verify_reply& r) {
          if (r.passed)
            sc->scores[i] += 1;
          else
            sc->notes[i] += "; fails verify: " + (r.failures.empty() ? "" : r.failures.front());
          if (--sc->pending == 0)
            decide();
        },
        [sc, i, decide](const caf::error& e) {
          sc->notes[i] += "; the verifier failed: " + caf::to_string(e);
          if (--sc->pending == 0)
            decide();
        });
    }
    if (sc->pending == 0)
      decide();
  }

  // -- result cache -----------------------------------------------------------

  std::optional<runtime::cache_key> cache_key_for(const attempt_state& a,
                                                  const std::string& model) const {
    const auto& s = *a.t.step;
    if (!opts_.cache || !s.cache_ttl_ms || *s.cache_ttl_ms <= 0)
      return std::nullopt;
    std::string kind = s.kind == dsl::ast::step_kind::plan ? "plan"
                       : s.format == dsl::ir::output_format::json ? "llm:json" : "llm";
    return runtime::cache_key{kind, model, a.t.system + "\n\n" + a.t.prompt};
  }

  bool reuse_cached(attempt_state& a, const std::string& model) {
    auto key = cache_key_for(a, model);
    if (!key)
      return false;
    auto hit = opts_.cache->lookup(*key, runtime::result_cache::clock::now());
    if (!hit)
      return false;
    record({{"event", "cache_hit"}, {"key", a.t.key}, {"model", model}, {"exact", hit->exact},
            {"distance", hit->distance}});
    a.models = {model};
    step_record_data rec;
    rec.key = a.t.key;
    rec.ok = true;
    rec.model = model;
    rec.node = "cache";
    rec.started_us = rec.finished_us = runtime::journal_now_us();
    succeed(a, rec, hit->result, true);
    return true;
  }

  void admit_to_cache(const attempt_state& a, const value& output) {
    if (a.models.empty() || a.agree_k > 0)
      return;
    auto key = cache_key_for(a, a.models.front());
    if (key)
      opts_.cache->admit(*key, output, true, std::chrono::milliseconds(*a.t.step->cache_ttl_ms),
                         runtime::result_cache::clock::now());
  }

  step_job job_for(const attempt_state& a, const std::string& model, uint64_t seed) {
    const auto& s = *a.t.step;
    step_job j;
    j.run_id = opts_.run_id;
    j.key = a.t.key;
    j.attempt = a.attempts;
    j.timeout_ms = s.timeout_ms.value_or(0);
    j.priority = s.prio == dsl::ir::priority::batch ? 1 : 0;
    if (s.kind == dsl::ast::step_kind::tool) {
      j.kind = "tool";
      j.tool = s.target;
      j.args_json = a.t.args.dump();
      return j;
    }
    const auto* m = opts_.program->checked->graph().find_model(model);
    j.kind = s.kind == dsl::ast::step_kind::plan ? "plan" : "llm";
    j.model = model;
    j.backend = m->backend.kind == dsl::ir::backend::openai ? "openai" : "gguf";
    j.location = m->backend.kind == dsl::ir::backend::openai ? m->backend.url : m->backend.path;
    j.api_model = m->backend.api_model;
    j.key_env = m->backend.key_env;
    j.prompt = a.t.prompt;
    j.system = a.t.system;
    if (s.kind == dsl::ast::step_kind::plan) {
      j.prompt = runtime::plan_prompt(a.t.prompt, plan_limits_for(s));
    }
    j.json_output = s.format == dsl::ir::output_format::json || s.kind == dsl::ast::step_kind::plan;
    j.max_tokens = int32_t(s.max_tokens);
    // Alternative plans must differ: sample them.
    j.temperature = a.candidates > 1 ? std::max(s.temperature, 0.7) : s.temperature;
    j.seed = seed;
    j.stop = s.stop;
    return j;
  }

  // The live executor with the fewest jobs in flight; ties rotate, so equal
  // nodes share the work.
  std::optional<size_t> pick_executor() {
    std::optional<size_t> best;
    const size_t n = load_.size();
    for (size_t k = 0; k < n; ++k) {
      size_t i = (rr_ + k) % n;
      if (alive_[i] && (!best || load_[i] < load_[*best]))
        best = i;
    }
    if (best)
      rr_ = (*best + 1) % n;
    return best;
  }

  void send_jobs(attempt_state& a, const std::vector<std::string>& models) {
    a.models = models;
    a.outstanding = models.size();
    for (size_t i = 0; i < models.size(); ++i)
      dispatch_job(a.t.key, a.attempts, job_for(a, models[i], i), models[i]);
  }

  // Sends one job to an executor and tracks it until its outcome arrives or
  // its node is lost (then it is sent elsewhere).
  void dispatch_job(const std::string& key, uint32_t attempt, step_job job, const std::string& model) {
    auto e = pick_executor();
    if (!e) {
      step_record_data bad;
      bad.key = key;
      bad.model = model;
      bad.error = "no live executor is left to run it";
      return on_record(key, attempt, std::move(bad));
    }
    load_[*e]++;
    const auto& node = opts_.executors[*e].node;
    record({{"event", "step_started"}, {"key", key},
            {"attempt", attempt}, {"model", model}, {"node", node}});
    uint64_t id = next_job_++;
    jobs_[id] = job_entry{key, attempt, job, *e, model};
    request(opts_.executors[*e].actor, caf::infinite, execute_atom_v, job)
      .then(
        [this, id, e = *e](const step_outcome& o) {
          auto entry = take_job(id, e);
          if (!entry)
            return;
          auto rec = step_record_read(o.record);
          if (!rec) {
            step_record_data bad;
            bad.key = entry->key;
            bad.model = entry->model;
            bad.node = opts_.executors[e].node;
            bad.error = "bad step record from node '" + bad.node + "': " + rec.error();
            bad.retryable = true;
            return on_record(entry->key, entry->attempt, std::move(bad));
          }
          on_record(entry->key, entry->attempt, std::move(rec).value());
        },
        [this, id, e = *e](const caf::error& err) {
          auto entry = take_job(id, e);
          if (!entry)
            return;
          step_record_data bad;
          bad.key = entry->key;
          bad.model = entry->model;
          bad.node = opts_.executors[e].node;
          bad.error = "executor on node '" + bad.node + "' failed: " + caf::to_string(err);
          bad.retryable = true;
          on_record(entry->key, entry->attempt, std::move(bad));
        });
  }

  struct job_entry {
    std::string key;
    uint32_t attempt;
    step_job job;
    size_t executor;
    std::string model;
  };

  // The job, if it is still in flight on executor `e`.
  std::optional<job_entry> take_job(uint64_t id, size_t e) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.executor != e)
      return std::nullopt; // Re-sent elsewhere after its node was lost.
    auto entry = std::move(it->second);
    jobs_.erase(it);
    load_[e]--;
    return entry;
  }

  // An executor went down (its node died or disconnected): nothing more is
  // sent there, and its jobs in flight go to the remaining executors
  // without counting as failed attempts.
  void executor_down(const caf::actor_addr& source) {
    for (size_t e = 0; e < opts_.executors.size(); ++e) {
      if (!alive_[e] || opts_.executors[e].actor.address() != source)
        continue;
      alive_[e] = false;
      const auto& node = opts_.executors[e].node;
      std::vector<job_entry> orphans;
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->second.executor == e) {
          orphans.push_back(std::move(it->second));
          it = jobs_.erase(it);
        } else {
          ++it;
        }
      }
      load_[e] = 0;
      record({{"event", "executor_lost"}, {"node", node}, {"in_flight", orphans.size()}});
      for (auto& j : orphans) {
        record({{"event", "step_redispatched"}, {"key", j.key}, {"attempt", j.attempt},
                {"from_node", node}});
        dispatch_job(j.key, j.attempt, std::move(j.job), j.model);
      }
    }
  }

  void on_record(const std::string& key, uint32_t attempt, step_record_data rec) {
    auto it = active_.find(key);
    if (it == active_.end() || it->second.attempts != attempt)
      return; // A late answer to an attempt already settled.
    auto& a = it->second;
    a.records.push_back(std::move(rec));
    if (--a.outstanding > 0)
      return;
    // Answers in the router's order (best model first), not arrival order,
    // so agreement and candidates pick the same answer every time.
    auto rank = [&](const step_record_data& r) {
      auto it = std::find(a.models.begin(), a.models.end(), r.model);
      return it - a.models.begin();
    };
    std::stable_sort(a.records.begin(), a.records.end(),
                     [&](const auto& x, const auto& y) { return rank(x) < rank(y); });
    std::vector<const step_record_data*> ok;
    std::string errors;
    retryable_ = false;
    for (const auto& r : a.records)
      retryable_ = retryable_ || (!r.ok && r.retryable);
    for (const auto& r : a.records) {
      if (!r.model.empty() && !r.ok)
        send(opts_.router, model_outcome{r.model, a.t.step->domain, false,
                                         r.error.find("timed out") != std::string::npos, false,
                                         double(r.finished_us - r.started_us) / 1000});
      if (r.ok)
        ok.push_back(&r);
      else
        errors += (errors.empty() ? "" : "; ") + r.error;
    }
    if (a.candidates > 1 && !ok.empty())
      return choose_plan(a, ok);
    if (a.agree_k == 0) {
      if (ok.empty() && errors.rfind("overloaded: ", 0) == 0)
        return overloaded(a, errors);
      if (ok.empty())
        return attempt_failed(a, "call", errors);
      return verify(a, *ok.front());
    }
    if (ok.size() < a.agree_k)
      return attempt_failed(a, "agree",
                            std::to_string(ok.size()) + " of " + std::to_string(a.records.size())
                              + " answers arrived, " + std::to_string(a.agree_k)
                              + " must agree: " + errors);
    std::vector<std::string> answers;
    for (const auto* r : ok) answers.push_back(r->output_json);
    request(opts_.verifier, caf::infinite, agree_atom_v, answers, a.agree_k)
      .then([this, key, attempt, ok](const agree_reply& r) {
        auto it = active_.find(key);
        if (it == active_.end() || it->second.attempts != attempt)
          return;
        auto& a = it->second;
        if (!r.reached) {
          value seen = value::array();
          for (const auto* x : ok) seen.push_back({{"model", x->model}, {"output", value::parse(x->output_json)}});
          return attempt_failed(a, "agree", "no " + std::to_string(a.agree_k) + " of "
                                              + std::to_string(ok.size()) + " answers agree",
                                seen);
        }
        verify(a, *ok[r.group.front()]);
      });
  }

  void verify(attempt_state& a, const step_record_data& rec) {
    auto output = value::parse(rec.output_json, nullptr, false);
    auto copy = rec;
    if (!has_checks(a.t.step->verify)) {
      for (const auto& m : a.models)
        if (!m.empty())
          send(opts_.router, model_outcome{m, a.t.step->domain, true, false, true,
                                           double(copy.finished_us - copy.started_us) / 1000});
      if (a.t.step->kind == dsl::ast::step_kind::plan)
        return expand_plan(a, copy, std::move(output));
      admit_to_cache(a, output);
      return succeed(a, copy, std::move(output), false);
    }
    verify_job job{a.t.wf->name, a.t.step->name, rec.output_json, verify_context_json(a.t)};
    auto key = a.t.key;
    auto attempt = a.attempts;
    request(opts_.verifier, caf::infinite, verify_atom_v, job)
      .then([this, key, attempt, copy, output](const verify_reply& r) {
        auto it = active_.find(key);
        if (it == active_.end() || it->second.attempts != attempt)
          return;
        auto& a = it->second;
        for (const auto& m : a.models)
          if (!m.empty())
            send(opts_.router, model_outcome{m, a.t.step->domain, true, false, r.passed,
                                             double(copy.finished_us - copy.started_us) / 1000});
        if (!r.passed) {
          std::string why;
          for (const auto& f : r.failures) why += (why.empty() ? "" : "; ") + f;
          return attempt_failed(a, "verify", why, {{"output", output}, {"model", copy.model}});
        }
        if (a.t.step->kind == dsl::ast::step_kind::plan)
          return expand_plan(a, copy, output);
        admit_to_cache(a, output);
        succeed(a, copy, output, true);
      });
  }

  // Admission control refused the call. Interactive steps degrade: they go
  // to the next model by utility (another, usually cheaper or idler one)
  // without spending a retry; batch steps are shed with the reason, so the
  // run can be resumed when the load is lower.
  void overloaded(attempt_state& a, const std::string& why) {
    if (a.t.step->kind == dsl::ast::step_kind::tool || a.t.step->prio == dsl::ir::priority::batch)
      return fail_task(a, "refused under load (batch steps are shed when a model's queue is "
                          "full): " + why);
    record({{"event", "degraded"}, {"key", a.t.key}, {"from", a.models}, {"error", why}});
    for (const auto& m : a.models)
      a.tried.push_back(m);
    a.attempts--; // Not the step's failure: it does not spend a retry.
    next_attempt(a);
  }

  // The router has no untried model. A model that failed only to answer
  // (a call error) is tried again; otherwise the step fails with every
  // attempt's reason.
  void no_model_left(attempt_state& a, const std::string& router_error) {
    if (a.tried.empty())
      return fail_task(a, router_error);
    const auto& last = a.history.back();
    if (last.value("phase", "") == "call" && a.attempts <= a.max_attempts) {
      record({{"event", "retry_same_models"}, {"key", a.t.key}, {"attempt", a.attempts},
              {"models", a.tried}});
      a.tried.clear();
      a.attempts--; // route() is about to count this attempt again.
      return next_attempt(a);
    }
    fail_task(a, summary_of(a) + "; no other model to escalate to");
  }

  std::string summary_of(const attempt_state& a) const {
    std::string summary = std::to_string(a.history.size()) + " attempt"
                          + (a.history.size() == 1 ? "" : "s") + " failed";
    for (const auto& h : a.history)
      summary += "; #" + std::to_string(h["attempt"].get<int>())
                 + (h.contains("models") ? " (" + h["models"][0].get<std::string>() + ")" : "")
                 + " " + h["phase"].get<std::string>() + ": " + h["error"].get<std::string>();
    return summary;
  }

  void attempt_failed(attempt_state& a, const std::string& phase, const std::string& why,
                      value detail = nullptr) {
    value entry = {{"attempt", a.attempts}, {"phase", phase}, {"error", why}};
    if (!a.models.empty() && !a.models.front().empty())
      entry["models"] = a.models;
    if (!a.records.empty())
      entry["node"] = a.records.front().node;
    if (!detail.is_null())
      entry["detail"] = detail;
    record({{"event", "attempt_failed"}, {"key", a.t.key}, {"attempt", a.attempts},
            {"phase", phase}, {"error", why}, {"models", a.models}, {"explain", a.explain}});
    a.history.push_back(entry);
    for (const auto& m : a.models)
      if (!m.empty())
        a.tried.push_back(m);
    bool final = a.attempts >= a.max_attempts
                 || (phase == "call" && a.t.step->kind == dsl::ast::step_kind::tool
                     && !retryable_);
    if (!final)
      return next_attempt(a);
    fail_task(a, summary_of(a));
  }

  void fail_task(attempt_state& a, const std::string& why) {
    auto key = a.t.key;
    record({{"event", "step_failed"}, {"key", key}, {"step", step_path(a.t)}, {"index", a.t.index},
            {"error", why}, {"attempts", a.history}},
           true);
    active_.erase(key);
    run_->fail(key, why);
    pump();
  }

  void succeed(attempt_state& a, const step_record_data& rec, value output, bool verified) {
    value ev = {{"event", "step_finished"}, {"key", a.t.key}, {"step", step_path(a.t)},
                {"index", a.t.index}, {"attempt", a.attempts}, {"node", rec.node},
                {"output", output}, {"started_us", rec.started_us},
                {"finished_us", rec.finished_us},
                {"elapsed_ms", double(rec.finished_us - rec.started_us) / 1000}};
    if (verified)
      ev["verified"] = true;
    if (!rec.model.empty()) {
      ev["model"] = rec.model;
      ev["prompt"] = a.t.prompt;
      ev["tokens"] = {{"prompt", rec.prompt_tokens}, {"completion", rec.completion_tokens}};
    }
    done_values_[a.t.key] = std::move(output);
    if (recomputable(*a.t.step)) {
      // A pure function of values already journaled: if this line is lost
      // in a crash, resuming recomputes exactly the same result for free,
      // so the step need not wait for the disk.
      record(std::move(ev), false);
      std::string key = a.t.key; // on_journaled() destroys `a`.
      return on_journaled(key, "");
    }
    record(std::move(ev), true, a.t.key);
  }

  /// Tools whose result depends only on their arguments: no clock, network,
  /// file or process.
  static bool recomputable(const dsl::ir::step& s) {
    if (s.kind != dsl::ast::step_kind::tool)
      return false;
    static const std::set<std::string> pure = {"template", "json_get", "json_parse",
                                               "regex_extract", "chunk_text"};
    return pure.count(s.target) > 0;
  }

  void on_journaled(std::string key, const std::string& error) {
    if (key == end_key)
      return deliver_all();
    auto v = done_values_.find(key);
    if (v == done_values_.end())
      return;
    auto value = std::move(v->second);
    done_values_.erase(v);
    active_.erase(key);
    if (!error.empty())
      run_->fail(key, "its result could not be journaled: " + error);
    else
      run_->complete(key, std::move(value));
    pump();
  }

  void end_run() {
    ending_ = true;
    summary_.emplace();
    auto& s = *summary_;
    s.run_id = opts_.run_id;
    s.journal_path = opts_.journal->path().string();
    value ev = {{"event", "run_finished"}, {"run_id", opts_.run_id}};
    if (run_) {
      for (const auto& [key, why] : run_->failures())
        failures_.push_back(key + ": " + why);
      if (failures_.empty()) {
        auto out = run_->outputs();
        if (out) {
          s.ok = true;
          s.outputs_json = out.value().dump();
          ev["outputs"] = out.value();
        } else {
          failures_.push_back(out.error().message);
        }
      }
    }
    s.failures = failures_;
    ev["status"] = s.ok ? "ok" : "failed";
    if (!s.ok)
      ev["failures"] = failures_;
    if (opts_.cache) {
      const auto& c = opts_.cache->counters();
      ev["cache"] = {{"hits", c.hits}, {"near_hits", c.near_hits}, {"misses", c.misses},
                     {"admissions", c.admissions}};
      if (!opts_.cache_file.empty())
        if (auto err = opts_.cache->save(opts_.cache_file, runtime::result_cache::clock::now()))
          ev["cache_error"] = err->message;
    }
    record(std::move(ev), true, end_key);
  }

  void deliver_all() {
    for (auto& w : waiters_)
      w.deliver(*summary_);
    waiters_.clear();
  }

  planner_options opts_;
  std::vector<size_t> load_; ///< Jobs in flight per executor.
  std::vector<bool> alive_;  ///< False once an executor is down.
  size_t rr_ = 0;            ///< Where the next tie-break starts.
  std::map<uint64_t, job_entry> jobs_;
  uint64_t next_job_ = 1;
  uint64_t next_plan_ = 1;
  bool retryable_ = false; ///< Whether the failures being handled may pass on retry.
  std::unique_ptr<runtime::workflow_run> run_;
  std::map<std::string, attempt_state> active_;
  std::deque<runtime::task> backlog_;
  std::map<std::string, value> done_values_; ///< Awaiting their durable write.
  std::vector<std::string> failures_;
  std::vector<caf::typed_response_promise<run_summary>> waiters_;
  std::optional<run_summary> summary_;
  bool started_ = false;
  bool ending_ = false;
};

} // namespace

planner_actor planner_actor_spawn(caf::actor_system& sys, planner_options opts) {
  return caf::actor_cast<planner_actor>(sys.spawn<planner_impl>(std::move(opts)));
}

} // namespace troupe::actors
