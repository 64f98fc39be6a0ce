#pragma once

#include "dsl/checked_graph.hpp"
#include "dsl/ir.hpp"
#include "runtime/base/load_report.hpp"
#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// Model routing: which model serves each `llm` and `plan` step. The router
/// actor owns one `router`; GPU actors feed it load reports, executors and
/// verifiers feed it call and verification outcomes. Every call takes the
/// current time, so nothing here reads a clock.
namespace troupe::runtime {

using base::result;

using router_clock = std::chrono::steady_clock;

/// Tunables of a router. Defaults are the documented ones.
struct router_options {
  std::chrono::milliseconds load_horizon{5000}; ///< Older load reports are ignored; >= 0.
  double learn_weight = 0.2;   ///< EWMA weight of one verifier outcome, in (0, 1].
  double service_weight = 0.2; ///< EWMA weight of one measured call time, in (0, 1].
  int failures_to_cool = 3;    ///< Consecutive call failures that start a cooldown; >= 1.
  std::chrono::milliseconds cooldown{30000};      ///< First cooldown; > 0.
  std::chrono::milliseconds cooldown_max{300000}; ///< Cap of the doubling; >= cooldown.
};


/// How a model call ended. Verification results go to record_verification.
enum class call_outcome { ok, error, timeout };

/// What the router learns from one model call (router::learn): how it
/// ended, its duration, and for a call that answered whether the answer
/// passed verification (an answer with nothing to check counts as passed).
struct call_report {
  std::string model;
  std::string domain;
  call_outcome outcome = call_outcome::ok;
  bool verified = true; ///< Read only when outcome is ok.
  double elapsed_ms = 0;
};

/// Serialization (CAF's inspect protocol): call reports travel as they are.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_report& x) {
  return f(x.model, x.domain, x.outcome, x.verified, x.elapsed_ms);
}

/// "ok", "error" or "timeout".
const char* to_string(call_outcome outcome);

/// One routing question: which model(s) should serve this step now.
struct route_request {
  std::string step;                  ///< Step name, for the record.
  std::string domain;                ///< "" = no domain: every model serves it.
  std::optional<std::string> pinned; ///< `model:`: the only candidate.
  std::set<std::string> exclude;     ///< Models already tried for this step.
  std::vector<std::string> fallback; ///< Tried in order when no candidate is left.
  int64_t n = 1;                     ///< Distinct models wanted (`agree: k of n`); >= 1.
  int64_t max_tokens = 0;            ///< Output bound, for service time; 0 = unknown.
  /// The workflow's own `router` block; the router's policy when absent.
  std::optional<dsl::ir::router_policy> policy;
};

/// Serialization (CAF's inspect protocol; no CAF is included here): the
/// planner sends route requests to the router actor as they are.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, route_request& x) {
  bool has_pinned = x.pinned.has_value();
  std::string pinned = x.pinned.value_or("");
  bool has_policy = x.policy.has_value();
  dsl::ir::router_policy policy = x.policy.value_or(dsl::ir::router_policy{});
  if constexpr (!Inspector::writes_state) {
    return f(x.step, x.domain, has_pinned, pinned, x.exclude, x.fallback, x.n, x.max_tokens,
             has_policy, policy);
  } else {
    auto r = f(x.step, x.domain, has_pinned, pinned, x.exclude, x.fallback, x.n, x.max_tokens,
               has_policy, policy);
    x.pinned = has_pinned ? std::optional<std::string>(pinned) : std::nullopt;
    x.policy = has_policy ? std::optional<dsl::ir::router_policy>(policy) : std::nullopt;
    return r;
  }
}

/// The request for `llm` or `plan` step `s` of workflow `wf`: its domain,
/// pinned model, fallback, max_tokens, the workflow's router policy, and
/// n = N of `agree: K of N` for a step that pins no model (a pinned step's
/// agreement samples its one model N times, which is the caller's business).
route_request route_request_for(const dsl::ir::workflow& wf, const dsl::ir::step& s);

/// Where a model entered a decision: it serves the step (or is pinned), or it
/// is one of the request's fallback models.
enum class route_tier { primary, fallback, last_resort };

