// The executor actor in a real actor system, each answer decoded with
// step_record_read: pure tools inline, workspace files under a temporary
// runs root (one workspace per run, no way out of it), blocking tools
// (http_get, shell) on loopback, a gguf step on the real stories260K model
// compared with the GPU actor's own answer, missing and corrupt model
// files, and OpenAI-compatible steps against a cpp-httplib server on
// 127.0.0.1 (text, JSON answers, HTTP 500, a timeout, a missing key).
#include "actors/executor_actor.hpp"
#include "actors/gpu_actor.hpp"
#include "actors/records.hpp"
#include "gpu/model/model_load.hpp"
#include "tests/loopback_http.hpp"
#include "tests/runtime/test_files.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>

namespace troupe::actors {
namespace {

namespace fs = std::filesystem;
using runtime::value;

struct test_config : caf::actor_system_config {
  test_config() { register_message_types(*this); }
};

// An OpenAI-compatible endpoint: /v1 answers "echo: <user message>" with
// fixed token counts and keeps the request it got; /broken answers 500;
// /slow holds the request until the server goes. GET /page serves a page.
class endpoint {
public:
  endpoint() : http_{[this](httplib::Server& s) { routes(s); }} {}

  std::string url(const std::string& path) const { return http_.url(path); }

  value last_request() {
    std::lock_guard<std::mutex> lock{mutex_};
    return last_request_;
  }

private:
  void routes(httplib::Server& server) {
    server.Post("/v1/chat/completions", [this](const httplib::Request& req,
                                               httplib::Response& res) {
      const value request = value::parse(req.body);
      {
        std::lock_guard<std::mutex> lock{mutex_};
        last_request_ = request;
      }
      const value reply = {
        {"choices",
         {{{"message", {{"role", "assistant"},
                        {"content", "echo: " + request["messages"].back()["content"]
                                                  .get<std::string>()}}},
           {"finish_reason", "stop"}}}},
        {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 4}}}};
      res.set_content(reply.dump(), "application/json");
    });
    server.Post("/broken/chat/completions", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content(R"({"error":{"message":"the model crashed"}})", "application/json");
    });
    server.Post("/slow/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      http_.hold(std::chrono::seconds(20));
      res.set_content("{}", "application/json");
    });
    server.Get("/page", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("a page on loopback", "text/plain");
    });
  }

  std::mutex mutex_;
  value last_request_; ///< Guarded by mutex_.
  test::loopback_http http_;
};

class executor_actor_test : public testing::Test {
protected:
  // An executor of node "node-a" whose workspaces lie under runs_.
  executor_actor spawn(runtime::tool_context tools = {}) {
    executor_options o;
    o.node = "node-a";
    o.runs_root = runs_.path();
    o.tools = std::move(tools);
    o.models = std::make_shared<model_host>(sys_, "node-a", gpu::engine_options{},
                                            gpu::worker_options{}, gpu::device_kind::cpu);
    return executor_actor_spawn(sys_, std::move(o));
  }

