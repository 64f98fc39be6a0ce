// `troupe run` end to end, as a user runs it: the real binary, the real
// models, real run directories and journals. Covers the sample workflow
// with its parallel branches, escalation after a failed verification,
// resuming a run whose launcher was killed, and precise errors for bad
// inputs and failed runs.
#include "tests/e2e/e2e_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <csignal>
#include <fcntl.h>
#include <thread>

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string workflow(const std::string& name) {
  return std::string(TROUPE_SOURCE_DIR) + "/tests/e2e/workflows/" + name;
}

// Runs `troupe ARGS` in `dir` with the set-up models.
e2e::run_result run_in(const fs::path& dir, const std::string& models, const std::string& args,
                       bool stdout_only = false) {
  return e2e::run(args, stdout_only,
                  "cd '" + dir.string() + "' && TROUPE_MODELS_DIR='" + models + "' ");
}

// The only run directory under dir/.troupe/runs.
fs::path only_run(const fs::path& dir) {
  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(dir / ".troupe" / "runs"))
    runs.push_back(e.path());
  EXPECT_EQ(1u, runs.size());
  return runs.empty() ? fs::path() : runs.front();
}

std::vector<json> journal(const fs::path& run_dir) { return e2e::journal_events(run_dir); }

std::vector<json> events_of(const std::vector<json>& all, const std::string& kind,
                            const std::string& key = "") {
  std::vector<json> out;
  for (const auto& e : all)
    if (e["event"] == kind && (key.empty() || e.value("key", "") == key))
      out.push_back(e);
  return out;
}

TEST(run, hello_prints_outputs_and_journals_parallel_branches) {
  auto models = e2e::models_dir_with("stories260K.gguf");
  if (models.empty())
    GTEST_SKIP() << "models are not set up (scripts/setup)";
  auto dir = e2e::fresh_dir("hello");
  auto r = run_in(dir, models, "run " + e2e::sample("hello.wf"), true);
  ASSERT_EQ(0, r.status) << r.out;
  auto out = json::parse(r.out);
  const std::string stories = out["stories"];
  EXPECT_EQ(0u, stories.rfind("Lily's story: Once upon a time, Lily", 0)) << stories;
  EXPECT_NE(std::string::npos, stories.find("Tom's story: Tom went to the park")) << stories;
  ASSERT_EQ(2u, out["lengths"].size());
  EXPECT_GT(out["lengths"][0].get<int>(), 0);

  auto events = journal(only_run(dir));
  ASSERT_EQ(1u, events_of(events, "run_finished").size());
  EXPECT_EQ("ok", events_of(events, "run_finished")[0]["status"]);
  auto a = events_of(events, "step_finished", "first_story");
  auto b = events_of(events, "step_finished", "second_story");
  ASSERT_EQ(1u, a.size());
  ASSERT_EQ(1u, b.size());
  EXPECT_EQ("storyteller", a[0]["model"]);
  // The two stories depend only on the inputs: their run times overlap.
  int64_t a0 = a[0]["started_us"], a1 = a[0]["finished_us"];
  int64_t b0 = b[0]["started_us"], b1 = b[0]["finished_us"];
  EXPECT_LT(std::max(a0, b0), std::min(a1, b1))
      << "first_story [" << a0 << ", " << a1 << "] second_story [" << b0 << ", " << b1 << "]";
  // The join ran after both.
  auto j = events_of(events, "step_finished", "together");
  ASSERT_EQ(1u, j.size());
  EXPECT_GE(j[0]["started_us"].get<int64_t>(), std::max(a1, b1));
}

