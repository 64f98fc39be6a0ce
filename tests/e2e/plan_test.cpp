// `plan` steps end to end. The planning model is an OpenAI-compatible
// endpoint on loopback (the tiny local models cannot write plans); troupe's
// real HTTP client calls it, the real checker checks the plan it returns,
// and the real runtime runs the plan's steps and journals them. A plan
// that does not check is a failed attempt and escalates to the next model.
#include "tests/e2e/e2e_util.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// An endpoint whose answers depend on the model asked for: "good-planner"
// returns a valid two-step plan, "bad-planner" a plan that names a step
// that does not exist, and any other model echoes the prompt.
class endpoint {
public:
  endpoint() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      auto body = json::parse(req.body);
      std::string model = body["model"];
      std::string prompt = body["messages"].back()["content"];
      calls_++;
      std::string content;
      if (model == "good-planner")
        content = "Here is the plan:\n" + json{
          {"steps", {{{"name", "draft"}, {"kind", "llm"}, {"prompt", "Draft: owls"}, {"domain", "writing"}},
                     {{"name", "final"}, {"kind", "tool"}, {"use", "template"},
                      {"args", {{"text", "FINAL[{{draft}}]"}}}}}},
          {"output", "final"}}.dump();
      else if (model == "mixed-planner")
        // Every third call gives the good plan, the others a bad one.
        content = (mixed_++ % 3 == 1)
                    ? json{{"steps", {{{"name", "only"}, {"kind", "tool"}, {"use", "template"},
                                       {"args", {{"text", "GOOD"}}}}}},
                           {"output", "only"}}.dump()
                    : json{{"steps", {{{"name", "x"}, {"kind", "tool"}, {"use", "nope"}}}}}.dump();
      else if (model == "bad-planner")
        content = json{{"steps", {{{"name", "x"}, {"kind", "llm"}, {"prompt", "{{nowhere}}"}}}},
                       {"output", "x"}}.dump();
      else if (model == "paris-a")
        content = "Paris";
      else if (model == "paris-b")
        content = "  paris.";
      else if (model == "lyon")
        content = "Lyon";
      else
        content = "echo(" + prompt + ")";
      json reply = {{"choices", {{{"message", {{"role", "assistant"}, {"content", content}}},
                                  {"finish_reason", "stop"}}}},
                    {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 7}}}};
      res.set_content(reply.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::yield();
  }
  ~endpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  int calls() const { return calls_; }

private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> calls_{0};
  std::atomic<int> mixed_{0};
};

std::vector<json> journal_of(const fs::path& cwd) { return e2e::journals_under(cwd); }

TEST(plan, a_checked_plan_runs_and_a_bad_one_escalates) {
  endpoint ep;
  auto dir = e2e::fresh_dir("plan");
  auto wf = dir / "plan.wf";
  std::ofstream(wf) << R"(
model bad_planner {
  backend: openai(")" << ep.url() << R"(", model: "bad-planner")
  domains: ["planning"]
  accuracy: 0.9
}

model good_planner {
  backend: openai(")" << ep.url() << R"(", model: "good-planner")
  domains: ["planning"]
  accuracy: 0.8
}

model writer {
  backend: openai(")" << ep.url() << R"(", model: "writer")
  domains: ["writing"]
}

workflow main {
  plan p {
    goal: "Write about owls"
    domain: "planning"
    retries: 1
  }
  output result: json = p.result
}
)";
  auto r = e2e::run("run --explain " + wf.string(), false, "cd '" + dir.string() + "' && ");
  ASSERT_EQ(0, r.status) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("\"result\": \"FINAL[echo(Draft: owls)]\"")) << r.out;

  auto events = journal_of(dir);
  std::vector<json> failed, accepted, finished;
  for (const auto& e : events) {
    if (e["event"] == "attempt_failed" && e["key"] == "p") failed.push_back(e);
    if (e["event"] == "plan_accepted") accepted.push_back(e);
    if (e["event"] == "step_finished") finished.push_back(e);
  }
  // The bad plan was rejected by the checker, naming the unknown step.
  ASSERT_EQ(1u, failed.size());
  EXPECT_EQ("plan", failed[0]["phase"]);
  EXPECT_NE(std::string::npos, failed[0]["error"].get<std::string>().find("nowhere"))
      << failed[0]["error"];
  EXPECT_EQ("bad_planner", failed[0]["models"][0]);
  ASSERT_EQ(1u, accepted.size());
  // The plan's steps ran under the plan step's key, then the plan step.
  std::vector<std::string> keys;
  for (const auto& e : finished) keys.push_back(e["key"]);
  ASSERT_EQ(3u, keys.size());
  EXPECT_EQ(0u, keys[0].rfind("p@", 0)) << keys[0];
  EXPECT_NE(std::string::npos, keys[0].find("/draft")) << keys[0];
  EXPECT_NE(std::string::npos, keys[1].find("/final")) << keys[1];
  EXPECT_EQ("p", keys[2]);
  EXPECT_EQ("good_planner", finished[2]["model"]);
  EXPECT_EQ("writer", finished[0]["model"]);
  EXPECT_EQ("FINAL[echo(Draft: owls)]", finished[2]["output"]["result"]);
}

