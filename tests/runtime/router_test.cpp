#include "runtime/router.hpp"

#include "dsl/compile.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

// Table-driven tests of the router: each table row is one situation and the
// model(s) it must choose, with the scores that explain it.

namespace troupe::runtime {
namespace {

namespace ir = dsl::ir;
using namespace std::chrono_literals;

// A fixed start, far from the clock's epoch, so "report 6 s ago" is valid.
const router_clock::time_point t0 = router_clock::time_point{} + 1h;

ir::model mk(std::string name, double accuracy, double cost, double latency_ms,
             std::vector<std::string> domains = {}) {
  ir::model m;
  m.name = std::move(name);
  m.accuracy = accuracy;
  m.cost_per_1k = cost;
  m.latency_ms = latency_ms;
  m.domains = std::move(domains);
  return m;
}

ir::router_policy weights(double a, double c, double l, bool load_aware = true) {
  ir::router_policy p;
  p.accuracy = a;
  p.cost = c;
  p.latency = l;
  p.load_aware = load_aware;
  return p;
}

router make(std::vector<ir::model> models, ir::router_policy policy = weights(0.75, 0.15, 0.10),
            router_options options = {}) {
  auto r = router::create(std::move(models), std::move(policy), options);
  if (!r.ok())
    throw std::runtime_error{"router::create: " + r.error().message};
  return std::move(r).value();
}

route_decision decide(router& r, const route_request& req, router_clock::time_point now = t0) {
  auto d = r.choose(req, now);
  if (!d.ok())
    throw std::runtime_error{"choose: " + d.error().message};
  return std::move(d).value();
}

route_request req(std::string domain = "", int64_t n = 1) {
  route_request q;
  q.step = "s";
  q.domain = std::move(domain);
  q.n = n;
  return q;
}

const candidate_score& score_of(const route_decision& d, const std::string& name) {
  for (const auto& c : d.scores)
    if (c.model == name)
      return c;
  throw std::runtime_error{"no score for " + name};
}

std::vector<std::string> scored(const route_decision& d) {
  std::vector<std::string> out;
  for (const auto& c : d.scores)
    out.push_back(c.model);
  std::sort(out.begin(), out.end());
  return out;
}

using names = std::vector<std::string>;

TEST(router_utility, each_weight_picks_its_own_winner) {
  // a: most accurate; b: free; c: fastest.
  const std::vector<ir::model> models = {mk("a", 0.9, 10, 3000), mk("b", 0.5, 0, 500),
                                         mk("c", 0.7, 1, 100)};
  struct row {
    double wa, wc, wl;
    std::string winner;
    double utility;
  };
  const row rows[] = {
    {1, 0, 0, "a", 0.9},
    {0, 1, 0, "b", 1.0},
    {0, 0, 1, "c", 1 - 100.0 / 3000},
    {0.5, 0.3, 0.2, "c", 0.35 + 0.3 * 0.9 + 0.2 * (1 - 100.0 / 3000)},
    {0.2, 0.8, 0, "b", 0.2 * 0.5 + 0.8},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::to_string(r.wa) + "/" + std::to_string(r.wc) + "/" + std::to_string(r.wl));
    router rt = make(models, weights(r.wa, r.wc, r.wl));
    const auto d = decide(rt, req());
    EXPECT_EQ(d.chosen, names{r.winner});
    EXPECT_NEAR(score_of(d, r.winner).utility, r.utility, 1e-12);
    EXPECT_EQ(d.scores.front().model, r.winner) << "scores are sorted best first";
  }
}

TEST(router_utility, ties_go_to_lower_cost_then_name) {
  struct row {
    std::vector<ir::model> models;
    std::string winner, loser, lost_on;
  };
  const row rows[] = {
    // Accuracy only: equal utility; the cheaper one wins.
    {{mk("x", 0.8, 2, 100), mk("y", 0.8, 1, 100)}, "y", "x", "cost"},
    // Identical models: the name decides.
    {{mk("q", 0.8, 1, 100), mk("p", 0.8, 1, 100)}, "p", "q", "name"},
  };
  for (const auto& r : rows) {
    router rt = make(r.models, weights(1, 0, 0));
    const auto d = decide(rt, req());
    EXPECT_EQ(d.chosen, names{r.winner});
    EXPECT_EQ(score_of(d, r.loser).reason, "tie (" + r.lost_on + ")");
  }
}

TEST(router_utility, cost_and_latency_normalize_over_the_candidates) {
  struct row {
    std::string domain;
    std::vector<ir::model> models;
    std::map<std::string, std::pair<double, double>> expected; // cost, latency
  };
  const row rows[] = {
    {"", {mk("p", 0.5, 0, 100), mk("q", 0.5, 0, 400)}, {{"p", {0, 0.25}}, {"q", {0, 1}}}},
    {"", {mk("p", 0.5, 2, 400), mk("q", 0.5, 4, 400)}, {{"p", {0.5, 1}}, {"q", {1, 1}}}},
    // r serves another domain, so its cost and latency do not count.
    {"x",
     {mk("p", 0.5, 2, 100, {"x"}), mk("q", 0.5, 4, 200, {"x"}), mk("r", 0.5, 100, 9000, {"y"})},
     {{"p", {0.5, 0.5}}, {"q", {1, 1}}}},
  };
  for (const auto& r : rows) {
    router rt = make(r.models);
    const auto d = decide(rt, req(r.domain));
    ASSERT_EQ(d.scores.size(), r.expected.size());
    for (const auto& [name, want] : r.expected) {
      EXPECT_DOUBLE_EQ(score_of(d, name).normalized_cost, want.first) << name;
      EXPECT_DOUBLE_EQ(score_of(d, name).normalized_latency, want.second) << name;
    }
  }
}

TEST(router_candidates, domain_filters_and_domainless_models_serve_all) {
  router rt = make({mk("gen", 0.6, 0, 100, {"general"}), mk("ind", 0.9, 0, 100, {"industrial"}),
                    mk("any", 0.5, 0, 100)},
                   weights(1, 0, 0));
  struct row {
    std::string domain;
    names scored_models;
    std::string winner;
  };
  const row rows[] = {
    {"", {"any", "gen", "ind"}, "ind"},
    {"general", {"any", "gen"}, "gen"},
    {"industrial", {"any", "ind"}, "ind"},
    {"poetry", {"any"}, "any"},
  };
  for (const auto& r : rows) {
    const auto d = decide(rt, req(r.domain));
    EXPECT_EQ(scored(d), r.scored_models) << r.domain;
    EXPECT_EQ(d.chosen, names{r.winner}) << r.domain;
  }
}

TEST(router_candidates, pinned_model_is_the_only_candidate) {
  router rt = make({mk("best", 0.99, 0, 10), mk("pinned", 0.1, 9, 9000, {"other"}), mk("f", 0.5, 1, 100)});
  auto q = req("general");
  q.pinned = "pinned";
  auto d = decide(rt, q);
  EXPECT_EQ(d.chosen, names{"pinned"});
  ASSERT_EQ(d.scores.size(), 1u);
  EXPECT_DOUBLE_EQ(d.scores[0].declared_accuracy, 0.1);

  q.exclude = {"pinned"};
  auto err = rt.choose(q, t0);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().unusable.at("pinned"), "excluded: tried");
  EXPECT_EQ(err.error().unusable.at("best"), "not the pinned model 'pinned'");

