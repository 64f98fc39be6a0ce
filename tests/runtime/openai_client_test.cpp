// The OpenAI-compatible chat client against a real loopback server that
// speaks the chat completions protocol (cpp-httplib).

#include "runtime/openai_client.hpp"
#include "tests/loopback_http.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <sstream>

namespace troupe::runtime {
namespace {

constexpr const char* test_key = "sk-test-123";
constexpr const char* key_env = "TROUPE_TEST_OPENAI_KEY";

int count_words(const std::string& s) {
  std::istringstream in{s};
  std::string word;
  int n = 0;
  while (in >> word)
    ++n;
  return n;
}

// Serves /v1/chat/completions: checks the bearer key (401 otherwise) and
// answers "echo: <last user message>" in the standard response shape. Other
// prefixes misbehave on purpose, one way each.
class chat_server {
public:
  chat_server() : http_{[this](httplib::Server& s) { routes(s); }} {}

  std::string base(const std::string& prefix) const {
    return http_.url(prefix);
  }

  /// The body of the last request the echo endpoint accepted.
  value last_request() {
    std::lock_guard<std::mutex> lock{mutex_};
    return last_request_;
  }

private:
  void echo(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != std::string{"Bearer "} + test_key) {
      res.status = 401;
      res.set_content(R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}})",
                      "application/json");
      return;
    }
    const value request = value::parse(req.body);
    {
      std::lock_guard<std::mutex> lock{mutex_};
      last_request_ = request;
    }
    std::string user;
    for (const auto& m : request["messages"])
      if (m["role"] == "user")
        user = m["content"].get<std::string>();
    const std::string text = "echo: " + user;
    const value reply = {
      {"id", "chatcmpl-test"},
      {"object", "chat.completion"},
      {"model", request["model"]},
      {"choices",
       {{{"index", 0},
         {"message", {{"role", "assistant"}, {"content", text}}},
         {"finish_reason", "stop"}}}},
      {"usage",
       {{"prompt_tokens", count_words(user)},
        {"completion_tokens", count_words(text)},
        {"total_tokens", count_words(user) + count_words(text)}}}};
    res.set_content(reply.dump(), "application/json");
  }

  static void canned(httplib::Server& server, const std::string& prefix, int status,
                     const std::string& body) {
    server.Post(prefix + "/chat/completions",
                [status, body](const httplib::Request&, httplib::Response& res) {
                  res.status = status;
                  res.set_content(body, "application/json");
                });
  }

  void routes(httplib::Server& server) {
    server.Post("/v1/chat/completions",
                [this](const httplib::Request& req, httplib::Response& res) { echo(req, res); });
    canned(server, "/malformed", 200, "this is not json");
    canned(server, "/nochoices", 200, R"({"choices":[]})");
    canned(server, "/nullcontent", 200,
           R"({"choices":[{"message":{"role":"assistant","content":null},"finish_reason":"tool_calls"}]})");
    canned(server, "/badusage", 200,
           R"({"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":"many"}})");
    canned(server, "/nousage", 200, R"({"choices":[{"message":{"content":"hi"},"finish_reason":null}]})");
    canned(server, "/unavailable", 503, "upstream overloaded");
    canned(server, "/ratelimit", 429, R"({"error":{"message":"Rate limit reached for requests"}})");
    canned(server, "/badrequest", 400, R"({"error":{"message":"max_tokens is too large"}})");
    server.Post("/slow/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      http_.hold(std::chrono::seconds(20));
      res.set_content("{}", "application/json");
    });
  }

  std::mutex mutex_;
  value last_request_; ///< Guarded by mutex_.
  test::loopback_http http_; // Last: stops serving before the state above goes.
};

class openai_client_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    server = new chat_server;
  }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }
  void SetUp() override {
    ::setenv(key_env, test_key, 1);
  }
  void TearDown() override {
    ::unsetenv(key_env);
  }

  static openai_endpoint endpoint(const std::string& prefix) {
    openai_endpoint e;
    e.base_url = server->base(prefix);
    e.api_key_env = key_env;
    e.timeout_ms = 10000;
    return e;
  }

  static chat_request hello() {
    chat_request r;
    r.model = "echo-1";
    r.prompt = "say hello back";
    return r;
  }

  static chat_server* server;
};

chat_server* openai_client_test::server = nullptr;

TEST_F(openai_client_test, EchoesThroughTheServer) {
  chat_request request = hello();
  request.system = "You are terse.";
  request.max_tokens = 32;
  request.temperature = 0.5;
  request.stop = {"\n\n", "END"};
  auto r = openai_chat(endpoint("/v1"), request);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().text, "echo: say hello back");
  EXPECT_EQ(r.value().finish_reason, "stop");
  EXPECT_EQ(r.value().prompt_tokens, 3);
  EXPECT_EQ(r.value().completion_tokens, 4);

  const value sent = server->last_request();
  EXPECT_EQ(sent["model"], "echo-1");
  EXPECT_EQ(sent["max_tokens"], 32);
  EXPECT_DOUBLE_EQ(sent["temperature"].get<double>(), 0.5);
  EXPECT_EQ(sent["stop"], value({"\n\n", "END"}));
  ASSERT_EQ(sent["messages"].size(), 2u);
  EXPECT_EQ(sent["messages"][0], value({{"role", "system"}, {"content", "You are terse."}}));
  EXPECT_EQ(sent["messages"][1], value({{"role", "user"}, {"content", "say hello back"}}));
}

