// The step policy as a table: each row is one rule of docs/architecture.md
// ("Retries and escalation", "Plan steps", "Agreement"), a step of a real
// workflow compiled by the front end, the outcomes fed to it, and the
// actions and journal events it must answer with. Focused tests below pin
// what the table cannot show in one line (exclusions, attempt numbers,
// seeds, the cache, what the router learns, stale answers).
#include "runtime/step_attempts.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

const char* models = R"(
model a {
  backend: gguf("a.gguf")
  domains: ["qa"]
  accuracy: 0.9
}
model b {
  backend: gguf("b.gguf")
  domains: ["qa"]
  accuracy: 0.6
}
model c {
  backend: gguf("c.gguf")
  domains: ["qa"]
  accuracy: 0.5
}
)";

// One outcome fed to the policy.
struct feed {
  enum kind_t { routed, route_error, answer, verdicts, agreement, plan_run } kind;
  std::vector<std::string> names; ///< routed: chosen models.
  std::string model;              ///< answer
  bool ok = true;                 ///< answer, agreement (reached), plan_run
  std::string text;               ///< answer: output JSON or error; errors
  bool retryable = true;          ///< answer
  std::vector<bool> passed;       ///< verdicts
  std::vector<uint32_t> group;    ///< agreement
};

feed make(feed::kind_t k) {
  feed f{};
  f.kind = k;
  return f;
}
feed routed(std::vector<std::string> chosen) {
  auto f = make(feed::routed);
  f.names = std::move(chosen);
  return f;
}
feed route_error(std::string why) {
  auto f = make(feed::route_error);
  f.text = std::move(why);
  return f;
}
feed answer(std::string model, std::string json) {
  auto f = make(feed::answer);
  f.model = std::move(model);
  f.text = std::move(json);
  return f;
}
feed call_error(std::string model, std::string why, bool retryable = true) {
  auto f = answer(std::move(model), std::move(why));
  f.ok = false;
  f.retryable = retryable;
  return f;
}
feed verdicts(std::vector<bool> passed) {
  auto f = make(feed::verdicts);
  f.passed = std::move(passed);
  return f;
}
feed agreed(std::vector<uint32_t> group) {
  auto f = make(feed::agreement);
  f.group = std::move(group);
  return f;
}
feed disagreed() {
  auto f = make(feed::agreement);
  f.ok = false;
  return f;
}
feed plan_ran(std::string result_json) {
  auto f = make(feed::plan_run);
  f.text = std::move(result_json);
  return f;
}
feed plan_failed(std::string why) {
  auto f = plan_ran(std::move(why));
  f.ok = false;
  return f;
}

const char* kind_name(step_action::kind_t k) {
  switch (k) {
    case step_action::wait: return "wait";
    case step_action::route: return "route";
    case step_action::send_jobs: return "send";
    case step_action::verify: return "verify";
    case step_action::agree: return "agree";
    case step_action::run_plan: return "run_plan";
    case step_action::finished: return "finished";
    case step_action::failed: return "failed";
  }
  return "?";
}