  q.fallback = {"f"};
  d = decide(rt, q);
  EXPECT_EQ(d.chosen, names{"f"});
  EXPECT_EQ(d.tier, route_tier::fallback);

  q.pinned = "nobody";
  err = rt.choose(q, t0);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("'nobody'"), std::string::npos);
}

TEST(router_load, load_moves_the_choice_off_a_busy_model) {
  // Equal but for latency: busy is faster when idle.
  const std::vector<ir::model> models = {mk("busy", 0.8, 0, 100), mk("other", 0.8, 0, 150)};
  struct row {
    const char* what;
    bool load_aware;
    std::optional<std::pair<base::load_report, router_clock::time_point>> report; // for busy
    int64_t max_tokens;
    std::optional<std::chrono::milliseconds> measured; // one ok call of busy
    std::string winner;
    double busy_wait;
  };
  auto at = [](int64_t queue, double kv, double ms_tok, router_clock::duration age) {
    return std::make_pair(base::load_report{queue, 1, kv, ms_tok, 0, 0}, t0 - age);
  };
  const row rows[] = {
    {"no report", true, std::nullopt, 0, std::nullopt, "busy", 0},
    {"queue of 3", true, at(3, 0, 0, 0s), 0, std::nullopt, "other", 300},
    {"load ignored", false, at(3, 0, 0, 0s), 0, std::nullopt, "busy", 0},
    {"stale report", true, at(3, 0, 0, 6s), 0, std::nullopt, "busy", 0},
    {"4 s old is fresh", true, at(3, 0, 0, 4s), 0, std::nullopt, "other", 300},
    {"kv 0.9", true, at(0, 0.9, 0, 0s), 0, std::nullopt, "other", 100 * 0.81 / 0.1},
    {"kv 0.3", true, at(0, 0.3, 0, 0s), 0, std::nullopt, "busy", 100 * 0.09 / 0.7},
    {"decode speed", true, at(1, 0, 2, 0s), 10, std::nullopt, "busy", 20},
    {"measured service", true, at(3, 0, 2, 0s), 10, 10ms, "busy", 30},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.what);
    router rt = make(models, weights(0.5, 0, 0.5, r.load_aware));
    if (r.report) {
      ASSERT_FALSE(rt.report_load("busy", r.report->first, r.report->second));
    }
    if (r.measured) {
      ASSERT_FALSE(rt.record_call("busy", call_outcome::ok, t0, r.measured));
    }
    auto q = req();
    q.max_tokens = r.max_tokens;
    const auto d = decide(rt, q);
    EXPECT_EQ(d.chosen, names{r.winner});
    EXPECT_NEAR(score_of(d, "busy").expected_wait_ms, r.busy_wait, 1e-9);
    if (r.winner == "other") {
      EXPECT_EQ(score_of(d, "busy").lost_on, "load");
    }
  }
}