/// One considered model's scores in a decision. Every primary candidate is
/// listed, excluded and cooling ones too; fallback models only once the
/// fallback tier was reached.
struct candidate_score {
  std::string model;
  route_tier tier = route_tier::primary; ///< primary or fallback.
  double declared_accuracy = 0;
  double learned_accuracy = 0; ///< Used in the utility.
  double cost_per_1k = 0;
  double normalized_cost = 0;  ///< cost / max cost of the scored models (0 if all 0).
  double latency_ms = 0;       ///< Declared latency.
  double expected_wait_ms = 0; ///< 0 unless load-aware with a fresh report.
  double normalized_latency = 0; ///< (latency + wait) / max of the scored models.
  double utility = 0;
  std::optional<double> cooldown_left_ms; ///< Set while the model cools down.
  bool chosen = false;
  /// Why it was not chosen ("excluded: tried", "cooldown until +12.3s",
  /// "lower utility (cost)", "fallback not needed"); "" when chosen.
  std::string reason;
  /// For "lower utility"/"tie": the term it lost on: accuracy, cost,
  /// latency, load (latency through expected wait) or name.
  std::string lost_on;
};

/// What the router decided for one request, with every score behind it.
/// Invariants: chosen has request.n distinct names, best first (primary by
/// utility, then fallbacks in list order, then last-resort cooling models by
/// utility); each chosen name has a candidate_score with chosen = true;
/// scores are sorted by utility, best first.
struct route_decision {
  std::string step;
  std::string domain;
  std::vector<std::string> chosen;
  route_tier tier = route_tier::primary; ///< Deepest tier a chosen model came from.
  double weight_accuracy = 0, weight_cost = 0, weight_latency = 0;
  bool load_aware = false;
  std::vector<candidate_score> scores;
};

/// Why no decision could be made, or why an input was refused. `unusable`
/// names every model and why it could not serve (empty for bad input).
struct router_error {
  std::string message;
  std::map<std::string, std::string> unusable;
};

/// Counters of one model since the router started.
struct model_stats {
  uint64_t routed = 0;   ///< Times chosen by choose().
  uint64_t failures = 0; ///< Call errors and timeouts.
  uint64_t verified = 0; ///< Verifier passes.
  uint64_t rejected = 0; ///< Verifier failures.
  int consecutive_failures = 0;
};

/// The routing policy over a fixed set of models, with what it has learned.
///
/// Utility of a candidate m, with weights α, β, γ of the policy:
///   α·acc(m) + β·(1 − cost(m)/max cost) + γ·(1 − lat(m)/max lat)
/// where maxima run over the scored models, acc is the learned accuracy for
/// (m, step domain), and lat is the declared latency plus, when load_aware,
/// the expected wait (router.cpp, expected_wait). Highest utility wins; ties
/// go to the lower cost, then the lower name.
///
/// The scored models are the primary candidates (those serving the domain,
/// or the pinned one), excluded and cooling ones included, so escalation
/// walks one stable ranking. Only when they cannot supply n usable models
/// are the fallback models added and everything scored again; fallbacks are
/// then taken in request order, and cooling models last, by utility.
///
/// Invariants: model names are unique and every model's values are finite
/// (accuracy 0..1, cost >= 0, latency > 0); learned accuracies stay in 0..1.
/// Thread-compatible: one owner (the router actor) calls it at a time.
class router {
public:
  /// A router over `models` with the default policy `policy`. Returns
  /// router_error for duplicate or empty names, non-finite or out-of-range
  /// model values, weights outside 0..1, or options outside their ranges.
  static result<router, router_error> create(std::vector<dsl::ir::model> models,
                                             dsl::ir::router_policy policy,
                                             router_options options = {});

  /// A router over a checked graph's models and top-level policy.
  static result<router, router_error> create(const dsl::checked_graph& graph,
                                             router_options options = {});

  /// Picks request.n distinct models for a step at time `now` (see the class
  /// comment and route_decision) and counts them as routed. Returns
  /// router_error for bad input (n < 1, an unknown pinned or fallback model,
  /// bad policy weights) or when fewer than n models are usable, listing
  /// every model and why.
  result<route_decision, router_error> choose(const route_request& request,
                                              router_clock::time_point now);

  /// Stores the latest load of `model`, replacing the previous report.
  /// Returns an error for an unknown model or values out of range.
  /// `at` is when it arrived: reports older than load_horizon are ignored.
  std::optional<router_error> report_load(const std::string& model,
                                          const base::load_report& report,
                                          router_clock::time_point at);