// A workflow `t` with one step `s` written to a real file (plans import it),
// its task, and a policy over it that records what it journals and teaches.
class harness {
public:
  harness(const std::string& step, const std::string& output_type, result_cache* cache = nullptr) {
    dir_ = fs::temp_directory_path() / ("troupe-steps-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto path = dir_ / "main.wf";
    std::ofstream(path) << models << "workflow t {\n" << step << "\n  output o: " << output_type
                        << " = s\n}\n";
    env_.program = dsl::compile_file(path.string());
    if (!env_.program->ok())
      throw std::runtime_error("does not compile:\n" + env_.program->report());
    env_.cache = cache;
    env_.now_us = [] { return int64_t(1000); };
    env_.journal = [this](run_event e) {
      events_ += (events_.empty() ? "" : " ") + run_event_name(e);
      log_.push_back(std::move(e));
    };
    env_.learn = [this](const call_report& r) { learned_.push_back(r); };
    run_ = std::move(workflow_run::start(*env_.program->checked, "t", value::object())).value();
    auto ready = run_->take_ready();
    if (ready.size() != 1)
      throw std::runtime_error("expected one ready task");
    steps_ = std::make_unique<step_attempts>(std::move(ready.front()), env_);
  }

  step_action begin() { return note(steps_->begin()); }

  step_action apply(const feed& f) {
    const auto serial = steps_->serial();
    switch (f.kind) {
      case feed::routed:
        return note(steps_->on_routed(
          serial, route_reply{true, f.names, value{{"chosen", f.names}}.dump(), "explained", ""}));
      case feed::route_error:
        return note(steps_->on_routed(serial, route_reply{false, {}, "", "", f.text}));
      case feed::answer: {
        step_record r;
        r.key = "s";
        r.ok = f.ok;
        r.model = f.model;
        r.node = "n1";
        (f.ok ? r.output_json : r.error) = f.text;
        r.retryable = f.retryable;
        r.started_us = 1000;
        r.finished_us = 3000;
        return note(steps_->on_answer(serial, std::move(r)));
      }
      case feed::verdicts: {
        std::vector<verdict> vs;
        for (bool p : f.passed) {
          verdict v;
          v.passed = p;
          if (!p)
            v.failures = {"regex did not match"};
          vs.push_back(v);
        }
        return note(steps_->on_verified(serial, vs));
      }
      case feed::agreement:
        return note(steps_->on_agreement(serial, f.ok, f.group));
      case feed::plan_run:
        return note(steps_->on_plan_run(
          serial, f.ok ? run_outcome{true, value{{"result", value::parse(f.text)}}, {}}
                       : run_outcome{false, {}, {f.text}}));
    }
    return {};
  }

  step_attempts& steps() { return *steps_; }
  const std::string& actions() const { return actions_; }
  const std::string& events() const { return events_; }
  const std::vector<run_event>& log() const { return log_; }
  const std::vector<call_report>& learned() const { return learned_; }
  const step_action& last() const { return last_; }

private:
  step_action note(step_action a) {
    actions_ += (actions_.empty() ? "" : " ") + std::string(kind_name(a.kind));
    last_ = a;
    return a;
  }

  fs::path dir_;
  step_env env_;
  std::unique_ptr<workflow_run> run_;
  std::unique_ptr<step_attempts> steps_;
  std::string actions_, events_;
  std::vector<run_event> log_;
  std::vector<call_report> learned_;
  step_action last_;
};

struct rule_row {
  const char* rule;
  const char* step;
  const char* output_type;
  std::vector<feed> feeds;
  const char* actions; ///< After begin() and after each feed.
  const char* events;  ///< What the policy journals, in order.
  const char* detail;  ///< In the final error, or in the finished output's JSON.
};

const char* verified_llm = R"(  llm s {
    prompt: "Capital of France?"
    domain: "qa"
    retries: 1
    verify {
      regex: "(?i)paris"
    }
  })";

