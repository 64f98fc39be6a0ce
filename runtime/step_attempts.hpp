#pragma once

#include "dsl/compile.hpp"
#include "runtime/plan.hpp"
#include "runtime/result_cache.hpp"
#include "runtime/router.hpp"
#include "runtime/run_events.hpp"
#include "runtime/step_record.hpp"
#include "runtime/verifier.hpp"
#include "runtime/value.hpp"
#include "runtime/workflow_run.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

/// The policy of one task's attempts: retries, escalation, degrading under
/// load, k-of-n agreement, tree-of-thought scoring, plan expansion and the
/// result cache. A plain state machine: it receives outcomes (routed,
/// answers arrived, verified, agreement reached or not, a plan's run ended)
/// and returns the next action; the planner actor performs the action (a
/// message to the router, executors or verifier, a child planner) and feeds
/// the outcome back. Nothing here sends a message or reads a clock except
/// through step_env.
///
/// Rules (docs/architecture.md, "Retries and escalation"; each has a row
/// in tests/runtime/step_attempts_test.cpp):
///  - A task gets `retries + 1` attempts. An attempt fails in a phase:
///    call, agree, verify, plan or plan_run. Its models join the tried list
///    and the next attempt asks the router with them excluded (escalation).
///  - A tool's call error that is not retryable is final.
///  - Admission control refusing every call: an interactive model step
///    degrades to the next model without spending an attempt; a batch step
///    or a tool fails at once ("refused under load").
///  - No untried model left: after a call error the tried models are tried
///    again (retry_same_models, same attempt number); otherwise the task
///    fails with every attempt and "no other model to escalate to".
///  - `agree: K of N`: N answers (N models, or N seeds of a pinned model);
///    fewer than K answers, or no group of K agreeing, fails the attempt.
///  - Plan candidates: each plan that checks scores 1, +1 when it passes the
///    step's verify clauses; the best (the first among equals) runs; none
///    checking fails the attempt (phase plan).
///  - Cache: a model step with `cache: TTL` and no `agree` reuses a cached
///    result for (kind, model, system + prompt), and admits its verified
///    (or unchecked) result.
///  - Pure tools (template, json_get, json_parse, regex_extract,
///    chunk_text) finish without waiting for the disk.
namespace troupe::runtime {

/// What the policy needs from the run around it. Owned by the planner; it
/// outlives every step_attempts built over it.
struct step_env {
  std::shared_ptr<const dsl::compilation> program; ///< Holds the checked graph.
  result_cache* cache = nullptr;                   ///< Null: no result cache.
  std::string key_prefix;       ///< A plan's own run: its keys' prefix.
  int plan_depth = 0;           ///< How deep this run is nested in plans.
  size_t plan_max_steps = 64;   ///< [limits] plan_max_steps.
  uint64_t next_plan = 1;       ///< Names the next accepted plan's workflow.
  /// The time for records made without an executor (cache hits).
  std::function<int64_t()> now_us;
  /// Writes a journal event of the policy (never step_finished: see
  /// step_action::finished).
  std::function<void(run_event)> journal;
  /// What the router should learn from one model call.
  std::function<void(const call_report&)> learn;
};

/// One job the planner is to send to an executor for the current attempt.
struct job_request {
  std::string model;  ///< "" for a tool.
  uint64_t seed = 0;
  double temperature = 0;
  std::string prompt; ///< llm: the task's prompt; plan: wrapped in plan instructions.
  bool json_output = false;
};

/// What the planner is to do next for a task.
struct step_action {
  enum kind_t {
    wait,       ///< Nothing: more answers or verdicts are due.
    route,      ///< Ask the router: `request`.
    send_jobs,  ///< Send `jobs` to executors, one each.
    verify,     ///< Verify each answer of `outputs` against the step's checks.
    agree,      ///< Ask whether `agree_k` of `outputs` agree.
    run_plan,   ///< Run `plan_program`'s workflow `plan_workflow` under `plan_prefix`.
    finished,   ///< Done: journal `record`, then complete the task with `output`.
    failed,     ///< Failed for good (step_failed is journaled): `error`.
  };
  kind_t kind = wait;
  route_request request;           ///< route: the question for the router.
  std::vector<job_request> jobs;
  std::vector<std::string> outputs;       ///< JSON texts.
  uint32_t agree_k = 0;
  std::shared_ptr<const dsl::compilation> plan_program;
  std::string plan_workflow;
  std::string plan_prefix;                ///< Full key prefix of the plan's run.
  value output;
  ev_step_finished record;
  bool wait_for_disk = true;              ///< finished: complete only once durable.
  std::string error;
};

/// The attempts at one task.
/// Invariants: attempt() <= max attempts, except while a degraded or
/// same-models attempt reuses its number; `serial()` grows with every
/// attempt and answers of an older serial are ignored.
class step_attempts {
public:
  /// `t` borrows from env.program's graph; `env` must outlive this.
  step_attempts(task t, step_env& env);