TEST(router_learning, failed_verifications_change_the_choice) {
  router rt = make({mk("a", 0.6, 0, 100, {"general", "math"}), mk("b", 0.55, 0, 100, {"general", "math"})},
                   weights(1, 0, 0));
  struct row {
    std::string model;
    bool passed;
    double learned; // of `model` in "general" afterwards
    std::string winner;
  };
  const row rows[] = {
    {"a", true, 0.8 * 0.6 + 0.2, "a"},
    {"a", false, 0.8 * (0.8 * 0.6 + 0.2), "b"},
    {"a", false, 0.8 * 0.8 * (0.8 * 0.6 + 0.2), "b"},
    {"b", false, 0.8 * 0.55, "b"},
    {"b", false, 0.8 * 0.8 * 0.55, "a"}, // 0.352 < a's 0.4352
  };
  for (const auto& r : rows) {
    ASSERT_FALSE(rt.record_verification(r.model, "general", r.passed));
    EXPECT_NEAR(*rt.learned_accuracy(r.model, "general"), r.learned, 1e-12);
    const auto d = decide(rt, req("general"));
    EXPECT_EQ(d.chosen, names{r.winner});
    EXPECT_NEAR(score_of(d, r.model).learned_accuracy, r.learned, 1e-12);
  }
  // Another domain keeps the declared accuracy.
  EXPECT_EQ(decide(rt, req("math")).chosen, names{"a"});
  EXPECT_DOUBLE_EQ(*rt.learned_accuracy("a", "math"), 0.6);
  // Many failures converge towards 0.
  for (int i = 0; i < 40; ++i)
    ASSERT_FALSE(rt.record_verification("a", "math", false));
  EXPECT_LT(*rt.learned_accuracy("a", "math"), 0.001);
  EXPECT_EQ(decide(rt, req("math")).chosen, names{"b"});
  EXPECT_EQ(rt.stats("a")->rejected, 42u);
}

