// The scheduler core on workflows compiled by the real front end: readiness
// and concurrency, fan-out and fan-in, conditions, called workflows,
// restoring results of an earlier run, failures, and input binding.
#include "dsl/compile.hpp"
#include "runtime/workflow_run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace troupe::runtime {
namespace {

const char* models = R"(
model small {
  backend: gguf("stories260K.gguf")
}
)";

std::unique_ptr<dsl::compilation> compile(const std::string& body) {
  auto c = dsl::compile_source("test.wf", std::string(models) + body);
  EXPECT_TRUE(c->ok()) << c->report();
  return c;
}

std::unique_ptr<workflow_run> start(const dsl::compilation& c, const std::string& wf,
                                    value given = value::object(),
                                    std::map<std::string, value> restored = {}) {
  const auto* w = c.checked->graph().find_workflow(wf);
  auto inputs = bind_inputs(*w, given);
  EXPECT_TRUE(inputs);
  auto run = workflow_run::start(*c.checked, wf, inputs.value(), std::move(restored));
  EXPECT_TRUE(run) << run.error().message;
  return std::move(run).value();
}

std::vector<std::string> keys(const std::vector<task>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(t.key);
  return out;
}

using strings = std::vector<std::string>;

TEST(workflow_run, independent_steps_are_ready_together_and_joins_wait) {
  auto c = compile(R"(
workflow hello {
  input hero: text = "Lily"
  llm a {
    prompt: "Once upon a time, {{hero}}"
  }
  llm b {
    prompt: "{{hero}} went to the park"
    system: "Be brief."
  }
  tool both {
    use: template
    args {
      text: "{{a}} / {{b}}"
    }
  }
  output o: text = both
  output n: number = len(a)
}
)");
  auto run = start(*c, "hello");
  auto ready = run->take_ready();
  ASSERT_EQ((strings{"a", "b"}), keys(ready));
  EXPECT_EQ("Once upon a time, Lily", ready[0].prompt);
  EXPECT_EQ("Be brief.", ready[1].system);
  EXPECT_EQ(2u, run->in_flight());
  run->complete("b", "B!");
  EXPECT_TRUE(run->take_ready().empty()) << "the join must wait for both";
  run->complete("a", "A!");
  ready = run->take_ready();
  ASSERT_EQ((strings{"both"}), keys(ready));
  EXPECT_EQ("A! / B!", ready[0].args["text"]);
  EXPECT_FALSE(run->finished());
  run->complete("both", ready[0].args["text"]);
  ASSERT_TRUE(run->finished());
  auto out = run->outputs();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ("A! / B!", out.value()["o"]);
  EXPECT_EQ(2, out.value()["n"]);
}

TEST(workflow_run, fan_out_runs_each_element_and_fans_in_in_order) {
  auto c = compile(R"(
workflow fan {
  input topics: list<text> = ["cats", "dogs", "owls"]
  llm about for t in topics {
    prompt: "Tell me about {{t}}"
  }
  output all: text = join(about, ",")
  output n: number = len(about)
}
)");
  auto run = start(*c, "fan");
  auto ready = run->take_ready();
  ASSERT_EQ((strings{"about[0]", "about[1]", "about[2]"}), keys(ready));
  EXPECT_EQ("Tell me about owls", ready[2].prompt);
  EXPECT_EQ("owls", ready[2].loop_value);
  run->complete("about[2]", "O");
  run->complete("about[0]", "C");
  run->complete("about[1]", "D");
  ASSERT_TRUE(run->finished());
  auto out = run->outputs();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ("C,D,O", out.value()["all"]);
  EXPECT_EQ(3, out.value()["n"]);

  auto empty = start(*c, "fan", {{"topics", value::array()}});
  EXPECT_TRUE(empty->take_ready().empty());
  ASSERT_TRUE(empty->finished());
  EXPECT_EQ(0, empty->outputs().value()["n"]);
  auto notes = empty->take_notes();
  ASSERT_EQ(1u, notes.size());
  EXPECT_EQ(ev_step_note::empty, notes[0].kind);
}

TEST(workflow_run, when_skips_a_step_and_outputs_take_the_default) {
  auto c = compile(R"(
workflow triage {
  input hard: bool
  llm quick {
    when: not hard
    prompt: "quick"
  }
  llm deep {
    when: hard
    prompt: "deep"
  }
  output answer: text = quick ?? deep ?? "none"
}
)");
  auto run = start(*c, "triage", {{"hard", true}});
  auto ready = run->take_ready();
  ASSERT_EQ((strings{"deep"}), keys(ready));
  auto notes = run->take_notes();
  ASSERT_EQ(1u, notes.size());
  EXPECT_EQ(ev_step_note::skipped, notes[0].kind);
  EXPECT_EQ("quick", notes[0].key);
  run->complete("deep", "thorough");
  ASSERT_TRUE(run->finished());
  EXPECT_EQ("thorough", run->outputs().value()["answer"]);
}

TEST(workflow_run, when_under_for_filters_elements) {
  auto c = compile(R"(
workflow pick {
  input xs: list<number> = [1, 5, 2, 7]
  llm big for x in xs {
    when: x > 3
    prompt: "{{x}}"
  }
  output o: list<text> = big ?? []
}
)");
  auto run = start(*c, "pick");
  auto ready = run->take_ready();
  ASSERT_EQ((strings{"big[1]", "big[3]"}), keys(ready));
  EXPECT_EQ("5", ready[0].prompt);
  run->complete("big[1]", "five");
  run->complete("big[3]", "seven");
  EXPECT_EQ((value{"five", "seven"}), run->outputs().value()["o"]);
}