const std::vector<rule_row>& rule_table() {
  static const std::vector<rule_row> rows = {
    {"a tool runs once and finishes",
     "  tool s {\n    use: template\n    args {\n      text: \"hi\"\n    }\n  }", "text",
     {answer("", "\"hi\"")}, "send finished", "", "\"hi\""},
    {"a retryable tool error runs the tool again",
     "  tool s {\n    use: http_get\n    retries: 1\n    args {\n      url: \"http://127.0.0.1:1/\"\n    }\n  }",
     "text", {call_error("", "connection refused"), answer("", "\"page\"")},
     "send send finished", "attempt_failed", "\"page\""},
    {"a tool error that will repeat is final, retries left or not",
     "  tool s {\n    use: read_file\n    retries: 3\n    args {\n      path: \"missing.txt\"\n    }\n  }",
     "text", {call_error("", "no such file", false)}, "send failed", "attempt_failed step_failed",
     "1 attempt failed; #1 call: no such file"},
    {"an answer that fails verification escalates to the next model",
     verified_llm, "text",
     {routed({"a"}), answer("a", "\"Lyon\""), verdicts({false}), routed({"b"}),
      answer("b", "\"Paris\""), verdicts({true})},
     "route send verify route send verify finished", "route attempt_failed route", "\"Paris\""},
    {"spent attempts fail the task with every attempt",
     verified_llm, "text",
     {routed({"a"}), answer("a", "\"Lyon\""), verdicts({false}), routed({"b"}),
      answer("b", "\"Rome\""), verdicts({false})},
     "route send verify route send verify failed",
     "route attempt_failed route attempt_failed step_failed",
     "2 attempts failed; #1 (a) verify: regex did not match; #2 (b) verify: regex did not match"},
    {"no model left after a verify failure: no other model to escalate to",
     verified_llm, "text",
     {routed({"a"}), answer("a", "\"Lyon\""), verdicts({false}), route_error("none usable")},
     "route send verify route failed", "route attempt_failed step_failed",
     "1 attempt failed; #1 (a) verify: regex did not match; no other model to escalate to"},
    {"no model left after a call error: the same models again",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    retries: 2\n  }", "text",
     {routed({"a"}), call_error("a", "HTTP 503"), route_error("none usable"), routed({"a"}),
      answer("a", "\"ok\"")},
     "route send route route send finished",
     "route attempt_failed retry_same_models route", "\"ok\""},
    {"the router has nothing at all: the router's reason",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n  }", "text", {route_error("no model serves 'qa'")},
     "route failed", "step_failed", "no model serves 'qa'"},
    {"overload degrades an interactive step without spending an attempt",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n  }", "text",
     {routed({"a"}), call_error("a", "overloaded: queue full"), routed({"b"}), answer("b", "\"ok\"")},
     "route send route send finished", "route degraded route", "\"ok\""},
    {"overload sheds a batch step",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    priority: batch\n    retries: 3\n  }", "text",
     {routed({"a"}), call_error("a", "overloaded: queue full")}, "route send failed",
     "route step_failed", "refused under load (batch steps are shed"},
    {"every model refusing under load fails with that reason",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n  }", "text",
     {routed({"a"}), call_error("a", "overloaded: full"), route_error("none usable")},
     "route send route failed", "route degraded step_failed", "refused under load by a, and none usable"},
    {"k of n: the agreeing group's first answer is the result",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    verify {\n      agree: 2 of 3\n    }\n  }",
     "text",
     {routed({"a", "b", "c"}), answer("c", "\"paris\""), answer("a", "\"Lyon\""),
      answer("b", "\"Paris\""), agreed({1, 2})},
     "route send wait wait agree finished", "route", "\"Paris\""},
    {"k of n: too few answers fail the attempt",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    verify {\n      agree: 2 of 2\n    }\n  }",
     "text", {routed({"a", "b"}), answer("a", "\"x\""), call_error("b", "HTTP 500")},
     "route send wait failed", "route attempt_failed step_failed",
     "1 of 2 answers arrived, 2 must agree: HTTP 500"},
    {"k of n: no agreement fails the attempt",
     "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    verify {\n      agree: 2 of 2\n    }\n  }",
     "text", {routed({"a", "b"}), answer("a", "\"x\""), answer("b", "\"y\""), disagreed()},
     "route send wait agree failed", "route attempt_failed step_failed", "no 2 of 2 answers agree"},
    {"a plan that checks runs, and its result is the step's",
     "  plan s {\n    goal: \"g\"\n    domain: \"qa\"\n  }", "json",
     {routed({"a"}),
      answer("a", R"({"steps": [{"name": "only", "kind": "tool", "use": "template", "args": {"text": "X"}}], "output": "only"})"),
      plan_ran("\"X\"")},
     "route send run_plan finished", "route plan_accepted", "\"result\":\"X\""},
    {"a plan that does not check fails the attempt (phase plan)",
     "  plan s {\n    goal: \"g\"\n    domain: \"qa\"\n  }", "json",
     {routed({"a"}), answer("a", R"({"steps": [{"name": "x", "kind": "llm", "prompt": "{{nowhere}}"}], "output": "x"})")},
     "route send failed", "route attempt_failed step_failed", "plan: the plan does not check"},
    {"a plan whose steps fail fails the attempt (phase plan_run)",
     "  plan s {\n    goal: \"g\"\n    domain: \"qa\"\n  }", "json",
     {routed({"a"}),
      answer("a", R"({"steps": [{"name": "only", "kind": "tool", "use": "template", "args": {"text": "X"}}], "output": "only"})"),
      plan_failed("only: boom")},
     "route send run_plan failed", "route plan_accepted attempt_failed step_failed",
     "plan_run: the plan's run failed: only: boom"},
    {"candidates: the best checking plan runs",
     "  plan s {\n    goal: \"g\"\n    domain: \"qa\"\n    candidates: 3\n  }", "json",
     {routed({"a"}), answer("a", R"({"steps": [{"name": "x", "kind": "tool", "use": "nope"}]})"),
      answer("a", R"({"steps": [{"name": "good", "kind": "tool", "use": "template", "args": {"text": "G"}}], "output": "good"})"),
      answer("a", R"({"steps": [{"name": "x", "kind": "llm", "prompt": "{{nowhere}}"}], "output": "x"})"),
      plan_ran("\"G\"")},
     "route send wait wait run_plan finished", "route plan_candidates plan_accepted",
     "\"result\":\"G\""},
    {"candidates: verified plans outscore plans that only check",
     "  plan s {\n    goal: \"g\"\n    domain: \"qa\"\n    candidates: 2\n    verify {\n      json\n    }\n  }",
     "json",
     {routed({"a"}),
      answer("a", R"({"steps": [{"name": "one", "kind": "tool", "use": "template", "args": {"text": "1"}}], "output": "one"})"),
      answer("a", R"({"steps": [{"name": "two", "kind": "tool", "use": "template", "args": {"text": "2"}}], "output": "two"})"),
      verdicts({false, true}), plan_ran("\"2\"")},
     "route send wait verify run_plan finished", "route plan_candidates plan_accepted",
     "\"name\":\"two\""},
    {"candidates: none checking fails the attempt",
     "  plan s {\n    goal: \"g\"\n    domain: \"qa\"\n    candidates: 2\n  }", "json",
     {routed({"a"}), answer("a", R"({"steps": []})"), answer("a", R"({"steps": [{"name": "x", "kind": "tool", "use": "nope"}]})")},
     "route send wait failed", "route plan_candidates attempt_failed step_failed",
     "none of the 2 candidate plans checks"},
  };
  return rows;
}

