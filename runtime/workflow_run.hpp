#pragma once

#include "dsl/checked_graph.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/result.hpp"
#include "runtime/eval.hpp"
#include "runtime/run_events.hpp"
#include "runtime/value.hpp"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

/// The scheduler core of one run: which steps of a checked workflow are
/// ready, what their evaluated prompts and arguments are, and what the
/// outputs come to once every step has finished. Plain and single-threaded:
/// the planner actor owns one and feeds it completions; tests drive it
/// directly. It never runs a step itself.
namespace troupe::runtime {

using base::result;

/// One unit of work whose inputs are all known: a step, or one element of a
/// `for` step. `call` steps never become tasks: their callee's steps do,
/// with keys under the call's key.
/// Invariants: key is unique within the run and stable across runs of the
/// same workflow with the same inputs and step results, so a journal entry
/// written under it matches on resume.
struct task {
  /// "answer", "part_summary[2]", "cats/s", "cats[1]/s": the path of call
  /// steps, then the step, with the element index under `for`.
  std::string key;
  const dsl::ir::workflow* wf = nullptr; ///< Borrowed from the checked graph.
  const dsl::ir::step* step = nullptr;   ///< Borrowed from the checked graph.
  int64_t index = -1;                    ///< Element index under `for`, else -1.
  value loop_value;                      ///< The element under `for`, else null.
  std::string prompt;                    ///< llm: the prompt; plan: the goal.
  std::string system;                    ///< llm: the system message ("" if none).
  value args = value::object();          ///< tool: evaluated arguments by name.
};

/// What a verifier needs to evaluate a task's `assert`s: copies of the
/// workflow's inputs and of the results of the steps the task depends on.
struct verify_context {
  const dsl::ir::workflow* wf = nullptr;
  value inputs;
  std::map<std::string, value> steps;
  value loop_value;
};

/// The context as it travels to a verifier (wf stays behind):
/// {"inputs": {...}, "steps": {...}, "loop": ...}.
value verify_context_json(const verify_context& c);

/// Reads verify_context_json() back, with `wf` set to the given workflow.
/// nullopt when `json` is not an object; a missing part is empty.
std::optional<verify_context> verify_context_read(const value& json,
                                                  const dsl::ir::workflow* wf);

/// Why a run cannot start or cannot produce its outputs: a message only.
using run_error = base::error;

class workflow_run;

/// How a run ended: ok with its outputs, or every failure.
struct run_outcome {
  bool ok = false;
  value outputs;                     ///< Set when ok.
  std::vector<std::string> failures; ///< "key: why" per failed task, or why it could not start.
};

/// The outcome of a finished `run` (null: it never started) after the
/// failures recorded outside it (`failures`, e.g. why it could not start).
/// Ok only when there are no failures and the outputs evaluate.
run_outcome run_outcome_of(const workflow_run* run, std::vector<std::string> failures);

/// The journal's run_finished event for `outcome` (without cache figures).
ev_run_finished run_finished_event(std::string run_id, const run_outcome& outcome, bool nested);

/// Binds the values given for `wf`'s inputs: applies defaults, and checks
/// that every input without a default is given, that no unknown name is
/// given, and that each value has the input's type (text is a string, a
/// number a number, list<T> an array of T; json takes anything). Returns
/// every problem, one sentence each.
result<value, std::vector<std::string>> bind_inputs(const dsl::ir::workflow& wf,
                                                    const value& given);

/// Invariants: a task is handed out by take_ready() at most once; a key is
/// completed at most once; in_flight() counts tasks handed out and neither
/// completed nor failed.
class workflow_run {
public:
  /// Starts a run of workflow `workflow` of `graph` with inputs already
  /// bound by bind_inputs(). `graph` must outlive the run. `restored` maps
  /// task keys to results of an earlier run of the same file and inputs:
  /// those tasks complete at once when they become ready, without running.
  static result<std::unique_ptr<workflow_run>, run_error>
  start(const dsl::checked_graph& graph, const std::string& workflow, value inputs,
        std::map<std::string, value> restored = {});

  ~workflow_run();
  workflow_run(const workflow_run&) = delete;
  workflow_run& operator=(const workflow_run&) = delete;

  /// Tasks that became ready since the last call, in run order.
  std::vector<task> take_ready();

  /// What the scheduler decided on its own since the last call, as journal
  /// events: a step skipped by `when`, a task restored from an earlier run,
  /// a `for` step over an empty list.
  std::vector<ev_step_note> take_notes();

  /// Records the result of a task handed out by take_ready(). Later steps
  /// may become ready. Precondition: `key` is in flight.
  void complete(const std::string& key, value result);

  /// Records that a task failed for good (retries and escalation spent).
  /// Steps depending on it will not run; independent ones go on, so their
  /// results are kept. Precondition: `key` is in flight.
  void fail(const std::string& key, std::string why);

  /// Copies of what `t`'s verify asserts may read.
  verify_context context_for(const task& t) const;

  size_t in_flight() const;

  /// True when nothing is in flight and nothing can become ready.
  bool finished() const;

  /// The failures recorded so far: task key and reason (including
  /// expression errors met while preparing a step).
  const std::vector<std::pair<std::string, std::string>>& failures() const;

  /// The workflow's outputs as an object. An error when the run failed or
  /// an output expression cannot be evaluated. Precondition: finished().
  result<value, run_error> outputs() const;

  /// Results of every completed task and step, by key (what a journal
  /// holds).
  const std::map<std::string, value>& completed() const;

private:
  struct frame;
  workflow_run(const dsl::checked_graph& graph, std::map<std::string, value> restored);

  frame& open_frame(const dsl::ir::workflow& wf, value inputs, std::string prefix,
                    frame* parent, size_t parent_step);
  void settle(frame& f);
  void drain();
  void prepare(frame& f, size_t step_index);
  void emit(frame& f, size_t step_index, int64_t index, const value& element);
  void finish_step(frame& f, size_t step_index, value result, bool skipped);
  void finish_element(frame& f, size_t step_index, int64_t index,
                      std::optional<value> result);
  void fail_step(frame& f, size_t step_index, const std::string& key, std::string why);
  void frame_done(frame& f);
  eval_scope scope_of(const frame& f, const value* loop_value) const;

  const dsl::checked_graph& graph_;
  std::map<std::string, value> restored_;
  std::vector<std::unique_ptr<frame>> frames_;
  std::deque<std::pair<frame*, size_t>> queue_; ///< Steps whose deps resolved.
  std::vector<task> ready_;
  std::vector<ev_step_note> notes_;
  /// In-flight task key -> (frame, step index, element index).
  struct slot {
    frame* f;
    size_t step;
    int64_t index;
  };
  std::map<std::string, slot> in_flight_;
  std::map<std::string, value> completed_;
  std::vector<std::pair<std::string, std::string>> failures_;
};

} // namespace troupe::runtime