TEST(run, a_failed_verification_escalates_to_the_next_model) {
  auto models = e2e::models_dir_with("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (models.empty())
    GTEST_SKIP() << "SmolLM2 is not set up (scripts/setup)";
  auto dir = e2e::fresh_dir("escalate");
  auto r = run_in(dir, models, "run --explain " + workflow("escalate.wf"));
  ASSERT_EQ(0, r.status) << r.out;
  // --explain shows both decisions with their scores.
  EXPECT_NE(std::string::npos, r.out.find("route: answer -> storyteller (u=")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("route: answer -> smollm (u=")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("storyteller excluded: tried")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("Paris")) << r.out;

  auto events = journal(only_run(dir));
  auto failed = events_of(events, "attempt_failed", "answer");
  ASSERT_EQ(1u, failed.size());
  EXPECT_EQ("verify", failed[0]["phase"]);
  EXPECT_EQ("storyteller", failed[0]["models"][0]);
  EXPECT_NE(std::string::npos, failed[0]["error"].get<std::string>().find("regex"));
  auto routes = events_of(events, "route", "answer");
  ASSERT_EQ(2u, routes.size());
  EXPECT_EQ("smollm", routes[1]["chosen"][0]);
  auto done = events_of(events, "step_finished", "answer");
  ASSERT_EQ(1u, done.size());
  EXPECT_EQ("smollm", done[0]["model"]);
  EXPECT_EQ(2, done[0]["attempt"]);
  EXPECT_EQ(true, done[0]["verified"]);
}

TEST(run, a_killed_run_resumes_without_redoing_finished_steps) {
  auto models = e2e::models_dir_with("stories260K.gguf");
  if (models.empty())
    GTEST_SKIP() << "models are not set up (scripts/setup)";
  auto dir = e2e::fresh_dir("resume");
  std::ofstream(dir / "troupe.toml") << "[tools.shell]\nenabled = true\nallow = [\"sleep\"]\n";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0)
      _exit(127);
    setenv("TROUPE_MODELS_DIR", models.c_str(), 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(TROUPE_BIN, "troupe", "run", workflow("resume.wf").c_str(), "--input", "delay=2",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the slow step is running, then kill the launcher outright.
  bool waiting = false;
  for (int i = 0; i < 600 && !waiting; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(dir / ".troupe" / "runs"))
      continue;
    for (const auto& e : fs::directory_iterator(dir / ".troupe" / "runs"))
      waiting = e2e::slurp((e.path() / "journal.jsonl").string()).find("\"key\":\"wait\"")
                != std::string::npos;
  }
  ASSERT_TRUE(waiting) << "the run never reached its slow step";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto run_dir = only_run(dir);
  auto before = journal(run_dir);
  EXPECT_EQ(0u, events_of(before, "run_finished").size());
  ASSERT_EQ(1u, events_of(before, "step_finished", "first").size());
  ASSERT_EQ(1u, events_of(before, "step_finished", "second").size());
  std::string first_output = events_of(before, "step_finished", "first")[0]["output"];

  auto id = run_dir.filename().string();
  auto r = run_in(dir, models, "run --resume " + id, true);
  ASSERT_EQ(0, r.status) << r.out;
  auto out = json::parse(r.out);
  EXPECT_EQ(0u, out["story"].get<std::string>().rfind(first_output, 0)) << out;

  auto after = journal(run_dir);
  // Exactly one run of each finished step, across both launches.
  EXPECT_EQ(1u, events_of(after, "step_finished", "first").size());
  EXPECT_EQ(1u, events_of(after, "step_finished", "second").size());
  EXPECT_EQ(1u, events_of(after, "step_started", "first").size());
  EXPECT_EQ(1u, events_of(after, "step_reused", "first").size());
  EXPECT_EQ(1u, events_of(after, "step_reused", "second").size());
  EXPECT_EQ(1u, events_of(after, "step_finished", "wait").size());
  auto starts = events_of(after, "run_started");
  ASSERT_EQ(2u, starts.size());
  EXPECT_EQ((json{"first", "second"}), starts[1]["reused"]);
  EXPECT_EQ("ok", events_of(after, "run_finished").back()["status"]);
}

TEST(run, a_second_run_reuses_cached_verified_results) {
  auto models = e2e::models_dir_with("stories260K.gguf");
  if (models.empty())
    GTEST_SKIP() << "models are not set up (scripts/setup)";
  auto dir = e2e::fresh_dir("cache");
  auto wf = e2e::scratch("cached.wf", R"(
model storyteller {
  backend: gguf("stories260K.gguf")
}

workflow main {
  input hero: text = "Lily"
  llm story {
    prompt: "Once upon a time, {{hero}}"
    max_tokens: 24
    cache: 1h
    verify {
      length: 1..1000
    }
  }
  llm uncached {
    prompt: "Tom went"
    max_tokens: 8
  }
  output o: text = story + uncached
}
)");
  auto first = run_in(dir, models, "run " + wf, true);
  ASSERT_EQ(0, first.status) << first.out;
  auto second = run_in(dir, models, "run " + wf, true);
  ASSERT_EQ(0, second.status) << second.out;
  EXPECT_EQ(json::parse(first.out), json::parse(second.out));
  // A different input is a different prompt: no reuse.
  auto third = run_in(dir, models, "run " + wf + " --input hero=Sam", true);
  ASSERT_EQ(0, third.status) << third.out;

  std::vector<fs::path> runs;
  for (const auto& e : fs::directory_iterator(dir / ".troupe" / "runs"))
    runs.push_back(e.path());
  // Ids order by second only: order by creation time instead.
  auto created = [](const fs::path& r) {
    return json::parse(e2e::slurp((r / "run.json").string()))["created_us"].get<int64_t>();
  };
  std::sort(runs.begin(), runs.end(),
            [&](const fs::path& a, const fs::path& b) { return created(a) < created(b); });
  ASSERT_EQ(3u, runs.size());
  EXPECT_TRUE(events_of(journal(runs[0]), "cache_hit").empty());
  auto hits = events_of(journal(runs[1]), "cache_hit");
  ASSERT_EQ(1u, hits.size());
  EXPECT_EQ("story", hits[0]["key"]);
  EXPECT_EQ(true, hits[0]["exact"]);
  auto reused = events_of(journal(runs[1]), "step_finished", "story");
  ASSERT_EQ(1u, reused.size());
  EXPECT_EQ("cache", reused[0]["node"]);
  EXPECT_EQ(1u, events_of(journal(runs[1]), "step_started", "uncached").size());
  auto finished = events_of(journal(runs[1]), "run_finished");
  ASSERT_EQ(1u, finished.size());
  EXPECT_EQ(1, finished[0]["cache"]["hits"]);
  EXPECT_TRUE(events_of(journal(runs[2]), "cache_hit").empty());
}

// 48 concurrent steps against a GPU actor that admits 32 running and 1
// queued: the rest are refused by admission control. Interactive steps
// degrade to the next model; batch steps are shed with the reason.
TEST(run, overload_degrades_interactive_steps_and_sheds_batch_steps) {
  auto models = e2e::models_dir_with("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (models.empty())
    GTEST_SKIP() << "SmolLM2 is not set up (scripts/setup)";
  auto dir = e2e::fresh_dir("overload");
  std::ofstream(dir / "troupe.toml") << "[limits]\nqueue_capacity = 1\n";
  const std::string text = R"(
model storyteller {
  backend: gguf("stories260K.gguf")
  domains: ["stories"]
  accuracy: 0.9
  context: 512
}

model smollm {
  backend: gguf("SmolLM2-135M-Instruct.Q4_1.gguf")
  domains: ["stories"]
  accuracy: 0.5
}

workflow main {
  input xs: list<number> = [)";
  std::string xs;
  for (int i = 0; i < 48; ++i) xs += (i ? ", " : "") + std::to_string(i);
  auto body = [&](const std::string& prio) {
    return text + xs + R"(]
  llm story for x in xs {
    prompt: "Once upon a time, number {{x}}"
    domain: "stories"
    max_tokens: 24
    priority: )" + prio + R"(
  }
  output n: number = len(story)
}
)";
  };
  auto wf = e2e::scratch("overload.wf", body("interactive"));
  auto r = run_in(dir, models, "run " + wf, true);
  ASSERT_EQ(0, r.status) << r.out;
  EXPECT_EQ(48, json::parse(r.out)["n"]);
  auto runs = fs::directory_iterator(dir / ".troupe" / "runs");
  auto events = journal(runs->path());
  auto degraded = events_of(events, "degraded");
  ASSERT_FALSE(degraded.empty()) << "the queue bound must have refused some calls";
  size_t on_smollm = 0;
  for (const auto& e : events_of(events, "step_finished"))
    on_smollm += e.value("model", "") == "smollm";
  EXPECT_EQ(degraded.size(), on_smollm);

  auto batch = e2e::scratch("overload_batch.wf", body("batch"));
  auto dir2 = e2e::fresh_dir("overload-batch");
  fs::copy_file(dir / "troupe.toml", dir2 / "troupe.toml");
  r = run_in(dir2, models, "run " + batch);
  EXPECT_EQ(3, r.status) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("refused under load")) << r.out;
}