TEST(step_attempts_rules, every_rule_row_holds) {
  for (const auto& row : rule_table()) {
    SCOPED_TRACE(row.rule);
    harness h(row.step, row.output_type);
    h.begin();
    for (const auto& f : row.feeds) h.apply(f);
    EXPECT_EQ(row.actions, h.actions());
    EXPECT_EQ(row.events, h.events());
    const auto& last = h.last();
    const std::string detail =
      last.kind == step_action::failed ? last.error : last.output.dump();
    EXPECT_NE(std::string::npos, detail.find(row.detail)) << detail;
  }
}

TEST(step_attempts, escalation_excludes_the_models_tried) {
  harness h(verified_llm, "text");
  auto first = h.begin();
  EXPECT_TRUE(first.request.exclude.empty());
  EXPECT_EQ("s", first.request.step);
  EXPECT_EQ("qa", first.request.domain);
  h.apply(routed({"a"}));
  h.apply(answer("a", "\"Lyon\""));
  auto next = h.apply(verdicts({false}));
  ASSERT_EQ(step_action::route, next.kind);
  EXPECT_EQ(std::set<std::string>{"a"}, next.request.exclude);
  EXPECT_EQ(2u, h.steps().attempt());
}

TEST(step_attempts, degraded_and_same_model_retries_keep_the_attempt_number) {
  harness h("  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    retries: 1\n  }", "text");
  h.begin();
  h.apply(routed({"a"}));
  auto degraded = h.apply(call_error("a", "overloaded: full"));
  EXPECT_EQ(1u, h.steps().attempt());
  EXPECT_EQ(std::set<std::string>{"a"}, degraded.request.exclude);
  h.apply(routed({"b"}));
  h.apply(call_error("b", "HTTP 500")); // Attempt 1 fails: attempt 2 excludes a and b.
  EXPECT_EQ(2u, h.steps().attempt());
  auto again = h.apply(route_error("none usable"));
  ASSERT_EQ(step_action::route, again.kind);
  EXPECT_EQ(2u, h.steps().attempt());
  EXPECT_TRUE(again.request.exclude.empty());
  const auto& retry = std::get<ev_retry_same_models>(h.log().back());
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), retry.models);
}

TEST(step_attempts, agreement_of_a_pinned_model_samples_it_with_seeds) {
  harness h("  llm s {\n    model: a\n    prompt: \"q\"\n    temperature: 0.5\n    verify {\n"
            "      agree: 2 of 3\n    }\n  }",
            "text");
  auto route = h.begin();
  EXPECT_EQ(std::optional<std::string>("a"), route.request.pinned);
  EXPECT_EQ(1, route.request.n);
  auto jobs = h.apply(routed({"a"}));
  ASSERT_EQ(step_action::send_jobs, jobs.kind);
  ASSERT_EQ(3u, jobs.jobs.size());
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ("a", jobs.jobs[i].model);
    EXPECT_EQ(i, jobs.jobs[i].seed);
    EXPECT_EQ(0.5, jobs.jobs[i].temperature);
  }
}

TEST(step_attempts, plan_candidates_are_sampled_and_plans_ask_for_json) {
  harness h("  plan s {\n    goal: \"write a poem\"\n    domain: \"qa\"\n    candidates: 2\n  }",
            "json");
  h.begin();
  auto jobs = h.apply(routed({"b"}));
  ASSERT_EQ(2u, jobs.jobs.size());
  EXPECT_GE(jobs.jobs[0].temperature, 0.7);
  EXPECT_TRUE(jobs.jobs[1].json_output);
  EXPECT_NE(std::string::npos, jobs.jobs[0].prompt.find("write a poem"));
  EXPECT_NE(jobs.jobs[0].prompt, "write a poem"); // Wrapped in the plan instructions.
}