TEST_F(openai_client_test, LeavesOutEmptySystemAndStop) {
  auto r = openai_chat(endpoint("/v1/"), hello()); // A trailing '/' is dropped.
  ASSERT_TRUE(r.ok()) << r.error().message;
  const value sent = server->last_request();
  EXPECT_FALSE(sent.contains("stop"));
  ASSERT_EQ(sent["messages"].size(), 1u);
  EXPECT_EQ(sent["messages"][0]["role"], "user");
}

TEST_F(openai_client_test, MissingKeyNamesTheVariable) {
  ::unsetenv(key_env);
  auto unset = openai_chat(endpoint("/v1"), hello());
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.error().message.find(key_env), std::string::npos);
  EXPECT_NE(unset.error().message.find("not set"), std::string::npos);
  EXPECT_FALSE(unset.error().retryable);
  ::setenv(key_env, "", 1);
  auto empty = openai_chat(endpoint("/v1"), hello());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find(key_env), std::string::npos);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
}

TEST_F(openai_client_test, WrongKeyIsA401WithTheServersMessage) {
  ::setenv(key_env, "sk-wrong-456", 1);
  auto r = openai_chat(endpoint("/v1"), hello());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 401);
  EXPECT_FALSE(r.error().retryable);
  EXPECT_NE(r.error().message.find("HTTP 401"), std::string::npos);
  EXPECT_NE(r.error().message.find("Incorrect API key provided"), std::string::npos);
  EXPECT_EQ(r.error().message.find("sk-wrong-456"), std::string::npos);
}

TEST_F(openai_client_test, NoKeyVariableSendsNoAuthorization) {
  openai_endpoint e = endpoint("/v1");
  e.api_key_env.clear();
  auto r = openai_chat(e, hello());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 401); // The echo server insists on the key.
}

TEST_F(openai_client_test, MalformedRepliesAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
    {"/malformed", "response is not JSON"},
    {"/nochoices", "no choices[0].message.content"},
    {"/nullcontent", "no choices[0].message.content"},
    {"/badusage", "usage.prompt_tokens"},
  };
  for (const auto& [prefix, expected] : cases) {
    auto r = openai_chat(endpoint(prefix), hello());
    ASSERT_FALSE(r.ok()) << prefix;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
    EXPECT_FALSE(r.error().retryable) << prefix;
    EXPECT_EQ(r.error().status, 200) << prefix;
  }
}

TEST_F(openai_client_test, UsageAndFinishReasonMayBeAbsent) {
  auto r = openai_chat(endpoint("/nousage"), hello());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().text, "hi");
  EXPECT_EQ(r.value().prompt_tokens, 0);
  EXPECT_EQ(r.value().finish_reason, "");
}

TEST_F(openai_client_test, StatusErrorsAndRetryability) {
  struct expectation {
    const char* prefix;
    int status;
    bool retryable;
    const char* text;
  };
  const expectation cases[] = {
    {"/unavailable", 503, true, "upstream overloaded"},
    {"/ratelimit", 429, true, "Rate limit reached for requests"},
    {"/badrequest", 400, false, "max_tokens is too large"},
  };
  for (const auto& c : cases) {
    auto r = openai_chat(endpoint(c.prefix), hello());
    ASSERT_FALSE(r.ok()) << c.prefix;
    EXPECT_EQ(r.error().status, c.status);
    EXPECT_EQ(r.error().retryable, c.retryable) << c.prefix;
    EXPECT_NE(r.error().message.find(c.text), std::string::npos) << r.error().message;
  }
}

TEST_F(openai_client_test, TimeoutIsRetryable) {
  openai_endpoint e = endpoint("/slow");
  e.timeout_ms = 200;
  auto r = openai_chat(e, hello());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().retryable);
  EXPECT_EQ(r.error().status, 0);
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
}

TEST_F(openai_client_test, OversizedReplyIsRefused) {
  openai_endpoint e = endpoint("/v1");
  e.max_bytes = 64;
  auto r = openai_chat(e, hello());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("max_bytes"), std::string::npos);
}

TEST(openai_chat_parse, ReadsTheStandardShape) {
  auto r = openai_chat_parse(
    R"({"choices":[{"message":{"role":"assistant","content":"ok"},"finish_reason":"length"}],
        "usage":{"prompt_tokens":7,"completion_tokens":2}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().text, "ok");
  EXPECT_EQ(r.value().finish_reason, "length");
  EXPECT_EQ(r.value().prompt_tokens, 7);
  EXPECT_EQ(r.value().completion_tokens, 2);
}

TEST(openai_chat_parse, NamesEachDefect) {
  const std::pair<const char*, const char*> cases[] = {
    {"", "not JSON"},
    {"[1,2]", "not a JSON object"},
    {R"({"choices":{"0":{}}})", "choices[0].message.content"},
    {R"({"choices":[{"message":"hi"}]})", "choices[0].message.content"},
    {R"({"choices":[{"message":{"content":"x"},"finish_reason":3}]})", "finish_reason"},
    {R"({"choices":[{"message":{"content":"x"}}],"usage":[]})", "usage is not an object"},
    {R"({"choices":[{"message":{"content":"x"}}],"usage":{"completion_tokens":-1}})",
     "usage.completion_tokens"},
    {R"({"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":1.5}})",
     "usage.prompt_tokens"},
  };
  for (const auto& [body, expected] : cases) {
    auto r = openai_chat_parse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }
}

} // namespace
} // namespace troupe::runtime