  /// The first action: route a model step, send a tool's job.
  step_action begin();

  /// The router's choice for `serial` (best first), with the decision's
  /// JSON and --explain line, or the router's error.
  step_action on_routed(uint64_t serial, const route_reply& reply);

  /// One job's answer for `serial`. Returns wait until every job of the
  /// attempt has answered.
  step_action on_answer(uint64_t serial, step_record answer);

  /// The verifier's verdicts, in the order of the verify action's outputs.
  step_action on_verified(uint64_t serial, const std::vector<verdict>& verdicts);

  /// Agreement among the agree action's outputs: the indices of the
  /// largest agreeing group, or none when no K agree.
  step_action on_agreement(uint64_t serial, bool reached, const std::vector<uint32_t>& group);

  /// A run_plan action's child run ended: its `result` output is the
  /// plan's result; its failures fail the attempt.
  step_action on_plan_run(uint64_t serial, const run_outcome& outcome);

  const task& current() const { return t_; }
  uint64_t serial() const { return serial_; }
  uint32_t attempt() const { return attempt_; }

private:
  step_action next_attempt(bool spends);
  step_action send(std::vector<std::string> models);
  step_action answers_complete();
  step_action verify(size_t answer);
  step_action accepted(size_t answer, value output, bool verified);
  step_action score_candidates();
  step_action choose_candidate();
  step_action expand_plan(size_t answer, value plan);
  step_action overloaded(const std::string& why);
  step_action no_model_left(const std::string& router_error);
  step_action attempt_failed(const std::string& phase, const std::string& why,
                             value detail = nullptr, bool retryable = true);
  step_action fail(const std::string& why);
  step_action succeed(const step_record& rec, value output, bool verified);
  std::optional<cache_key> cache_key_for(const std::string& model) const;
  plan_limits limits() const;
  void learn_verdict(const step_record& rec, bool passed);
  std::string summary() const;

  task t_;
  step_env& env_;
  uint32_t attempt_ = 0;
  uint32_t max_attempts_ = 1;
  uint64_t serial_ = 0;
  std::vector<std::string> tried_;   ///< Models of earlier attempts.
  value history_ = value::array();   ///< One entry per failed attempt.
  // The current attempt:
  std::vector<std::string> models_;  ///< One per job, best first.
  std::string explain_;              ///< The router's line.
  uint32_t agree_k_ = 0;             ///< 0: no agreement needed.
  uint32_t copies_ = 1;              ///< Jobs per chosen model (pinned agreement, candidates).
  uint32_t candidates_ = 1;          ///< Plan steps: alternative plans.
  size_t outstanding_ = 0;
  std::vector<step_record> answers_; ///< In router order once complete.
  std::vector<size_t> ok_;           ///< Indices of answers that succeeded.
  std::vector<size_t> verifying_;    ///< Answers sent to the verifier.
  std::vector<int> scores_;          ///< Candidates: per entry of ok_.
  std::vector<std::string> notes_;
  std::vector<value> plans_;
  size_t plan_answer_ = 0;
  value plan_;
};

} // namespace troupe::runtime