TEST(workflow_run, called_workflows_run_their_steps_under_the_call_key) {
  auto c = compile(R"(
workflow describe {
  input topic: text
  llm s {
    prompt: "Describe {{topic}}."
  }
  output summary: text = s
}

workflow main {
  input animals: list<text> = ["cat", "dog"]
  call one {
    use: describe
    args {
      topic: "owls"
    }
  }
  call each for a in animals {
    use: describe
    args {
      topic: a
    }
  }
  output o: text = one.summary
  output n: number = len(each)
}
)");
  auto run = start(*c, "main");
  auto ready = run->take_ready();
  ASSERT_EQ((strings{"one/s", "each[0]/s", "each[1]/s"}), keys(ready));
  EXPECT_EQ("Describe dog.", ready[2].prompt);
  for (const auto& t : ready)
    run->complete(t.key, "about " + t.prompt);
  ASSERT_TRUE(run->finished());
  auto out = run->outputs();
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ("about Describe owls.", out.value()["o"]);
  EXPECT_EQ(2, out.value()["n"]);
}

TEST(workflow_run, restored_results_are_not_handed_out_again) {
  auto c = compile(R"(
workflow chain {
  llm a {
    prompt: "a"
  }
  llm b {
    prompt: "after {{a}}"
  }
  llm c {
    prompt: "c"
  }
  output o: text = b + c
}
)");
  auto run = start(*c, "chain", value::object(), {{"a", "A"}, {"c", "C"}});
  auto ready = run->take_ready();
  ASSERT_EQ((strings{"b"}), keys(ready));
  EXPECT_EQ("after A", ready[0].prompt);
  std::set<std::string> restored;
  for (const auto& n : run->take_notes())
    if (n.kind == ev_step_note::reused)
      restored.insert(n.key);
  EXPECT_EQ((std::set<std::string>{"a", "c"}), restored);
  run->complete("b", "B");
  EXPECT_EQ("BC", run->outputs().value()["o"]);
}

TEST(workflow_run, a_long_restored_chain_does_not_recurse) {
  std::string body = "workflow long {\n  llm s0 {\n    prompt: \"x\"\n  }\n";
  const int n = 3000;
  std::map<std::string, value> restored;
  for (int i = 1; i < n; ++i)
    body += "  llm s" + std::to_string(i) + " {\n    prompt: \"{{s" + std::to_string(i - 1)
            + "}}\"\n  }\n";
  body += "  output o: text = s" + std::to_string(n - 1) + "\n}\n";
  for (int i = 0; i < n - 1; ++i)
    restored["s" + std::to_string(i)] = "v";
  auto c = compile(body);
  auto run = start(*c, "long", value::object(), restored);
  auto ready = run->take_ready();
  ASSERT_EQ((strings{"s" + std::to_string(n - 1)}), keys(ready));
}

TEST(workflow_run, a_failure_stops_dependents_but_not_independent_steps) {
  auto c = compile(R"(
workflow f {
  llm a {
    prompt: "a"
  }
  llm b {
    prompt: "{{a}}"
  }
  llm c {
    prompt: "c"
  }
  output o: text = b + c
}
)");
  auto run = start(*c, "f");
  ASSERT_EQ((strings{"a", "c"}), keys(run->take_ready()));
  run->fail("a", "model exploded");
  EXPECT_TRUE(run->take_ready().empty());
  EXPECT_FALSE(run->finished());
  run->complete("c", "C");
  ASSERT_TRUE(run->finished());
  EXPECT_EQ(1u, run->completed().count("c"));
  auto out = run->outputs();
  ASSERT_FALSE(out);
  EXPECT_NE(std::string::npos, out.error().message.find("a: model exploded"))
      << out.error().message;
}

TEST(workflow_run, run_time_expression_faults_fail_the_step) {
  auto c = compile(R"(
workflow f {
  llm j {
    prompt: "json please"
    format: json
  }
  llm k {
    prompt: "{{j[5]}}"
  }
  output o: text = k
}
)");
  auto run = start(*c, "f");
  ASSERT_EQ((strings{"j"}), keys(run->take_ready()));
  run->complete("j", value::array({1, 2}));
  EXPECT_TRUE(run->take_ready().empty());
  ASSERT_TRUE(run->finished());
  ASSERT_EQ(1u, run->failures().size());
  EXPECT_EQ("k", run->failures()[0].first);
}

TEST(workflow_run, inputs_are_bound_and_checked) {
  auto c = compile(R"(
workflow w {
  input topic: text
  input count: number = 3
  input tags: list<text> = []
  llm s {
    prompt: "{{topic}} {{count}} {{join(tags, ',')}}"
  }
  output o: text = s
}
)");
  const auto& wf = *c->checked->graph().find_workflow("w");
  auto ok = bind_inputs(wf, {{"topic", "owls"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(3, ok.value()["count"]);
  EXPECT_EQ(value::array(), ok.value()["tags"]);
  auto bad = bind_inputs(wf, {{"topik", "owls"}, {"count", "three"}, {"tags", {1}}});
  ASSERT_FALSE(bad);
  std::string all;
  for (const auto& p : bad.error()) all += p + "\n";
  EXPECT_NE(std::string::npos, all.find("no input 'topik'")) << all;
  EXPECT_NE(std::string::npos, all.find("did you mean 'topic'")) << all;
  EXPECT_NE(std::string::npos, all.find("'count' must be number, found text")) << all;
  EXPECT_NE(std::string::npos, all.find("'tags' must be list<text>")) << all;
  EXPECT_NE(std::string::npos, all.find("'topic' (text) is required")) << all;
}

} // namespace
} // namespace troupe::runtime