// A run that failed on missing data resumes once the data is there, with
// its skipped and finished steps kept.
TEST(run, a_failed_run_resumes_after_the_cause_is_fixed) {
  auto models = e2e::models_dir_with("stories260K.gguf");
  if (models.empty())
    GTEST_SKIP() << "models are not set up (scripts/setup)";
  auto dir = e2e::fresh_dir("fix");
  auto wf = e2e::scratch("fix.wf", R"(
model storyteller {
  backend: gguf("stories260K.gguf")
}

workflow main {
  input fancy: bool = false
  llm story {
    prompt: "Once upon a time"
    max_tokens: 12
  }
  llm fancy_story {
    when: fancy
    prompt: "A fancy tale"
  }
  tool notes {
    use: read_file
    args {
      path: "notes.txt"
    }
  }
  tool both {
    use: template
    args {
      text: "{{story}} / {{notes}}"
    }
  }
  output o: text = both
  output f: text = fancy_story ?? "plain"
}
)");
  auto r = run_in(dir, models, "run " + wf);
  ASSERT_EQ(3, r.status) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("notes: 1 attempt failed")) << r.out;
  auto run_dir = only_run(dir);
  std::ofstream(run_dir / "workspace" / "notes.txt") << "remember the milk";
  auto id = run_dir.filename().string();
  r = run_in(dir, models, "run --resume " + id, true);
  ASSERT_EQ(0, r.status) << r.out;
  auto out = json::parse(r.out);
  EXPECT_NE(std::string::npos, out["o"].get<std::string>().find("/ remember the milk")) << out;
  EXPECT_EQ("plain", out["f"]);
  auto events = journal(run_dir);
  EXPECT_EQ(1u, events_of(events, "step_finished", "story").size());
  EXPECT_EQ(1u, events_of(events, "step_reused", "story").size());
  EXPECT_EQ(2u, events_of(events, "step_skipped", "fancy_story").size());
}