TEST(router_cooldown, three_errors_cool_a_model_until_time_passes) {
  router rt = make({mk("a", 0.9, 0, 100), mk("b", 0.5, 0, 100)});
  struct row {
    router_clock::duration at;
    std::optional<call_outcome> event; // recorded for "a" before choosing
    std::string winner;
  };
  const row rows[] = {
    {0s, call_outcome::error, "a"},
    {1s, call_outcome::timeout, "a"},
    {2s, call_outcome::error, "b"},   // third failure: cooled until 32 s
    {31s, std::nullopt, "b"},
    {32s, std::nullopt, "a"},         // expired
    {33s, call_outcome::error, "b"},  // on probation: cooled again for 60 s
    {92s, std::nullopt, "b"},
    {93s, std::nullopt, "a"},
    {94s, call_outcome::ok, "a"},     // success resets: three failures needed
    {95s, call_outcome::error, "a"},
    {96s, call_outcome::error, "a"},
  };
  for (const auto& r : rows) {
    const auto now = t0 + r.at;
    if (r.event) {
      ASSERT_FALSE(rt.record_call("a", *r.event, now));
    }
    const auto d = decide(rt, req(), now);
    EXPECT_EQ(d.chosen, names{r.winner}) << "at +" << std::chrono::duration_cast<std::chrono::seconds>(r.at).count();
  }
  EXPECT_EQ(rt.stats("a")->failures, 6u);
  // A verification failure is not a call failure.
  ASSERT_FALSE(rt.record_verification("a", "", false));
  EXPECT_EQ(rt.stats("a")->consecutive_failures, 2);
}

TEST(router_cooldown, period_doubles_up_to_the_cap_and_shows_in_the_reason) {
  router_options o;
  o.failures_to_cool = 1;
  o.cooldown = 100ms;
  o.cooldown_max = 250ms;
  router rt = make({mk("a", 0.9, 0, 100), mk("b", 0.5, 0, 100)}, weights(0.75, 0.15, 0.10), o);
  const double periods[] = {100, 200, 250, 250};
  auto now = t0;
  for (double period : periods) {
    ASSERT_FALSE(rt.record_call("a", call_outcome::error, now));
    const auto d = decide(rt, req(), now);
    EXPECT_EQ(d.chosen, names{"b"});
    ASSERT_TRUE(score_of(d, "a").cooldown_left_ms);
    EXPECT_DOUBLE_EQ(*score_of(d, "a").cooldown_left_ms, period);
    EXPECT_EQ(score_of(d, "a").reason.rfind("cooldown until +0.", 0), 0u) << score_of(d, "a").reason;
    now += std::chrono::milliseconds(static_cast<int64_t>(period));
    EXPECT_EQ(decide(rt, req(), now).chosen, names{"a"});
  }
}

TEST(router_escalation, excluding_tried_models_walks_down_the_ranking) {
  router rt = make({mk("m1", 0.9, 0, 100), mk("m2", 0.8, 0, 100), mk("m3", 0.7, 0, 100),
                    mk("m4", 0.6, 0, 100)},
                   weights(1, 0, 0));
  auto q = req();
  const names order = {"m1", "m2", "m3", "m4"};
  for (const auto& want : order) {
    const auto d = decide(rt, q);
    ASSERT_EQ(d.chosen, names{want});
    EXPECT_EQ(d.scores.size(), 4u) << "excluded candidates stay listed";
    for (const auto& tried : q.exclude)
      EXPECT_EQ(score_of(d, tried).reason, "excluded: tried");
    q.exclude.insert(want);
  }
  const auto err = rt.choose(q, t0);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().unusable.size(), 4u);
  EXPECT_EQ(rt.stats("m1")->routed, 1u);
}

TEST(router_fallback, fallbacks_in_order_then_cooling_models) {
  router_options o;
  o.failures_to_cool = 1;
  const std::vector<ir::model> models = {mk("p", 0.9, 0, 100, {"x"}), mk("q", 0.8, 0, 100, {"x"}),
                                         mk("f1", 0.2, 5, 900, {"y"}), mk("f2", 0.99, 0, 10, {"y"})};
  struct row {
    const char* what;
    std::set<std::string> exclude;
    names cooling;
    names chosen;
    route_tier tier;
  };
  const row rows[] = {
    {"candidate left", {"p"}, {}, {"q"}, route_tier::primary},
    {"first fallback", {"p", "q"}, {}, {"f1"}, route_tier::fallback},
    {"candidate cooling", {"p"}, {"q"}, {"f1"}, route_tier::fallback},
    {"second fallback", {"p", "q", "f1"}, {}, {"f2"}, route_tier::fallback},
    {"first fallback cooling", {"p", "q"}, {"f1"}, {"f2"}, route_tier::fallback},
    {"last resort by utility", {"f1", "f2"}, {"p", "q"}, {"p"}, route_tier::last_resort},
    {"last resort fallback", {"p", "q", "f2"}, {"f1"}, {"f1"}, route_tier::last_resort},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.what);
    router rt = make(models, weights(0.75, 0.15, 0.10), o);
    for (const auto& m : r.cooling)
      ASSERT_FALSE(rt.record_call(m, call_outcome::error, t0));
    auto q = req("x");
    q.exclude = r.exclude;
    q.fallback = {"f1", "f2"};
    const auto d = decide(rt, q);
    EXPECT_EQ(d.chosen, r.chosen);
    EXPECT_EQ(d.tier, r.tier);
  }
  // Without fallbacks, the fallback models are never scored.
  router rt = make(models);
  EXPECT_EQ(scored(decide(rt, req("x"))), (names{"p", "q"}));
}

