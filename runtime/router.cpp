#include "runtime/router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace troupe::runtime {
namespace {

using ms_double = std::chrono::duration<double, std::milli>;

// Utilities closer than this are a tie; the tie rules then decide, so tiny
// floating-point noise cannot flip a choice between runs.
constexpr double utility_epsilon = 1e-12;
// The KV penalty stops growing here: a report of a full pool means "avoid
// this model", not "infinitely far away".
constexpr double kv_cap = 0.99;
// Service times and waits are capped (about 31,000 years) so that no product
// of reported values can overflow into inf and then NaN, which would break
// the ordering of candidates.
constexpr double max_ms = 1e15;

bool finite_in(double x, double lo, double hi) {
  return std::isfinite(x) && x >= lo && x <= hi;
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

router_error bad_input(std::string message) {
  return router_error{std::move(message), {}};
}

router_error unknown_model(const std::string& name) {
  return bad_input("the router knows no model '" + name + "'");
}

std::optional<router_error> check_model(const dsl::ir::model& m) {
  if (m.name.empty())
    return bad_input("a model has an empty name");
  const std::string what = "model '" + m.name + "'";
  if (!finite_in(m.accuracy, 0, 1))
    return bad_input(what + " has accuracy " + std::to_string(m.accuracy)
                     + "; it must be between 0 and 1");
  if (!finite_in(m.cost_per_1k, 0, HUGE_VAL))
    return bad_input(what + " has cost " + std::to_string(m.cost_per_1k)
                     + "; it must be finite and at least 0");
  if (!finite_in(m.latency_ms, 0, HUGE_VAL) || m.latency_ms == 0)
    return bad_input(what + " has latency " + std::to_string(m.latency_ms)
                     + " ms; it must be finite and above 0");
  return std::nullopt;
}

std::optional<router_error> check_policy(const dsl::ir::router_policy& p) {
  const std::pair<const char*, double> weights[] = {
    {"accuracy", p.accuracy}, {"cost", p.cost}, {"latency", p.latency}};
  for (const auto& [name, w] : weights)
    if (!finite_in(w, 0, 1))
      return bad_input(std::string{"router weight "} + name + " is " + std::to_string(w)
                       + "; each weight must be between 0 and 1");
  return std::nullopt;
}

std::optional<router_error> check_options(const router_options& o) {
  if (o.load_horizon.count() < 0)
    return bad_input("router load_horizon must not be negative");
  if (!finite_in(o.learn_weight, 0, 1) || o.learn_weight == 0)
    return bad_input("router learn_weight must be in (0, 1]");
  if (!finite_in(o.service_weight, 0, 1) || o.service_weight == 0)
    return bad_input("router service_weight must be in (0, 1]");
  if (o.failures_to_cool < 1)
    return bad_input("router failures_to_cool must be at least 1");
  if (o.cooldown.count() <= 0 || o.cooldown_max < o.cooldown)
    return bad_input("router cooldown must be above 0 and cooldown_max at least cooldown");
  return std::nullopt;
}

bool serves(const dsl::ir::model& m, const std::string& domain) {
  return domain.empty() || m.domains.empty()
         || std::find(m.domains.begin(), m.domains.end(), domain) != m.domains.end();
}

std::string cooldown_text(double left_ms) {
  return "cooldown until +" + fixed(left_ms / 1000, 1) + "s";
}

// The ranking: higher utility, then lower cost, then lower name.
bool better(const candidate_score& a, const candidate_score& b) {
  if (std::abs(a.utility - b.utility) > utility_epsilon)
    return a.utility > b.utility;
  if (a.cost_per_1k != b.cost_per_1k)
    return a.cost_per_1k < b.cost_per_1k;
  return a.model < b.model;
}

const candidate_score* find_score(const std::vector<candidate_score>& scores,
                                  const std::string& name) {
  for (const auto& c : scores)
    if (c.model == name)
      return &c;
  return nullptr;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Fills `picks` from `scores` (sorted by better()): usable primaries by
// utility; then, when `full`, usable fallbacks in request order and cooling
// models by utility. Returns the deepest tier a pick came from.
route_tier pick(const std::vector<candidate_score>& scores, const route_request& req,
                bool full, std::vector<std::string>& picks) {
  const auto n = static_cast<size_t>(req.n);
  auto excluded = [&](const candidate_score& c) { return req.exclude.count(c.model) > 0; };
  route_tier tier = route_tier::primary;
  for (const auto& c : scores)
    if (picks.size() < n && c.tier == route_tier::primary && !excluded(c) && !c.cooldown_left_ms)
      picks.push_back(c.model);
  if (!full)
    return tier;
  for (const auto& name : req.fallback) {
    const candidate_score* c = find_score(scores, name);
    if (picks.size() < n && c && !excluded(*c) && !c->cooldown_left_ms && !contains(picks, name)) {
      picks.push_back(name);
      tier = route_tier::fallback;
    }
  }
  for (const auto& c : scores)
    if (picks.size() < n && !excluded(c) && c.cooldown_left_ms && !contains(picks, c.model)) {
      picks.push_back(c.model);
      tier = route_tier::last_resort;
    }
  return tier;
}

// The utility term `loser` lost most on against `winner`: the largest
// weighted difference in the winner's favour. Latency lost through a longer
// expected wait reads "load".
std::string lost_on(const candidate_score& loser, const candidate_score& winner,
                    const route_decision& d) {
  if (std::abs(loser.utility - winner.utility) <= utility_epsilon)
    return loser.cost_per_1k != winner.cost_per_1k ? "cost" : "name";
  const double acc = d.weight_accuracy * (winner.learned_accuracy - loser.learned_accuracy);
  const double cost = d.weight_cost * (loser.normalized_cost - winner.normalized_cost);
  const double lat =
    d.weight_latency * (loser.normalized_latency - winner.normalized_latency);
  if (acc >= cost && acc >= lat)
    return "accuracy";
  if (cost >= lat)
    return "cost";
  return loser.expected_wait_ms > winner.expected_wait_ms ? "load" : "latency";
}

// Sets chosen, reason and lost_on of every score once `d.chosen` is final.
void explain_scores(route_decision& d, const route_request& req) {
  const candidate_score* reference = nullptr; // the weakest chosen primary
  for (const auto& c : d.scores)
    if (c.tier == route_tier::primary && contains(d.chosen, c.model)
        && !req.exclude.count(c.model) && !c.cooldown_left_ms)
      reference = &c;
  for (auto& c : d.scores) {
    if (contains(d.chosen, c.model)) {
      c.chosen = true;
    } else if (req.exclude.count(c.model)) {
      c.reason = "excluded: tried";
    } else if (c.cooldown_left_ms) {
      c.reason = cooldown_text(*c.cooldown_left_ms);
    } else if (c.tier == route_tier::fallback || !reference) {
      c.reason = "fallback not needed";
    } else {
      c.lost_on = lost_on(c, *reference, d);
      const bool tie = std::abs(c.utility - reference->utility) <= utility_epsilon;
      c.reason = std::string{tie ? "tie" : "lower utility"} + " (" + c.lost_on + ")";
    }
  }
}

} // namespace

route_request route_request_for(const dsl::ir::workflow& wf, const dsl::ir::step& s) {
  route_request r;
  r.step = s.name;
  r.domain = s.domain;
  r.pinned = s.model;
  if (s.fallback)
    r.fallback.push_back(*s.fallback);
  if (s.verify.agree && !s.model)
    r.n = s.verify.agree->second;
  r.max_tokens = s.max_tokens;
  r.policy = wf.router;
  return r;
}

const char* to_string(call_outcome outcome) {
  switch (outcome) {
    case call_outcome::ok: return "ok";
    case call_outcome::error: return "error";
    case call_outcome::timeout: return "timeout";
  }
  return "?";
}

const char* to_string(route_tier tier) {
  switch (tier) {
    case route_tier::primary: return "primary";
    case route_tier::fallback: return "fallback";
    case route_tier::last_resort: return "last_resort";
  }
  return "primary";
}

result<router, router_error> router::create(std::vector<dsl::ir::model> models,
                                            dsl::ir::router_policy policy,
                                            router_options options) {
  if (auto e = check_policy(policy))
    return *e;
  if (auto e = check_options(options))
    return *e;
  std::vector<model_state> states;
  for (auto& m : models) {
    if (auto e = check_model(m))
      return *e;
    states.push_back(model_state{std::move(m), {}, {}, {}, {}, {}, 0, {}});
  }
  std::sort(states.begin(), states.end(),
            [](const model_state& a, const model_state& b) { return a.decl.name < b.decl.name; });
  for (size_t i = 1; i < states.size(); ++i)
    if (states[i].decl.name == states[i - 1].decl.name)
      return bad_input("model '" + states[i].decl.name + "' is declared twice");
  return router{std::move(states), std::move(policy), options};
}

result<router, router_error> router::create(const dsl::checked_graph& graph,
                                            router_options options) {
  return create(graph.graph().models, graph.graph().router, options);
}

router::model_state* router::find(const std::string& name) {
  return const_cast<model_state*>(std::as_const(*this).find(name));
}

const router::model_state* router::find(const std::string& name) const {
  auto it = std::lower_bound(models_.begin(), models_.end(), name,
                             [](const model_state& m, const std::string& n) {
                               return m.decl.name < n;
                             });
  return it != models_.end() && it->decl.name == name ? &*it : nullptr;
}

/// Expected wait before `m` could serve the request, from its fresh load
/// report (0 without one):
///   wait = service × (queued + k² / (1 − k)),  k = min(kv_occupancy, 0.99)
/// where service is the measured mean call time when known, else
/// ms_per_token × max_tokens when both are known, else the declared latency.
/// Each queued request costs one service time. The KV term is 0 for an idle
/// pool, half a service time at k = 0.5, 8 at 0.9 and ~98 at the cap: the
/// engine preempts and recomputes sequences as the pool fills, so the risk
/// of being pushed back grows without bound as k → 1. `active` requests are
/// not counted: they share the batch rather than queue ahead, and the
/// slowdown they cause already shows in ms_per_token.
double router::expected_wait(const model_state& m, const route_request& request,
                             router_clock::time_point now) const {
  if (!m.load || now - m.load_at > options_.load_horizon)
    return 0;
  double service = m.decl.latency_ms;
  if (m.service_ms)
    service = *m.service_ms;
  else if (m.load->ms_per_token > 0 && request.max_tokens > 0)
    service = m.load->ms_per_token * static_cast<double>(request.max_tokens);
  service = std::min(service, max_ms);
  const double k = std::min(m.load->kv_occupancy, kv_cap);
  const double wait = service * (static_cast<double>(m.load->queued) + k * k / (1 - k));
  return std::min(wait, max_ms);
}

std::vector<candidate_score> router::score(const std::vector<const model_state*>& set,
                                           const route_request& request,
                                           const dsl::ir::router_policy& policy,
                                           router_clock::time_point now) const {
  std::vector<candidate_score> out;
  double max_cost = 0;
  double max_latency = 0;
  for (const model_state* m : set) {
    candidate_score c;
    c.model = m->decl.name;
    c.declared_accuracy = m->decl.accuracy;
    auto learned = m->learned.find(request.domain);
    c.learned_accuracy = learned != m->learned.end() ? learned->second : m->decl.accuracy;
    c.cost_per_1k = m->decl.cost_per_1k;
    c.latency_ms = m->decl.latency_ms;
    c.expected_wait_ms = policy.load_aware ? expected_wait(*m, request, now) : 0;
    if (m->cool_until && *m->cool_until > now)
      c.cooldown_left_ms = ms_double(*m->cool_until - now).count();
    max_cost = std::max(max_cost, c.cost_per_1k);
    max_latency = std::max(max_latency, c.latency_ms + c.expected_wait_ms);
    out.push_back(std::move(c));
  }
  for (auto& c : out) {
    c.normalized_cost = max_cost > 0 ? c.cost_per_1k / max_cost : 0;
    c.normalized_latency = (c.latency_ms + c.expected_wait_ms) / max_latency;
    c.utility = policy.accuracy * c.learned_accuracy + policy.cost * (1 - c.normalized_cost)
                + policy.latency * (1 - c.normalized_latency);
  }
  std::sort(out.begin(), out.end(), better);
  return out;
}

std::optional<router_error> router::check_request(const route_request& req,
                                                  const dsl::ir::router_policy& policy) const {
  const std::string what = "step '" + req.step + "'";
  if (auto e = check_policy(policy))
    return e;
  if (req.n < 1)
    return bad_input(what + " asks for " + std::to_string(req.n) + " models; at least 1");
  if (req.max_tokens < 0)
    return bad_input(what + " has negative max_tokens");
  if (req.pinned && !find(*req.pinned))
    return bad_input(what + " pins model '" + *req.pinned + "', which the router does not know");
  for (const auto& name : req.fallback)
    if (!find(name))
      return bad_input(what + " falls back to model '" + name
                       + "', which the router does not know");
  return std::nullopt;
}

router_error router::no_route(const route_request& req, const std::vector<candidate_score>& scores,
                              const std::vector<std::string>& picks) const {
  router_error err;
  for (const auto& m : models_) {
    const std::string& name = m.decl.name;
    if (contains(picks, name))
      continue;
    // Scored and not picked means excluded: cooling models are last resorts.
    if (find_score(scores, name))
      err.unusable[name] = "excluded: tried";
    else if (req.pinned)
      err.unusable[name] = "not the pinned model '" + *req.pinned + "'";
    else
      err.unusable[name] = "does not serve domain '" + req.domain + "'";
  }
  err.message = "step '" + req.step + "' needs " + std::to_string(req.n) + " model"
                + (req.n == 1 ? "" : "s") + " but only " + std::to_string(picks.size())
                + (picks.size() == 1 ? " is" : " are") + " usable";
  for (const auto& name : picks)
    err.message += (&name == &picks.front() ? " (" : ", ") + name;
  err.message += picks.empty() ? "" : ")";
  for (const auto& [name, why] : err.unusable)
    err.message += "; " + name + ": " + why;
  return err;
}

result<route_decision, router_error> router::choose(const route_request& req,
                                                    router_clock::time_point now) {
  const dsl::ir::router_policy& policy = req.policy ? *req.policy : policy_;
  if (auto e = check_request(req, policy))
    return *e;
  // Pass 1: the primary candidates alone, so that fallback models never
  // shift the normalization (and so the ranking) among them.
  std::vector<const model_state*> set;
  for (const auto& m : models_)
    if (req.pinned ? m.decl.name == *req.pinned : serves(m.decl, req.domain))
      set.push_back(&m);
  auto scores = score(set, req, policy, now);
  std::vector<std::string> picks;
  route_tier tier = pick(scores, req, false, picks);
  if (picks.size() < static_cast<size_t>(req.n)) {
    // Pass 2: score the fallback models beside the candidates, then take
    // fallbacks in order and cooling models as a last resort.
    std::set<std::string> primary;
    for (const model_state* m : set)
      primary.insert(m->decl.name);
    for (const auto& name : req.fallback)
      if (std::find(set.begin(), set.end(), find(name)) == set.end())
        set.push_back(find(name));
    scores = score(set, req, policy, now);
    for (auto& c : scores)
      c.tier = primary.count(c.model) ? route_tier::primary : route_tier::fallback;
    picks.clear();
    tier = pick(scores, req, true, picks);
  }
  if (picks.size() < static_cast<size_t>(req.n))
    return no_route(req, scores, picks);

  route_decision d;
  d.step = req.step;
  d.domain = req.domain;
  d.chosen = std::move(picks);
  d.tier = tier;
  d.weight_accuracy = policy.accuracy;
  d.weight_cost = policy.cost;
  d.weight_latency = policy.latency;
  d.load_aware = policy.load_aware;
  d.scores = std::move(scores);
  explain_scores(d, req);
  for (const auto& name : d.chosen)
    ++find(name)->counts.routed;
  return d;
}

std::optional<router_error> router::report_load(const std::string& model,
                                                const base::load_report& report,
                                                router_clock::time_point at) {
  model_state* m = find(model);
  if (!m)
    return unknown_model(model);
  if (report.queued < 0 || report.running < 0)
    return bad_input("load report of '" + model + "' has a negative queued or running");
  if (!finite_in(report.kv_occupancy, 0, 1))
    return bad_input("load report of '" + model + "' has kv_occupancy "
                     + std::to_string(report.kv_occupancy) + "; it must be between 0 and 1");
  if (!finite_in(report.ms_per_token, 0, HUGE_VAL))
    return bad_input("load report of '" + model + "' has ms_per_token "
                     + std::to_string(report.ms_per_token) + "; it must be finite and >= 0");
  m->load = report;
  m->load_at = at;
  return std::nullopt;
}

std::optional<router_error> router::record_call(const std::string& model, call_outcome outcome,
                                                router_clock::time_point now,
                                                std::optional<std::chrono::milliseconds> elapsed) {
  model_state* m = find(model);
  if (!m)
    return unknown_model(model);
  if (elapsed && elapsed->count() < 0)
    return bad_input("call to '" + model + "' has a negative elapsed time");
  if (outcome == call_outcome::ok) {
    m->counts.consecutive_failures = 0;
    m->cooldowns = 0;
    m->cool_until.reset();
    if (elapsed) {
      const double e = std::min(static_cast<double>(elapsed->count()), max_ms);
      const double w = options_.service_weight;
      m->service_ms = m->service_ms ? (1 - w) * *m->service_ms + w * e : e;
    }
    return std::nullopt;
  }
  ++m->counts.failures;
  ++m->counts.consecutive_failures;
  // A late failure of a call started before the cooldown says nothing new.
  if (m->cool_until && *m->cool_until > now)
    return std::nullopt;
  // Once cooled with no success since, one more failure cools it again.
  if (m->counts.consecutive_failures < options_.failures_to_cool && m->cooldowns == 0)
    return std::nullopt;
  auto period = options_.cooldown;
  for (int i = 0; i < m->cooldowns && period < options_.cooldown_max; ++i)
    period = period <= options_.cooldown_max / 2 ? period * 2 : options_.cooldown_max;
  m->cool_until = now + std::min(period, options_.cooldown_max);
  ++m->cooldowns;
  m->counts.consecutive_failures = 0;
  return std::nullopt;
}

std::optional<router_error> router::record_verification(const std::string& model,
                                                        const std::string& domain,
                                                        bool passed) {
  model_state* m = find(model);
  if (!m)
    return unknown_model(model);
  auto it = m->learned.try_emplace(domain, m->decl.accuracy).first;
  const double w = options_.learn_weight;
  it->second = (1 - w) * it->second + w * (passed ? 1.0 : 0.0);
  ++(passed ? m->counts.verified : m->counts.rejected);
  return std::nullopt;
}

std::optional<router_error> router::learn(const call_report& report,
                                          router_clock::time_point now) {
  std::optional<std::chrono::milliseconds> elapsed;
  if (report.outcome == call_outcome::ok && report.elapsed_ms >= 0)
    elapsed = std::chrono::milliseconds(int64_t(report.elapsed_ms));
  if (auto e = record_call(report.model, report.outcome, now, elapsed))
    return e;
  if (report.outcome == call_outcome::ok)
    return record_verification(report.model, report.domain, report.verified);
  return std::nullopt;
}

std::optional<double> router::learned_accuracy(const std::string& model,
                                               const std::string& domain) const {
  const model_state* m = find(model);
  if (!m)
    return std::nullopt;
  auto it = m->learned.find(domain);
  return it != m->learned.end() ? it->second : m->decl.accuracy;
}

std::optional<model_stats> router::stats(const std::string& model) const {
  const model_state* m = find(model);
  if (!m)
    return std::nullopt;
  return m->counts;
}

value router::snapshot(router_clock::time_point now) const {
  value models = value::object();
  for (const auto& m : models_) {
    value learned = value::object();
    for (const auto& [domain, acc] : m.learned)
      learned[domain] = acc;
    value load = nullptr;
    if (m.load) {
      const double age = ms_double(now - m.load_at).count();
      load = {{"queued", m.load->queued},   {"running", m.load->running},
              {"kv_occupancy", m.load->kv_occupancy},
              {"ms_per_token", m.load->ms_per_token}, {"age_ms", age},
              {"stale", now - m.load_at > options_.load_horizon}};
    }
    value cool = nullptr;
    if (m.cool_until && *m.cool_until > now)
      cool = ms_double(*m.cool_until - now).count();
    models[m.decl.name] = {
      {"routed", m.counts.routed},
      {"failures", m.counts.failures},
      {"consecutive_failures", m.counts.consecutive_failures},
      {"verified", m.counts.verified},
      {"rejected", m.counts.rejected},
      {"declared_accuracy", m.decl.accuracy},
      {"learned_accuracy", learned},
      {"cooldown_left_ms", cool},
      {"service_ms", m.service_ms ? value(*m.service_ms) : value(nullptr)},
      {"load", load}};
  }
  return {{"weights",
           {{"accuracy", policy_.accuracy}, {"cost", policy_.cost}, {"latency", policy_.latency}}},
          {"load_aware", policy_.load_aware},
          {"models", models}};
}

value to_json(const route_decision& d) {
  value scores = value::array();
  for (const auto& c : d.scores)
    scores.push_back({{"model", c.model},
                      {"tier", to_string(c.tier)},
                      {"declared_accuracy", c.declared_accuracy},
                      {"learned_accuracy", c.learned_accuracy},
                      {"cost_per_1k", c.cost_per_1k},
                      {"normalized_cost", c.normalized_cost},
                      {"latency_ms", c.latency_ms},
                      {"expected_wait_ms", c.expected_wait_ms},
                      {"normalized_latency", c.normalized_latency},
                      {"utility", c.utility},
                      {"cooldown_left_ms", c.cooldown_left_ms ? value(*c.cooldown_left_ms)
                                                              : value(nullptr)},
                      {"chosen", c.chosen},
                      {"reason", c.reason},
                      {"lost_on", c.lost_on}});
  return {{"step", d.step},
          {"domain", d.domain},
          {"chosen", d.chosen},
          {"tier", to_string(d.tier)},
          {"weights",
           {{"accuracy", d.weight_accuracy}, {"cost", d.weight_cost},
            {"latency", d.weight_latency}}},
          {"load_aware", d.load_aware},
          {"scores", scores}};
}

std::string explain(const route_decision& d) {
  std::string out = (d.step.empty() ? "(step)" : d.step) + " ->";
  for (size_t i = 0; i < d.chosen.size(); ++i)
    out += (i ? ", " : " ") + d.chosen[i];
  if (d.tier != route_tier::primary)
    out += d.tier == route_tier::fallback ? " via fallback" : " as last resort";
  std::string chosen_u;
  std::string others;
  for (const auto& name : d.chosen)
    for (const auto& c : d.scores)
      if (c.model == name)
        chosen_u += (chosen_u.empty() ? "" : ", ") + fixed(c.utility, 3);
  for (const auto& c : d.scores) {
    if (c.chosen)
      continue;
    others += others.empty() ? "" : ", ";
    others += c.model + " " + (c.lost_on.empty() ? c.reason : fixed(c.utility, 3) + " [" + c.lost_on + "]");
  }
  return out + " (u=" + chosen_u + (others.empty() ? "" : "; " + others) + ")";
}

route_reply route_reply_of(const result<route_decision, router_error>& decision) {
  route_reply r;
  if (!decision) {
    r.error = decision.error().message;
    return r;
  }
  r.ok = true;
  r.chosen = decision.value().chosen;
  r.decision_json = to_json(decision.value()).dump();
  r.explain = explain(decision.value());
  return r;
}

} // namespace troupe::runtime