TEST(run, bad_inputs_and_failed_runs_say_why) {
  auto models = e2e::models_dir_with("stories260K.gguf");
  if (models.empty())
    GTEST_SKIP() << "models are not set up (scripts/setup)";
  auto dir = e2e::fresh_dir("bad");
  auto r = run_in(dir, models, "run " + e2e::sample("hello.wf") + " --input heroo=Ann");
  EXPECT_EQ(1, r.status);
  EXPECT_NE(std::string::npos, r.out.find("no input 'heroo' (did you mean 'hero'?)")) << r.out;

  auto wf = e2e::scratch("needs.wf", R"(
model m {
  backend: gguf("stories260K.gguf")
}

workflow main {
  input n: number
  llm s {
    prompt: "{{n}}"
  }
  output o: text = s
}
)");
  r = run_in(dir, models, "run " + wf);
  EXPECT_EQ(1, r.status);
  EXPECT_NE(std::string::npos, r.out.find("input 'n' (number) is required")) << r.out;
  r = run_in(dir, models, "run " + wf + " --input n=seven");
  EXPECT_EQ(1, r.status);
  EXPECT_NE(std::string::npos, r.out.find("'seven' is not a number")) << r.out;

  // A tool that fails for good: exit 3, the reason, and how to resume. The
  // escape is not retryable, so `retries` does not repeat it.
  auto failing = e2e::scratch("fails.wf", R"(
workflow main {
  tool grab {
    use: read_file
    args {
      path: "../../etc/passwd"
    }
    retries: 1
  }
  output o: text = grab
}
)");
  r = run_in(dir, models, "run " + failing);
  EXPECT_EQ(3, r.status) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("grab: 1 attempt failed")) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("troupe run --resume ")) << r.out;
}

// Quick pure tools (template, json_parse, json_get, chunk_text) run in the
// planner of a node that runs steps: a chain of 5,000 of them completes
// (a loop, not a recursion as deep as the chain), each journaled as run on
// this node, and a quick tool that fails still fails with its reason.
TEST(run, a_long_chain_of_quick_tools_runs_in_the_planner) {
  auto dir = e2e::fresh_dir("quick");
  std::ofstream(dir / "troupe.toml") << "[node]\nname = \"here\"\n";
  const size_t n = 5000;
  std::string text = "workflow main {\n  tool s0 { use: template args { text: \"x\" } }\n";
  for (size_t i = 1; i < n; ++i)
    text += "  tool s" + std::to_string(i) + " { use: template args { text: \"{{s"
            + std::to_string(i - 1) + "}}x\" } }\n";
  text += "  tool doc { use: json_parse args { text: \"{\\\"n\\\": {{len(s"
          + std::to_string(n - 1) + ")}}}\" } }\n"
          "  output o: json = doc\n}\n";
  auto wf = e2e::scratch("quick.wf", text);
  auto r = run_in(dir, "", "run " + wf, true);
  ASSERT_EQ(0, r.status) << r.out.substr(0, 2000);
  EXPECT_EQ(json::parse(r.out)["o"], (json{{"n", n}})) << r.out;
  auto events = journal(only_run(dir));
  auto started = events_of(events, "step_started");
  ASSERT_EQ(n + 1, started.size());
  for (const auto& e : started)
    ASSERT_EQ("here", e["node"]) << e.dump();
  EXPECT_EQ(n + 1, events_of(events, "step_finished").size());

  auto bad = e2e::scratch("quick_bad.wf", R"(
workflow main {
  tool doc {
    use: json_parse
    args {
      text: "{not json"
    }
  }
  output o: json = doc
}
)");
  auto dir2 = e2e::fresh_dir("quick-bad");
  r = run_in(dir2, "", "run " + bad);
  EXPECT_EQ(3, r.status) << r.out;
  EXPECT_NE(std::string::npos, r.out.find("doc: 1 attempt failed")) << r.out;
}

} // namespace