TEST(router_top_n, returns_n_distinct_models_in_utility_order) {
  router rt = make({mk("a", 0.9, 0, 100), mk("b", 0.8, 0, 100), mk("c", 0.7, 0, 100)},
                   weights(1, 0, 0));
  struct row {
    int64_t n;
    std::set<std::string> exclude;
    std::optional<names> chosen; // nullopt: error
  };
  const row rows[] = {
    {1, {}, names{"a"}},
    {2, {}, names{"a", "b"}},
    {3, {}, names{"a", "b", "c"}},
    {2, {"a"}, names{"b", "c"}},
    {4, {}, std::nullopt},
    {3, {"b"}, std::nullopt},
    {0, {}, std::nullopt},
  };
  for (const auto& r : rows) {
    auto q = req("", r.n);
    q.exclude = r.exclude;
    const auto d = rt.choose(q, t0);
    ASSERT_EQ(d.ok(), r.chosen.has_value()) << "n=" << r.n;
    if (d.ok()) {
      EXPECT_EQ(d.value().chosen, *r.chosen);
    } else {
      EXPECT_FALSE(d.error().message.empty());
    }
  }
}

TEST(router_errors, nothing_usable_lists_every_model_and_why) {
  router rt = make({mk("a", 0.9, 0, 100, {"x"}), mk("b", 0.8, 0, 100, {"x"}), mk("c", 0.7, 0, 100, {"y"})});
  auto q = req("x");
  q.step = "answer";
  q.exclude = {"a", "b"};
  const auto err = rt.choose(q, t0);
  ASSERT_FALSE(err.ok());
  const auto& e = err.error();
  EXPECT_EQ(e.unusable, (std::map<std::string, std::string>{
                          {"a", "excluded: tried"}, {"b", "excluded: tried"},
                          {"c", "does not serve domain 'x'"}}));
  EXPECT_EQ(e.message,
            "step 'answer' needs 1 model but only 0 are usable; a: excluded: tried; "
            "b: excluded: tried; c: does not serve domain 'x'");
}