  // Sends one job and decodes the record it answers with.
  runtime::step_record run(const executor_actor& executor, const step_job& job) {
    caf::scoped_actor self{sys_};
    runtime::step_record out;
    self->request(executor, caf::infinite, execute_atom_v, job)
      .receive(
        [&](const step_outcome& o) {
          auto r = step_record_read(o.record);
          if (r)
            out = std::move(r).value();
          else
            ADD_FAILURE() << r.error();
        },
        [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return out;
  }

  static step_job tool_job(const std::string& run_id, const std::string& tool, const value& args) {
    step_job j;
    j.run_id = run_id;
    j.key = tool + "_step";
    j.attempt = 2;
    j.kind = "tool";
    j.tool = tool;
    j.args_json = args.dump();
    return j;
  }

  static step_job model_job(const std::string& model, const std::string& backend,
                            const std::string& location, const std::string& prompt) {
    step_job j;
    j.run_id = "run-m";
    j.key = "answer";
    j.kind = "llm";
    j.model = model;
    j.backend = backend;
    j.location = location;
    j.prompt = prompt;
    j.max_tokens = 24;
    return j;
  }

  test::temp_dir runs_; // Outlives the actor system, whose executors write in it.
  test_config cfg_;
  caf::actor_system sys_{cfg_};
};

TEST_F(executor_actor_test, a_pure_tool_answers_with_its_output) {
  auto executor = spawn();
  auto r = run(executor, tool_job("run-1", "template", {{"text", "Hello, Ada"}}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(value("Hello, Ada"), value::parse(r.output_json));
  EXPECT_EQ("template_step", r.key);
  EXPECT_EQ(2u, r.attempt);
  EXPECT_EQ("node-a", r.node);
  EXPECT_EQ("", r.model);
  EXPECT_GT(r.started_us, 0);
  EXPECT_LE(r.started_us, r.finished_us);
}

TEST_F(executor_actor_test, arguments_that_are_not_json_are_an_error) {
  auto executor = spawn();
  auto job = tool_job("run-1", "template", value::object());
  job.args_json = "{\"text\": ";
  auto r = run(executor, job);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ("tool 'template': arguments are not JSON", r.error);
}

TEST_F(executor_actor_test, workspace_files_land_in_the_runs_own_workspace) {
  auto executor = spawn();
  auto wrote = run(executor, tool_job("run-1", "write_file",
                                      {{"path", "./notes//today.txt"}, {"content", "café\n"}}));
  ASSERT_TRUE(wrote.ok) << wrote.error;
  EXPECT_EQ(value("notes/today.txt"), value::parse(wrote.output_json));
  const fs::path file = runs_.path() / "run-1" / "workspace" / "notes" / "today.txt";
  ASSERT_TRUE(fs::is_regular_file(file));
  const auto bytes = test::read_bytes(file);
  EXPECT_EQ("café\n", std::string(bytes.begin(), bytes.end()));

  auto read = run(executor, tool_job("run-1", "read_file", {{"path", "notes/today.txt"}}));
  ASSERT_TRUE(read.ok) << read.error;
  EXPECT_EQ(value("café\n"), value::parse(read.output_json));

  // Another run has a workspace of its own, without that file.
  auto other = run(executor, tool_job("run-2", "read_file", {{"path", "notes/today.txt"}}));
  EXPECT_FALSE(other.ok);
  EXPECT_FALSE(other.retryable);
  EXPECT_NE(std::string::npos, other.error.find("notes/today.txt")) << other.error;
  EXPECT_TRUE(fs::is_directory(runs_.path() / "run-2" / "workspace"));
}

TEST_F(executor_actor_test, a_path_out_of_the_workspace_is_a_final_error) {
  auto executor = spawn();
  for (const char* path : {"../escaped.txt", "a/../../escaped.txt", "/tmp/escaped.txt"}) {
    auto r = run(executor, tool_job("run-1", "write_file", {{"path", path}, {"content", "x"}}));
    EXPECT_FALSE(r.ok) << path;
    EXPECT_FALSE(r.retryable) << path;
    EXPECT_NE(std::string::npos, r.error.find(path)) << r.error;
  }
  EXPECT_FALSE(fs::exists(runs_.path() / "run-1" / "escaped.txt"));
  EXPECT_FALSE(fs::exists(runs_.path() / "escaped.txt"));
}

TEST_F(executor_actor_test, a_run_id_that_is_not_a_directory_name_is_a_final_error) {
  auto executor = spawn();
  for (const char* id : {"../outside", "a/b", "..", ""}) {
    auto r = run(executor, tool_job(id, "write_file", {{"path", "f.txt"}, {"content", "x"}}));
    EXPECT_FALSE(r.ok) << id;
    EXPECT_FALSE(r.retryable) << id;
    EXPECT_NE(std::string::npos, r.error.find("is not a directory name")) << r.error;
  }
  EXPECT_FALSE(fs::exists(runs_.path().parent_path() / "outside"));
  EXPECT_FALSE(fs::exists(runs_.path() / "a"));
}

TEST_F(executor_actor_test, http_get_answers_with_the_body_or_a_retryable_failure) {
  endpoint server;
  auto executor = spawn();
  auto page = run(executor, tool_job("run-1", "http_get", {{"url", server.url("/page")}}));
  ASSERT_TRUE(page.ok) << page.error;
  EXPECT_EQ(value("a page on loopback"), value::parse(page.output_json));
  EXPECT_EQ("node-a", page.node);

  const std::string closed =
    "http://127.0.0.1:" + std::to_string(test::loopback_closed_port()) + "/";
  auto refused = run(executor, tool_job("run-1", "http_get", {{"url", closed}}));
  EXPECT_FALSE(refused.ok);
  EXPECT_TRUE(refused.retryable) << refused.error;
  EXPECT_EQ("http_get_step", refused.key);
  EXPECT_FALSE(refused.error.empty());
}

TEST_F(executor_actor_test, shell_runs_in_the_workspace_and_a_refusal_is_final) {
  runtime::tool_context tools;
  tools.shell.enabled = true;
  tools.shell.allow = {"cat"};
  auto executor = spawn(tools);
  auto wrote = run(executor, tool_job("run-s", "write_file", {{"path", "in.txt"}, {"content", "42"}}));
  ASSERT_TRUE(wrote.ok) << wrote.error;
  auto cat = run(executor, tool_job("run-s", "shell", {{"command", "cat in.txt"}}));
  ASSERT_TRUE(cat.ok) << cat.error;
  EXPECT_EQ(value("42"), value::parse(cat.output_json));

  auto refused = run(executor, tool_job("run-s", "shell", {{"command", "ls"}}));
  EXPECT_FALSE(refused.ok);
  EXPECT_FALSE(refused.retryable);
  EXPECT_NE(std::string::npos, refused.error.find("not allowlisted")) << refused.error;
}

TEST_F(executor_actor_test, a_gguf_step_answers_as_the_gpu_actor_does) {
  const fs::path model_file = test::stories260k_source();
  if (model_file.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  auto executor = spawn();
  auto job = model_job("storyteller", "gguf", model_file.string(), "Once upon a time");
  auto r = run(executor, job);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ("storyteller", r.model);
  EXPECT_EQ("node-a", r.node);
  EXPECT_EQ("answer", r.key);
  EXPECT_GT(r.prompt_tokens, 0);
  EXPECT_GT(r.completion_tokens, 0);
  EXPECT_LE(r.completion_tokens, job.max_tokens);
  EXPECT_EQ(static_cast<size_t>(r.completion_tokens), r.tokens.ids.size());
  EXPECT_EQ(r.tokens.ids.size(), r.tokens.logprobs.size());

  // The same generation asked of a GPU actor directly: the same greedy text.
  auto model = gpu::load_model(model_file.string());
  ASSERT_TRUE(model) << model.error().to_string();
  gpu_actor_options o;
  o.node = "node-a";
  o.model_name = "storyteller";
  o.device = gpu::device_kind::cpu;
  auto gpu = gpu_actor_spawn(sys_, model.value(), o);
  ASSERT_TRUE(gpu) << gpu.error();
  generation_job g;
  g.prompt = job.prompt;
  g.chat = true;
  g.max_tokens = job.max_tokens;
  caf::scoped_actor self{sys_};
  generation_result direct;
  self->request(gpu.value(), caf::infinite, generate_atom_v, g)
    .receive([&](const generation_result& x) { direct = x; },
             [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
  ASSERT_TRUE(direct.ok) << direct.error;
  EXPECT_EQ(value(direct.text), value::parse(r.output_json));
  EXPECT_EQ(direct.completion_tokens, r.completion_tokens);
}

TEST_F(executor_actor_test, a_missing_model_file_is_an_error_naming_the_model) {
  auto executor = spawn();
  const std::string missing = (runs_.path() / "missing.gguf").string();
  auto r = run(executor, model_job("ghost", "gguf", missing, "hi"));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(0u, r.error.rfind("model 'ghost': ", 0)) << r.error;
  EXPECT_NE(std::string::npos, r.error.find("missing.gguf")) << r.error;
  EXPECT_EQ("ghost", r.model);
  EXPECT_EQ("node-a", r.node);
}

TEST_F(executor_actor_test, a_file_that_is_not_a_model_fails_the_same_way_each_time) {
  auto executor = spawn();
  const fs::path junk = runs_.path() / "junk.gguf";
  test::write_text(junk, "this is not a GGUF file");
  auto first = run(executor, model_job("junk", "gguf", junk.string(), "hi"));
  EXPECT_FALSE(first.ok);
  EXPECT_FALSE(first.retryable);
  EXPECT_EQ(0u, first.error.rfind("model 'junk': ", 0)) << first.error;
  auto second = run(executor, model_job("junk", "gguf", junk.string(), "hi"));
  EXPECT_FALSE(second.ok);
  EXPECT_EQ(first.error, second.error);
}

TEST_F(executor_actor_test, an_openai_step_answers_with_the_endpoints_text) {
  endpoint server;
  auto executor = spawn();
  auto job = model_job("remote", "openai", server.url("/v1"), "name a colour");
  job.api_model = "echo-1";
  job.system = "Answer in one word.";
  job.max_tokens = 7;
  job.stop = {"\n"};
  auto r = run(executor, job);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(value("echo: name a colour"), value::parse(r.output_json));
  EXPECT_EQ(3, r.prompt_tokens);
  EXPECT_EQ(4, r.completion_tokens);
  EXPECT_EQ("remote", r.model);
  EXPECT_EQ("node-a", r.node);

  const value sent = server.last_request();
  EXPECT_EQ("echo-1", sent.at("model"));
  EXPECT_EQ(7, sent.at("max_tokens"));
  EXPECT_EQ(value::array({"\n"}), sent.at("stop"));
  ASSERT_EQ(2u, sent.at("messages").size());
  EXPECT_EQ("system", sent.at("messages").at(0).at("role"));
  EXPECT_EQ("Answer in one word.", sent.at("messages").at(0).at("content"));
}

TEST_F(executor_actor_test, an_openai_json_step_takes_the_json_out_of_the_answer) {
  endpoint server;
  auto executor = spawn();
  auto job = model_job("remote", "openai", server.url("/v1"), R"({"colour": "teal"})");
  job.json_output = true;
  auto r = run(executor, job);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(value({{"colour", "teal"}}), value::parse(r.output_json));

  job.prompt = "no structure here";
  auto bad = run(executor, job);
  EXPECT_FALSE(bad.ok);
  EXPECT_FALSE(bad.retryable);
  EXPECT_EQ(0u, bad.error.rfind("model 'remote': ", 0)) << bad.error;
  EXPECT_NE(std::string::npos, bad.error.find("not JSON")) << bad.error;
  EXPECT_EQ(3, bad.prompt_tokens); // The call happened; its cost is kept.
}

TEST_F(executor_actor_test, an_endpoint_failure_is_retryable_and_a_missing_key_is_not) {
  endpoint server;
  auto executor = spawn();
  auto broken = run(executor, model_job("remote", "openai", server.url("/broken"), "hi"));
  EXPECT_FALSE(broken.ok);
  EXPECT_TRUE(broken.retryable);
  EXPECT_EQ(0u, broken.error.rfind("model 'remote': ", 0)) << broken.error;
  EXPECT_NE(std::string::npos, broken.error.find("HTTP 500")) << broken.error;
  EXPECT_NE(std::string::npos, broken.error.find("the model crashed")) << broken.error;

  auto slow_job = model_job("remote", "openai", server.url("/slow"), "hi");
  slow_job.timeout_ms = 300;
  auto slow = run(executor, slow_job);
  EXPECT_FALSE(slow.ok);
  EXPECT_TRUE(slow.retryable) << slow.error;

  auto keyless = model_job("remote", "openai", server.url("/v1"), "hi");
  keyless.key_env = "TROUPE_EXECUTOR_TEST_KEY_NEVER_SET";
  auto r = run(executor, keyless);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.retryable);
  EXPECT_NE(std::string::npos, r.error.find("TROUPE_EXECUTOR_TEST_KEY_NEVER_SET")) << r.error;
}

} // namespace
} // namespace troupe::actors
