#pragma once

#include "runtime/base/result.hpp"
#include "runtime/journal.hpp"
#include "runtime/value.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

/// The vocabulary of a run's journal: every event the planner writes, each
/// defined once here with its fields, how it is written and how it is read
/// back. The planner writes through run_event_line(); resume
/// (resume_state()) and the launcher's live view read through
/// run_event_read().
///
/// To add an event: declare its struct below with a `name` and a
/// `fields()` listing every field once, add it to `run_event`, and write it
/// from where it happens. Writing and reading back both follow from the
/// field list and the variant; nothing else lists the events.
///
/// Field types: std::string, bool, integers, double, value (any JSON), lists
/// of strings, and std::optional of those (an absent optional is not
/// written, and a missing field reads back as nullopt). A field that is not
/// optional must be present when reading.
namespace troupe::runtime {

using base::result;

/// A run began, or resumed (`reused` lists the keys taken from the journal).
/// Written as "plan_run_started" for a plan's own run (`nested`).
struct ev_run_started {
  static constexpr const char* name = "run_started";
  std::string run_id;
  std::string workflow;
  std::string file;
  value inputs = value::object();
  std::vector<std::string> reused;
  bool nested = false; ///< Not a field: decides the name.
  template <class F> void fields(F&& f) {
    f("run_id", run_id), f("workflow", workflow), f("file", file), f("inputs", inputs),
      f("reused", reused);
  }
};

/// The router chose `chosen` for attempt `attempt` of task `key`.
struct ev_route {
  static constexpr const char* name = "route";
  std::string key;
  uint32_t attempt = 1;
  std::vector<std::string> chosen;
  std::string explain;  ///< The --explain line.
  value decision;       ///< runtime::to_json(route_decision).
  template <class F> void fields(F&& f) {
    f("key", key), f("attempt", attempt), f("chosen", chosen), f("explain", explain),
      f("decision", decision);
  }
};

/// A verified result of the same kind, model and prompt was reused.
struct ev_cache_hit {
  static constexpr const char* name = "cache_hit";
  std::string key;
  std::string model;
  bool exact = true;
  int64_t distance = 0; ///< SimHash bits apart (0 for an exact hit).
  template <class F> void fields(F&& f) {
    f("key", key), f("model", model), f("exact", exact), f("distance", distance);
  }
};

/// One job of an attempt went to an executor ("" model for a tool).
struct ev_step_started {
  static constexpr const char* name = "step_started";
  std::string key;
  uint32_t attempt = 1;
  std::string model;
  std::string node;
  template <class F> void fields(F&& f) {
    f("key", key), f("attempt", attempt), f("model", model), f("node", node);
  }
};

/// An attempt failed in `phase` (call, agree, verify, plan, plan_run).
struct ev_attempt_failed {
  static constexpr const char* name = "attempt_failed";
  std::string key;
  uint32_t attempt = 1;
  std::string phase;
  std::string error;
  std::vector<std::string> models;
  std::string explain;
  template <class F> void fields(F&& f) {
    f("key", key), f("attempt", attempt), f("phase", phase), f("error", error),
      f("models", models), f("explain", explain);
  }
};

/// Admission control refused the models `from`; the step goes to the next
/// model without spending a retry.
struct ev_degraded {
  static constexpr const char* name = "degraded";
  std::string key;
  std::vector<std::string> from;
  std::string error;
  template <class F> void fields(F&& f) { f("key", key), f("from", from), f("error", error); }
};

/// No untried model was left after call errors: `models` are tried again.
struct ev_retry_same_models {
  static constexpr const char* name = "retry_same_models";
  std::string key;
  uint32_t attempt = 1;
  std::vector<std::string> models;
  template <class F> void fields(F&& f) {
    f("key", key), f("attempt", attempt), f("models", models);
  }
};

/// Tree of thought: every candidate plan's score, and the one chosen.
struct ev_plan_candidates {
  static constexpr const char* name = "plan_candidates";
  std::string key;
  uint32_t attempt = 1;
  value scores = value::array(); ///< [{"candidate", "score", "note"}].
  uint64_t chosen = 0;
  template <class F> void fields(F&& f) {
    f("key", key), f("attempt", attempt), f("scores", scores), f("chosen", chosen);
  }
};

/// A plan checked and is about to run as `workflow` (its .wf text).
struct ev_plan_accepted {
  static constexpr const char* name = "plan_accepted";
  std::string key;
  uint32_t attempt = 1;
  value plan;
  std::string workflow;
  template <class F> void fields(F&& f) {
    f("key", key), f("attempt", attempt), f("plan", plan), f("workflow", workflow);
  }
};

/// Token counts of a model step.
struct ev_tokens {
  int64_t prompt = 0;
  int64_t completion = 0;
};

/// A task's result (written durably unless the step is a pure tool).
/// `step` and `index` give the key back through task_key(); resume restores
/// every step_finished whose `verified` is not false.
struct ev_step_finished {
  static constexpr const char* name = "step_finished";
  std::string key;
  std::string step;
  int64_t index = -1;
  uint32_t attempt = 1;
  std::string node;
  value output;
  int64_t started_us = 0;
  int64_t finished_us = 0;
  double elapsed_ms = 0;
  std::optional<bool> verified;      ///< Written only as true (checks passed).
  std::optional<std::string> model;  ///< Model steps only, with prompt and tokens.
  std::optional<std::string> prompt;
  std::optional<value> tokens;       ///< {"prompt": N, "completion": N}.
  template <class F> void fields(F&& f) {
    f("key", key), f("step", step), f("index", index), f("attempt", attempt), f("node", node),
      f("output", output), f("started_us", started_us), f("finished_us", finished_us),
      f("elapsed_ms", elapsed_ms), f("verified", verified), f("model", model),
      f("prompt", prompt), f("tokens", tokens);
  }
};

/// A task failed for good; `attempts` holds every attempt's record.
struct ev_step_failed {
  static constexpr const char* name = "step_failed";
  std::string key;
  std::string step;
  int64_t index = -1;
  std::string error;
  value attempts = value::array();
  template <class F> void fields(F&& f) {
    f("key", key), f("step", step), f("index", index), f("error", error),
      f("attempts", attempts);
  }
};

/// What the scheduler decided without running anything (workflow_run::take_notes()):
/// "step" is the key itself and "index" -1, so task_key() gives it back.
struct ev_step_note {
  enum kind_t { skipped, reused, empty } kind = skipped; ///< Not a field: decides the name.
  std::string key;
  std::string step;
  int64_t index = -1;
  template <class F> void fields(F&& f) { f("key", key), f("step", step), f("index", index); }
};

/// An executor's node was lost with `in_flight` jobs on it.
struct ev_executor_lost {
  static constexpr const char* name = "executor_lost";
  std::string node;
  uint64_t in_flight = 0;
  template <class F> void fields(F&& f) { f("node", node), f("in_flight", in_flight); }
};

/// A job of a lost node went to another executor (same attempt).
struct ev_step_redispatched {
  static constexpr const char* name = "step_redispatched";
  std::string key;
  uint32_t attempt = 1;
  std::string from_node;
  template <class F> void fields(F&& f) {
    f("key", key), f("attempt", attempt), f("from_node", from_node);
  }
};

/// The run ended ("plan_run_finished" for a plan's own run).
struct ev_run_finished {
  static constexpr const char* name = "run_finished";
  std::string run_id;
  std::string status; ///< "ok" or "failed".
  std::optional<value> outputs;
  std::optional<std::vector<std::string>> failures;
  std::optional<value> cache;       ///< {"hits", "near_hits", "misses", "admissions"}.
  std::optional<std::string> cache_error;
  bool nested = false; ///< Not a field: decides the name.
  template <class F> void fields(F&& f) {
    f("run_id", run_id), f("status", status), f("outputs", outputs), f("failures", failures),
      f("cache", cache), f("cache_error", cache_error);
  }
};

/// Every event of a run.
using run_event = std::variant<ev_run_started, ev_route, ev_cache_hit, ev_step_started,
                               ev_attempt_failed, ev_degraded, ev_retry_same_models,
                               ev_plan_candidates, ev_plan_accepted, ev_step_finished,
                               ev_step_failed, ev_step_note, ev_executor_lost,
                               ev_step_redispatched, ev_run_finished>;

/// The journal name of `e` ("step_finished", "plan_run_started", ...).
std::string run_event_name(const run_event& e);

/// Whether a resume relies on `e`, so that it must reach the disk before
/// the run goes on: run_started, step_failed and run_finished (and
/// step_finished, whose durability the planner decides per step).
bool run_event_durable(const run_event& e);

/// `e` as one journal line (JSON text without the newline) with "ts" and
/// "event". A non-empty `key_prefix` (a plan's own run) is put before its
/// "key" and "step" fields. Invalid UTF-8 in strings becomes U+FFFD. This is
/// the event's only serialization: the journal and the listeners get the
/// same bytes.
std::string run_event_line(run_event e, int64_t ts, const std::string& key_prefix = {});

/// Reads an event back from a journal line already parsed (as read_journal()
/// returns it). Reading is lenient about absence and strict about type: a
/// missing field keeps its default (journals of older versions read back),
/// a field of the wrong type is an error. The error is a phrase to follow
/// the event's name, e.g. `has an "index" that is not an integer`; an
/// unknown event name is "is not an event troupe writes".
result<run_event, std::string> run_event_read(const value& event);

/// "ts" of a parsed journal line (0 if absent).
int64_t run_event_ts(const value& event);

} // namespace troupe::runtime