TEST(router_errors, bad_input_is_an_error_value) {
  struct model_row {
    std::vector<ir::model> models;
    std::string needle;
  };
  const model_row bad_models[] = {
    {{mk("a", 1.5, 0, 100)}, "accuracy"},
    {{mk("a", 0.5, -1, 100)}, "cost"},
    {{mk("a", 0.5, 0, 0)}, "latency"},
    {{mk("a", std::nan(""), 0, 100)}, "accuracy"},
    {{mk("a", 0.5, 0, 100), mk("a", 0.6, 0, 100)}, "twice"},
    {{mk("", 0.5, 0, 100)}, "empty name"},
  };
  for (const auto& r : bad_models) {
    const auto c = router::create(r.models, weights(0.75, 0.15, 0.10));
    ASSERT_FALSE(c.ok()) << r.needle;
    EXPECT_NE(c.error().message.find(r.needle), std::string::npos) << c.error().message;
  }
  EXPECT_FALSE(router::create({}, weights(-0.1, 0.5, 0.5)).ok());
  router_options o;
  o.learn_weight = 0;
  EXPECT_FALSE(router::create({}, weights(0.75, 0.15, 0.10), o).ok());

  router rt = make({mk("a", 0.5, 0, 100)});
  EXPECT_TRUE(rt.report_load("zz", base::load_report{}, t0));
  EXPECT_TRUE(rt.report_load("a", base::load_report{-1, 0, 0, 0, 0, 0}, t0));
  EXPECT_TRUE(rt.report_load("a", base::load_report{0, -1, 0, 0, 0, 0}, t0));
  EXPECT_TRUE(rt.report_load("a", base::load_report{0, 0, 1.5, 0, 0, 0}, t0));
  EXPECT_TRUE(rt.report_load("a", base::load_report{0, 0, std::nan(""), 0, 0, 0}, t0));
  EXPECT_TRUE(rt.report_load("a", base::load_report{0, 0, 0, HUGE_VAL, 0, 0}, t0));
  EXPECT_TRUE(rt.record_call("zz", call_outcome::error, t0));
  EXPECT_TRUE(rt.record_call("a", call_outcome::ok, t0, -5ms));
  EXPECT_TRUE(rt.record_verification("zz", "", true));
  EXPECT_FALSE(rt.learned_accuracy("zz", ""));
  auto q = req();
  q.fallback = {"ghost"};
  EXPECT_FALSE(rt.choose(q, t0).ok());
  q = req();
  q.policy = weights(std::nan(""), 0, 0);
  EXPECT_FALSE(rt.choose(q, t0).ok());
  // An empty router answers with an error, not a crash.
  router none = make({});
  EXPECT_FALSE(none.choose(req(), t0).ok());
}

TEST(router_report, json_and_explain_carry_the_scores) {
  router rt = make({mk("smollm", 0.45, 0, 300, {"general"}), mk("analyst", 0.85, 0.6, 500),
                    mk("expert", 0.93, 10, 6000)},
                   weights(0.1, 0.8, 0.1));
  auto q = req();
  q.step = "answer";
  q.exclude = {"expert"};
  const auto d = decide(rt, q);
  EXPECT_EQ(explain(d), "answer -> smollm (u=0.940; analyst 0.929 [cost], expert excluded: tried)");

  const value j = to_json(d);
  EXPECT_EQ(j["step"], "answer");
  EXPECT_EQ(j["chosen"], value::array({"smollm"}));
  EXPECT_EQ(j["tier"], "primary");
  EXPECT_DOUBLE_EQ(j["weights"]["cost"].get<double>(), 0.8);
  ASSERT_EQ(j["scores"].size(), 3u);
  const value& analyst = j["scores"][1];
  EXPECT_EQ(analyst["model"], "analyst");
  EXPECT_DOUBLE_EQ(analyst["normalized_cost"].get<double>(), 0.06);
  EXPECT_NEAR(analyst["utility"].get<double>(), 0.085 + 0.8 * 0.94 + 0.1 * (1 - 500.0 / 6000), 1e-12);
  EXPECT_EQ(analyst["chosen"], false);
  EXPECT_EQ(analyst["reason"], "lower utility (cost)");
  EXPECT_EQ(j["scores"][2]["reason"], "excluded: tried");
  EXPECT_EQ(j["scores"][0]["chosen"], true);
  EXPECT_NO_THROW((void)j.dump());

  // A cooling fallback pick and a top-2 read naturally too.
  router_options o;
  o.failures_to_cool = 1;
  router fb = make({mk("p", 0.9, 0, 100, {"x"}), mk("f", 0.5, 0, 100, {"y"})},
                   weights(1, 0, 0), o);
  ASSERT_FALSE(fb.record_call("p", call_outcome::timeout, t0));
  q = req("x");
  q.step = "draft";
  q.fallback = {"f"};
  EXPECT_EQ(explain(decide(fb, q, t0 + 7500ms)),
            "draft -> f via fallback (u=0.500; p cooldown until +22.5s)");
}