TEST(step_attempts, the_router_learns_from_calls_and_verdicts) {
  harness h(verified_llm, "text");
  h.begin();
  h.apply(routed({"a"}));
  h.apply(call_error("a", "request timed out after 5 s"));
  h.apply(routed({"b"}));
  h.apply(answer("b", "\"Paris\""));
  h.apply(verdicts({true}));
  ASSERT_EQ(2u, h.learned().size());
  EXPECT_EQ("a", h.learned()[0].model);
  EXPECT_EQ(call_outcome::timeout, h.learned()[0].outcome);
  EXPECT_EQ("b", h.learned()[1].model);
  EXPECT_EQ(call_outcome::ok, h.learned()[1].outcome);
  EXPECT_TRUE(h.learned()[1].verified);
  EXPECT_EQ("qa", h.learned()[1].domain);
  EXPECT_EQ(2.0, h.learned()[1].elapsed_ms);
}

TEST(step_attempts, answers_of_an_older_attempt_are_ignored) {
  harness h(verified_llm, "text");
  h.begin();
  const auto old = h.steps().serial();
  h.apply(routed({"a"}));
  h.apply(answer("a", "\"Lyon\""));
  h.apply(verdicts({false}));
  step_record late;
  late.ok = true;
  late.model = "a";
  late.output_json = "\"Paris\"";
  EXPECT_EQ(step_action::wait, h.steps().on_answer(old, late).kind);
  verdict pass;
  pass.passed = true;
  EXPECT_EQ(step_action::wait, h.steps().on_verified(old, {pass}).kind);
}

TEST(step_attempts, finished_records_say_what_resume_needs) {
  harness tool("  tool s {\n    use: template\n    args {\n      text: \"hi\"\n    }\n  }", "text");
  tool.begin();
  auto done = tool.apply(answer("", "\"hi\""));
  EXPECT_FALSE(done.wait_for_disk); // A pure tool is recomputed on resume.
  EXPECT_FALSE(done.record.model);
  EXPECT_FALSE(done.record.verified);
  EXPECT_EQ("s", done.record.step);
  EXPECT_EQ(-1, done.record.index);

  harness llm(verified_llm, "text");
  llm.begin();
  llm.apply(routed({"a"}));
  llm.apply(answer("a", "\"Paris\""));
  auto verified = llm.apply(verdicts({true}));
  EXPECT_TRUE(verified.wait_for_disk);
  EXPECT_EQ(std::optional<bool>(true), verified.record.verified);
  EXPECT_EQ(std::optional<std::string>("a"), verified.record.model);
  EXPECT_EQ(std::optional<std::string>("Capital of France?"), verified.record.prompt);
  EXPECT_EQ(2.0, verified.record.elapsed_ms);
}

TEST(step_attempts, a_cached_result_is_reused_for_the_same_model_and_prompt) {
  result_cache cache;
  const char* step = "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    cache: 1h\n  }";
  {
    harness first(step, "text", &cache);
    first.begin();
    first.apply(routed({"a"}));
    EXPECT_EQ(step_action::finished, first.apply(answer("a", "\"cached\"")).kind);
  }
  harness second(step, "text", &cache);
  second.begin();
  auto hit = second.apply(routed({"a"}));
  ASSERT_EQ(step_action::finished, hit.kind);
  EXPECT_EQ("cached", hit.output);
  EXPECT_EQ("cache", hit.record.node);
  EXPECT_EQ("route cache_hit", second.events());
  harness other_model(step, "text", &cache);
  other_model.begin();
  EXPECT_EQ(step_action::send_jobs, other_model.apply(routed({"b"})).kind);
}

TEST(step_attempts, agreement_bypasses_the_cache) {
  result_cache cache;
  const char* step = "  llm s {\n    prompt: \"q\"\n    domain: \"qa\"\n    cache: 1h\n"
                     "    verify {\n      agree: 2 of 2\n    }\n  }";
  harness h(step, "text", &cache);
  h.begin();
  h.apply(routed({"a", "b"}));
  h.apply(answer("a", "\"x\""));
  h.apply(answer("b", "\"x\""));
  EXPECT_EQ(step_action::finished, h.apply(agreed({0, 1})).kind);
  EXPECT_EQ(0u, cache.counters().admissions);
}

} // namespace
} // namespace troupe::runtime
