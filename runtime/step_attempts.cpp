#include "runtime/step_attempts.hpp"
#include "runtime/tools.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace troupe::runtime {

namespace {

using dsl::ast::step_kind;

// Whether the verifier has anything to check on one answer (`agree` is
// decided across answers, here).
bool has_checks(const dsl::ir::verify_policy& v) {
  return v.json || v.schema || !v.regexes.empty() || !v.asserts.empty() || v.length;
}

// The step path of a task key ("parts" for "parts[2]").
std::string step_path(const task& t) {
  if (t.index < 0)
    return t.key;
  return t.key.substr(0, t.key.size() - std::to_string(t.index).size() - 2);
}

// Tools whose result depends only on their arguments: no clock, network,
// file or process. Resuming recomputes them exactly.
bool recomputable(const dsl::ir::step& s) {
  return s.kind == step_kind::tool && tool_is_pure(s.target);
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

double elapsed_ms(const step_record& r) {
  return double(r.finished_us - r.started_us) / 1000;
}

step_action action(step_action::kind_t k) {
  step_action a;
  a.kind = k;
  return a;
}

} // namespace

step_attempts::step_attempts(task t, step_env& env)
  : t_(std::move(t)), env_(env), max_attempts_(uint32_t(t_.step->retries) + 1) {}

step_action step_attempts::begin() {
  return next_attempt(true);
}

// A new attempt. One that does not spend (a degraded or same-models retry)
// keeps the attempt number of the one it replaces.
step_action step_attempts::next_attempt(bool spends) {
  if (spends)
    attempt_++;
  serial_++;
  models_.clear();
  answers_.clear();
  ok_.clear();
  explain_.clear();
  const auto& s = *t_.step;
  if (s.kind == step_kind::tool)
    return send({""});
  auto req = route_request_for(*t_.wf, s);
  req.step = t_.key;
  req.exclude.insert(tried_.begin(), tried_.end());
  const auto& agree = s.verify.agree;
  agree_k_ = agree ? uint32_t(agree->first) : 0;
  copies_ = agree && req.pinned ? uint32_t(agree->second) : 1;
  candidates_ = 1;
  if (s.kind == step_kind::plan && !agree && s.candidates > 1)
    copies_ = candidates_ = uint32_t(s.candidates);
  auto a = action(step_action::route);
  a.request = std::move(req);
  return a;
}

step_action step_attempts::on_routed(uint64_t serial, const route_reply& reply) {
  if (serial != serial_)
    return action(step_action::wait);
  if (!reply.ok)
    return no_model_left(reply.error);
  explain_ = reply.explain;
  env_.journal(ev_route{t_.key, attempt_, reply.chosen, reply.explain,
                        value::parse(reply.decision_json, nullptr, false)});
  std::vector<std::string> models = reply.chosen;
  if (copies_ > 1)
    models.assign(copies_, models.front());
  if (agree_k_ == 0)
    if (auto key = cache_key_for(models.front()))
      if (auto hit = env_.cache->lookup(*key, result_cache::clock::now())) {
        env_.journal(ev_cache_hit{t_.key, models.front(), hit->exact, hit->distance});
        models_ = {models.front()};
        step_record rec;
        rec.key = t_.key;
        rec.ok = true;
        rec.model = models.front();
        rec.node = "cache";
        rec.started_us = rec.finished_us = env_.now_us();
        return succeed(rec, hit->result, true);
      }
  return send(std::move(models));
}

step_action step_attempts::send(std::vector<std::string> models) {
  const auto& s = *t_.step;
  models_ = std::move(models);
  outstanding_ = models_.size();
  auto a = action(step_action::send_jobs);
  for (size_t i = 0; i < models_.size(); ++i) {
    job_request j;
    j.model = models_[i];
    j.seed = i;
    j.prompt = s.kind == step_kind::plan ? plan_prompt(t_.prompt, limits()) : t_.prompt;
    j.json_output = s.format == dsl::ir::output_format::json || s.kind == step_kind::plan;
    // Alternative plans must differ: sample them.
    j.temperature = candidates_ > 1 ? std::max(s.temperature, 0.7) : s.temperature;
    a.jobs.push_back(std::move(j));
  }
  return a;
}

step_action step_attempts::on_answer(uint64_t serial, step_record answer) {
  if (serial != serial_ || outstanding_ == 0)
    return action(step_action::wait); // A late answer to an attempt already settled.
  answers_.push_back(std::move(answer));
  if (--outstanding_ > 0)
    return action(step_action::wait);
  return answers_complete();
}

step_action step_attempts::answers_complete() {
  // Answers in the router's order (best model first), not arrival order, so
  // agreement and candidates pick the same answer every time.
  auto rank = [&](const step_record& r) {
    return std::find(models_.begin(), models_.end(), r.model) - models_.begin();
  };
  std::stable_sort(answers_.begin(), answers_.end(),
                   [&](const auto& x, const auto& y) { return rank(x) < rank(y); });
  bool retryable = false;
  std::vector<std::string> errors;
  for (size_t i = 0; i < answers_.size(); ++i) {
    const auto& r = answers_[i];
    if (r.ok) {
      ok_.push_back(i);
      continue;
    }
    retryable = retryable || r.retryable;
    errors.push_back(r.error);
    if (!r.model.empty())
      env_.learn({r.model, t_.step->domain,
                  r.error.find("timed out") != std::string::npos ? call_outcome::timeout
                                                                 : call_outcome::error,
                  false, elapsed_ms(r)});
  }
  const std::string error = join(errors);
  if (candidates_ > 1 && !ok_.empty())
    return score_candidates();
  if (agree_k_ == 0) {
    if (ok_.empty() && error.rfind("overloaded: ", 0) == 0)
      return overloaded(error);
    if (ok_.empty())
      return attempt_failed("call", error, nullptr, retryable);
    return verify(ok_.front());
  }
  if (ok_.size() < agree_k_)
    return attempt_failed("agree", std::to_string(ok_.size()) + " of "
                                     + std::to_string(answers_.size()) + " answers arrived, "
                                     + std::to_string(agree_k_) + " must agree: " + error);
  auto a = action(step_action::agree);
  a.agree_k = agree_k_;
  for (size_t i : ok_) a.outputs.push_back(answers_[i].output_json);
  return a;
}

step_action step_attempts::on_agreement(uint64_t serial, bool reached,
                                        const std::vector<uint32_t>& group) {
  if (serial != serial_)
    return action(step_action::wait);
  if (!reached || group.empty() || group.front() >= ok_.size()) {
    value seen = value::array();
    for (size_t i : ok_)
      seen.push_back({{"model", answers_[i].model},
                      {"output", value::parse(answers_[i].output_json, nullptr, false)}});
    return attempt_failed("agree", "no " + std::to_string(agree_k_) + " of "
                                     + std::to_string(ok_.size()) + " answers agree",
                          seen);
  }
  return verify(ok_[group.front()]);
}

step_action step_attempts::verify(size_t answer) {
  if (!has_checks(t_.step->verify))
    return accepted(answer, value::parse(answers_[answer].output_json, nullptr, false), false);
  verifying_ = {answer};
  auto a = action(step_action::verify);
  a.outputs = {answers_[answer].output_json};
  return a;
}

step_action step_attempts::on_verified(uint64_t serial, const std::vector<verdict>& verdicts) {
  if (serial != serial_ || verdicts.size() != verifying_.size())
    return action(step_action::wait);
  if (candidates_ > 1 && !ok_.empty()) {
    for (size_t v = 0; v < verdicts.size(); ++v) {
      size_t c = verifying_[v];
      if (!verdicts[v].error.empty())
        notes_[c] += "; the verifier failed: " + verdicts[v].error;
      else if (verdicts[v].passed)
        scores_[c] += 1;
      else
        notes_[c] += "; fails verify: "
                     + (verdicts[v].failures.empty() ? "" : verdicts[v].failures.front());
    }
    return choose_candidate();
  }
  const size_t answer = verifying_.front();
  const auto& r = verdicts.front();
  if (!r.error.empty())
    return attempt_failed("verify", "the verifier failed: " + r.error);
  for (const auto& m : models_)
    if (!m.empty())
      env_.learn({m, t_.step->domain, call_outcome::ok, r.passed, elapsed_ms(answers_[answer])});
  auto output = value::parse(answers_[answer].output_json, nullptr, false);
  if (!r.passed)
    return attempt_failed("verify", join(r.failures),
                          {{"output", output}, {"model", answers_[answer].model}});
  return accepted(answer, std::move(output), true);
}

// An answer passed its checks (`verified`) or had none: the router learns,
// a plan runs, a result goes to the cache and the task succeeds.
step_action step_attempts::accepted(size_t answer, value output, bool verified) {
  if (!verified)
    for (const auto& m : models_)
      if (!m.empty())
        env_.learn({m, t_.step->domain, call_outcome::ok, true, elapsed_ms(answers_[answer])});
  if (t_.step->kind == step_kind::plan)
    return expand_plan(answer, std::move(output));
  if (!models_.empty() && agree_k_ == 0)
    if (auto key = cache_key_for(models_.front()))
      env_.cache->admit(*key, output, true, std::chrono::milliseconds(*t_.step->cache_ttl_ms),
                        result_cache::clock::now());
  return succeed(answers_[answer], std::move(output), verified);
}

// Tree of thought: every answer that is a plan the checker accepts scores 1;
// those are verified when the step has checks (+1 each that passes).
step_action step_attempts::score_candidates() {
  const auto& main = env_.program->sources.file(env_.program->checked->graph().main_file);
  scores_.assign(ok_.size(), 0);
  notes_.assign(ok_.size(), "");
  plans_.clear();
  verifying_.clear();
  auto a = action(step_action::verify);
  for (size_t c = 0; c < ok_.size(); ++c) {
    plans_.push_back(value::parse(answers_[ok_[c]].output_json, nullptr, false));
    auto compiled = plan_compile(plans_.back(), "candidate", main.path, limits(),
                                 "candidate.plan.wf");
    notes_[c] = compiled                                                   ? "checks"
                : compiled.error().kind == plan_rejection::does_not_check ? "does not check"
                                                                           : compiled.error().message;
    scores_[c] = compiled ? 1 : 0;
    if (compiled && has_checks(t_.step->verify)) {
      verifying_.push_back(c);
      a.outputs.push_back(answers_[ok_[c]].output_json);
    }
  }
  if (verifying_.empty())
    return choose_candidate();
  return a;
}

step_action step_attempts::choose_candidate() {
  size_t best = 0;
  value table = value::array();
  for (size_t i = 0; i < scores_.size(); ++i) {
    if (scores_[i] > scores_[best])
      best = i;
    table.push_back({{"candidate", i}, {"score", scores_[i]}, {"note", notes_[i]}});
  }
  env_.journal(ev_plan_candidates{t_.key, attempt_, table, best});
  if (scores_[best] == 0)
    return attempt_failed("plan", "none of the " + std::to_string(scores_.size())
                                    + " candidate plans checks: " + notes_[best]);
  return expand_plan(ok_[best], plans_[best]);
}

// Checks the plan as a .wf workflow; when it checks, the planner runs it
// under the step's key, and on_plan_run() finishes the attempt.
step_action step_attempts::expand_plan(size_t answer, value plan) {
  const auto& main = env_.program->sources.file(env_.program->checked->graph().main_file);
  const std::string wf_name = "plan_" + std::to_string(env_.next_plan++);
  auto compiled = plan_compile(plan, wf_name, main.path, limits(), t_.key + ".plan.wf");
  if (!compiled)
    return attempt_failed("plan", compiled.error().sentence(), {{"plan", plan}});
  std::string digest = std::to_string(std::hash<std::string>{}(plan.dump()) % 0xFFFFFF);
  env_.journal(ev_plan_accepted{t_.key, attempt_, plan, compiled.value().text});
  plan_answer_ = answer;
  plan_ = std::move(plan);
  auto a = action(step_action::run_plan);
  a.plan_program = compiled.value().program;
  a.plan_workflow = wf_name;
  a.plan_prefix = env_.key_prefix + t_.key + "@" + digest + "/";
  return a;
}

step_action step_attempts::on_plan_run(uint64_t serial, const run_outcome& outcome) {
  if (serial != serial_)
    return action(step_action::wait);
  if (!outcome.ok)
    return attempt_failed("plan_run", "the plan's run failed: " + join(outcome.failures));
  auto result = outcome.outputs.is_object() ? outcome.outputs.value("result", value()) : value();
  return succeed(answers_[plan_answer_], value{{"plan", plan_}, {"result", result}}, true);
}

// Admission control refused every call. Interactive model steps degrade to
// the next model by utility without spending a retry; batch steps and
// tools are shed with the reason, so the run can be resumed later.
step_action step_attempts::overloaded(const std::string& why) {
  if (t_.step->kind == step_kind::tool || t_.step->cls == base::job_class::batch)
    return fail("refused under load (batch steps are shed when a model's queue is full): " + why);
  env_.journal(ev_degraded{t_.key, models_, why});
  tried_.insert(tried_.end(), models_.begin(), models_.end());
  return next_attempt(false);
}

// The router has no untried model. A model that only failed to answer (a
// call error) is tried again; otherwise the task fails with every attempt.
step_action step_attempts::no_model_left(const std::string& router_error) {
  if (tried_.empty())
    return fail(router_error);
  if (history_.empty()) // Every model it went to refused it under load.
    return fail("refused under load by " + join(tried_) + ", and " + router_error);
  if (history_.back().value("phase", "") == "call" && attempt_ <= max_attempts_) {
    env_.journal(ev_retry_same_models{t_.key, attempt_, tried_});
    tried_.clear();
    return next_attempt(false);
  }
  return fail(summary() + "; no other model to escalate to");
}

std::string step_attempts::summary() const {
  std::string out = std::to_string(history_.size()) + " attempt"
                    + (history_.size() == 1 ? "" : "s") + " failed";
  for (const auto& h : history_)
    out += "; #" + std::to_string(h["attempt"].get<int>())
           + (h.contains("models") ? " (" + h["models"][0].get<std::string>() + ")" : "") + " "
           + h["phase"].get<std::string>() + ": " + h["error"].get<std::string>();
  return out;
}

step_action step_attempts::attempt_failed(const std::string& phase, const std::string& why,
                                          value detail, bool retryable) {
  value entry = {{"attempt", attempt_}, {"phase", phase}, {"error", why}};
  if (!models_.empty() && !models_.front().empty())
    entry["models"] = models_;
  if (!answers_.empty())
    entry["node"] = answers_.front().node;
  if (!detail.is_null())
    entry["detail"] = std::move(detail);
  env_.journal(ev_attempt_failed{t_.key, attempt_, phase, why, models_, explain_});
  history_.push_back(std::move(entry));
  for (const auto& m : models_)
    if (!m.empty())
      tried_.push_back(m);
  const bool final = attempt_ >= max_attempts_
                     || (phase == "call" && t_.step->kind == step_kind::tool && !retryable);
  if (!final)
    return next_attempt(true);
  return fail(summary());
}

step_action step_attempts::fail(const std::string& why) {
  env_.journal(ev_step_failed{t_.key, step_path(t_), t_.index, why, history_});
  outstanding_ = 0;
  serial_++; // Nothing more is expected.
  auto a = action(step_action::failed);
  a.error = why;
  return a;
}

step_action step_attempts::succeed(const step_record& rec, value output, bool verified) {
  auto a = action(step_action::finished);
  auto& ev = a.record;
  ev.key = t_.key;
  ev.step = step_path(t_);
  ev.index = t_.index;
  ev.attempt = attempt_;
  ev.node = rec.node;
  ev.output = output;
  ev.started_us = rec.started_us;
  ev.finished_us = rec.finished_us;
  ev.elapsed_ms = elapsed_ms(rec);
  if (verified)
    ev.verified = true;
  if (!rec.model.empty()) {
    ev.model = rec.model;
    ev.prompt = t_.prompt;
    ev.tokens = value{{"prompt", rec.prompt_tokens}, {"completion", rec.completion_tokens}};
  }
  a.output = std::move(output);
  // A pure tool's line may be lost in a crash: resuming recomputes it.
  a.wait_for_disk = !recomputable(*t_.step);
  serial_++;
  return a;
}

std::optional<cache_key> step_attempts::cache_key_for(const std::string& model) const {
  const auto& s = *t_.step;
  if (!env_.cache || !s.cache_ttl_ms || *s.cache_ttl_ms <= 0)
    return std::nullopt;
  std::string kind = s.kind == step_kind::plan ? "plan"
                     : s.format == dsl::ir::output_format::json ? "llm:json"
                                                                : "llm";
  return cache_key{kind, model, t_.system + "\n\n" + t_.prompt};
}

// A plan's bounds: the step's own, within the run's, one level less deep
// for each plan this run is nested in.
plan_limits step_attempts::limits() const {
  plan_limits l;
  l.max_steps = std::min<size_t>(size_t(t_.step->max_steps), env_.plan_max_steps);
  l.depth_left = int(t_.step->max_depth) - 1 - env_.plan_depth;
  return l;
}

} // namespace troupe::runtime