// agree: K of N runs the step on the router's top N models and passes when
// K answers agree after normalization; otherwise it escalates.
TEST(agreement, two_of_three_models_must_agree) {
  endpoint ep;
  auto dir = e2e::fresh_dir("agree");
  auto wf = dir / "agree.wf";
  auto model = [&](const std::string& name, const std::string& api, double acc) {
    return "model " + name + " {\n  backend: openai(\"" + ep.url() + "\", model: \"" + api
           + "\")\n  domains: [\"geo\"]\n  accuracy: " + std::to_string(acc) + "\n}\n\n";
  };
  std::ofstream(wf) << model("lyon", "lyon", 0.9) << model("a", "paris-a", 0.8)
                    << model("b", "paris-b", 0.7) << R"(
workflow main {
  llm capital {
    prompt: "Capital of France?"
    domain: "geo"
    verify {
      agree: 2 of 3
    }
  }
  output answer: text = capital
}
)";
  auto r = e2e::run("run " + wf.string(), true, "cd '" + dir.string() + "' && ");
  ASSERT_EQ(0, r.status) << r.out;
  EXPECT_EQ("Paris", json::parse(r.out)["answer"]);
  EXPECT_EQ(3, ep.calls());
  int started = 0;
  for (const auto& e : journal_of(dir))
    started += e["event"] == "step_started";
  EXPECT_EQ(3, started);

  // Three models, three different answers: no 3 of 3, and nothing left to escalate to.
  auto dir2 = e2e::fresh_dir("agree-none");
  auto wf2 = dir2 / "none.wf";
  std::ofstream(wf2) << model("lyon", "lyon", 0.9) << model("a", "paris-a", 0.8)
                     << model("b", "echo", 0.7) << R"(
workflow main {
  llm capital {
    prompt: "Capital of France?"
    domain: "geo"
    verify {
      agree: 3 of 3
    }
  }
  output answer: text = capital
}
)";
  r = e2e::run("run " + wf2.string(), false, "cd '" + dir2.string() + "' && ");
  EXPECT_EQ(3, r.status) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("no 3 of 3 answers agree")) << r.out;
}

TEST(plan, tree_of_thought_runs_the_best_candidate) {
  endpoint ep;
  auto dir = e2e::fresh_dir("plan-tot");
  auto wf = dir / "tot.wf";
  std::ofstream(wf) << R"(
model planner {
  backend: openai(")" << ep.url() << R"(", model: "mixed-planner")
}

workflow main {
  plan p {
    goal: "Say good"
    candidates: 3
    max_steps: 4
  }
  output result: json = p.result
}
)";
  auto r = e2e::run("run " + wf.string(), true, "cd '" + dir.string() + "' && ");
  ASSERT_EQ(0, r.status) << r.out;
  EXPECT_EQ("GOOD", json::parse(r.out)["result"]);
  EXPECT_EQ(3, ep.calls());
  std::vector<json> cands;
  for (const auto& e : journal_of(dir))
    if (e["event"] == "plan_candidates")
      cands.push_back(e);
  ASSERT_EQ(1u, cands.size());
  int checked = 0;
  for (const auto& c : cands[0]["scores"])
    checked += c["score"].get<int>();
  EXPECT_EQ(1, checked) << cands[0];
  size_t chosen = cands[0]["chosen"];
  EXPECT_EQ(1, cands[0]["scores"][chosen]["score"]);
}

} // namespace