TEST(router_report, snapshot_has_counters_learning_and_load) {
  router rt = make({mk("a", 0.6, 0, 100), mk("b", 0.5, 0, 100)});
  (void)decide(rt, req());
  (void)decide(rt, req("", 2));
  ASSERT_FALSE(rt.record_call("a", call_outcome::error, t0));
  ASSERT_FALSE(rt.record_call("a", call_outcome::ok, t0, 40ms));
  ASSERT_FALSE(rt.record_verification("a", "math", true));
  ASSERT_FALSE(rt.report_load("b", base::load_report{2, 1, 0.5, 3, 0, 0}, t0 - 6s));
  const value s = rt.snapshot(t0);
  EXPECT_EQ(s["models"]["a"]["routed"], 2);
  EXPECT_EQ(s["models"]["b"]["routed"], 1);
  EXPECT_EQ(s["models"]["a"]["failures"], 1);
  EXPECT_EQ(s["models"]["a"]["consecutive_failures"], 0);
  EXPECT_DOUBLE_EQ(s["models"]["a"]["learned_accuracy"]["math"].get<double>(), 0.68);
  EXPECT_DOUBLE_EQ(s["models"]["a"]["service_ms"].get<double>(), 40);
  EXPECT_EQ(s["models"]["b"]["load"]["queued"], 2);
  EXPECT_EQ(s["models"]["b"]["load"]["running"], 1);
  EXPECT_EQ(s["models"]["b"]["load"]["stale"], true);
  EXPECT_TRUE(s["models"]["b"]["cooldown_left_ms"].is_null());
  EXPECT_EQ(s["load_aware"], true);
}

TEST(router_front_end, compiled_workflow_feeds_the_router) {
  const std::string wf = R"(model small {
  backend: gguf("small.gguf")
  domains: ["general"]
  accuracy: 0.5
  latency: 100ms
}

model mid {
  backend: gguf("mid.gguf")
  domains: ["general"]
  accuracy: 0.7
  cost: 0.5
  latency: 400ms
}

model big {
  backend: openai("https://example.com/v1", model: "big")
  accuracy: 0.95
  cost: 5
  latency: 3s
}

router {
  weights {
    accuracy: 0.2
    cost: 0.6
    latency: 0.2
  }
  load_aware: false
}

workflow cheap {
  input q: text

  llm draft {
    prompt: "{{q}}"
    domain: "general"
    fallback: big
  }

  llm vote {
    prompt: "{{q}}"
    domain: "general"
    verify {
      agree: 2 of 2
    }
  }

  output o: text = draft + vote
}

workflow careful {
  router {
    weights {
      accuracy: 1
      cost: 0
      latency: 0
    }
  }
  input q: text

  llm answer {
    prompt: "{{q}}"
    domain: "general"
  }

  output o: text = answer
}
)";
  const auto c = dsl::compile_source("router.wf", wf);
  ASSERT_TRUE(c->ok()) << c->report();
  const auto& g = c->checked->graph();
  auto made = router::create(*c->checked);
  ASSERT_TRUE(made.ok()) << made.error().message;
  router rt = std::move(made).value();
  EXPECT_FALSE(rt.policy().load_aware);

  const auto* cheap = g.find_workflow("cheap");
  const auto* careful = g.find_workflow("careful");
  ASSERT_TRUE(cheap && careful);

  auto draft = route_request_for(*cheap, *cheap->find_step("draft"));
  EXPECT_EQ(draft.fallback, names{"big"});
  EXPECT_EQ(draft.max_tokens, 256);
  auto d = decide(rt, draft);
  EXPECT_EQ(d.chosen, names{"small"});
  EXPECT_NEAR(score_of(d, "small").utility, 0.1 + 0.6 + 0.2 * (1 - 100.0 / 3000), 1e-12);
  EXPECT_NEAR(score_of(d, "mid").utility, 0.14 + 0.6 * 0.9 + 0.2 * (1 - 400.0 / 3000), 1e-12);
  // big serves every domain (it declares none), so escalation reaches it.
  draft.exclude = {"small", "mid"};
  EXPECT_EQ(decide(rt, draft).chosen, names{"big"});

  const auto vote = route_request_for(*cheap, *cheap->find_step("vote"));
  EXPECT_EQ(vote.n, 2);
  EXPECT_EQ(decide(rt, vote).chosen, (names{"small", "mid"}));

  const auto answer = route_request_for(*careful, *careful->find_step("answer"));
  ASSERT_TRUE(answer.policy);
  d = decide(rt, answer);
  EXPECT_EQ(d.chosen, names{"big"});
  EXPECT_EQ(d.weight_accuracy, 1);
}

} // namespace
} // namespace troupe::runtime