  /// Records how a call to `model` ended at `now`. `elapsed` (for ok calls)
  /// feeds the measured service time. After failures_to_cool consecutive
  /// errors or timeouts the model cools down for `cooldown`; a failure after
  /// a cooldown ended, with no success between, cools it again for twice the
  /// previous period (at most cooldown_max); a success resets both. Returns
  /// an error for an unknown model or a negative elapsed.
  std::optional<router_error> record_call(const std::string& model, call_outcome outcome,
                                          router_clock::time_point now,
                                          std::optional<std::chrono::milliseconds> elapsed = {});

  /// Folds one verifier outcome into the learned accuracy of (model,
  /// domain): acc ← (1 − w)·acc + w·(passed ? 1 : 0), starting from the
  /// declared accuracy. Returns an error for an unknown model.
  std::optional<router_error> record_verification(const std::string& model,
                                                  const std::string& domain, bool passed);

  /// record_call() and, for an answered call, record_verification() for
  /// one report. Errors as theirs (an unknown model: not ours to route).
  std::optional<router_error> learn(const call_report& report, router_clock::time_point now);

  /// Learned accuracy of (model, domain) (the declared one before any
  /// verification); nullopt for an unknown model.
  std::optional<double> learned_accuracy(const std::string& model,
                                         const std::string& domain) const;

  /// Counters of `model`; nullopt for an unknown model.
  std::optional<model_stats> stats(const std::string& model) const;

  /// Every model's counters, learned accuracies (key "" = steps without a
  /// domain), cooldown, service time and load, as JSON for the journal.
  value snapshot(router_clock::time_point now) const;

  const dsl::ir::router_policy& policy() const { return policy_; }

private:
  struct model_state {
    dsl::ir::model decl;
    std::map<std::string, double> learned; ///< domain -> EWMA of verifier passes
    std::optional<base::load_report> load;
    router_clock::time_point load_at; ///< When `load` arrived.
    std::optional<double> service_ms; ///< EWMA of measured ok-call times
    std::optional<router_clock::time_point> cool_until;
    int cooldowns = 0; ///< Cooldowns since the last success.
    model_stats counts;
  };

  router(std::vector<model_state> models, dsl::ir::router_policy policy, router_options options)
    : models_(std::move(models)), policy_(std::move(policy)), options_(options) {}

  model_state* find(const std::string& name);
  std::optional<router_error> check_request(const route_request& request,
                                            const dsl::ir::router_policy& policy) const;
  router_error no_route(const route_request& request, const std::vector<candidate_score>& scores,
                        const std::vector<std::string>& picks) const;
  const model_state* find(const std::string& name) const;
  std::vector<candidate_score> score(const std::vector<const model_state*>& set,
                                     const route_request& request,
                                     const dsl::ir::router_policy& policy,
                                     router_clock::time_point now) const;
  double expected_wait(const model_state& m, const route_request& request,
                       router_clock::time_point now) const;

  std::vector<model_state> models_; ///< Sorted by name.
  dsl::ir::router_policy policy_;
  router_options options_;
};

/// The decision as JSON for the run journal: step, domain, chosen, tier,
/// weights, load_aware, and every candidate_score with all its fields.
value to_json(const route_decision& decision);

/// One line for `--explain`, e.g.
/// `answer -> smollm (u=0.612; analyst 0.598 [cost], expert excluded: tried)`.
std::string explain(const route_decision& decision);

/// "primary", "fallback" or "last_resort".
const char* to_string(route_tier tier);

/// A decision as it travels back to the planner: chosen models in utility
/// order, the decision with every score (to_json(), as text, for the
/// journal) and its explain() line; or ok = false and the router_error's
/// message.
struct route_reply {
  bool ok = false;
  std::vector<std::string> chosen;
  std::string decision_json;
  std::string explain;
  std::string error;
};

/// The reply for choose()'s result.
route_reply route_reply_of(const result<route_decision, router_error>& decision);

/// Serialization (CAF's inspect protocol).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, route_reply& x) {
  return f(x.ok, x.chosen, x.decision_json, x.explain, x.error);
}

} // namespace troupe::runtime
