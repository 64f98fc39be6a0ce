// http_get / http_post_json (libcurl) and the http_get tool against a real
// cpp-httplib server on 127.0.0.1.

#include "runtime/http_client.hpp"
#include "runtime/tools.hpp"
#include "tests/loopback_http.hpp"
#include "tests/runtime/test_files.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace troupe::runtime {
namespace {

constexpr size_t large_size = 1 << 20;

// A server with one endpoint per behaviour under test, listening on an
// ephemeral loopback port for the whole suite.
class test_server {
public:
  test_server() : http_{[this](httplib::Server& s) { routes(s); }} {}

  std::string url(const std::string& path) const {
    return http_.url(path);
  }

private:
  void routes(httplib::Server& server) {
    server.Get("/small", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello, troupe", "text/plain");
    });
    server.Get("/large", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(large_size, 'x'), "text/plain");
    });
    // No Content-Length: the client only learns the size while receiving.
    server.Get("/large-chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
        if (offset >= large_size) {
          sink.done();
          return true;
        }
        const std::string piece(64 * 1024, 'y');
        return sink.write(piece.data(), piece.size());
      });
    });
    server.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      http_.hold(std::chrono::seconds(20));
      res.set_content("late", "text/plain");
    });
    server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("no such page", "text/plain");
    });
    server.Get("/unavailable", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("try later", "text/plain");
    });
    server.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/small");
    });
    server.Get(R"(/chain/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      const int left = std::stoi(req.matches[1]);
      if (left == 0)
        res.set_content("end of chain", "text/plain");
      else
        res.set_redirect("/chain/" + std::to_string(left - 1));
    });
    server.Get("/loop", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/loop");
    });
    server.Get("/to-ftp", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("ftp://127.0.0.1/file");
    });
    server.Get("/binary", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string{"\xff\xfe\x00\x01", 4}, "application/octet-stream");
    });
    server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      const value reply = {{"body", value::parse(req.body)},
                           {"content_type", req.get_header_value("Content-Type")},
                           {"x_test", req.get_header_value("X-Test")}};
      res.set_content(reply.dump(), "application/json");
    });
  }

  test::loopback_http http_;
};

class http_client_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    server = new test_server;
  }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }
  static test_server* server;
};

test_server* http_client_test::server = nullptr;

constexpr int64_t short_timeout_ms = 200;
constexpr int64_t normal_timeout_ms = 10000;

TEST_F(http_client_test, GetsSmallBody) {
  auto r = http_get(server->url("/small"), 1000, normal_timeout_ms);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().status, 200);
  EXPECT_EQ(r.value().body, "hello, troupe");
  EXPECT_EQ(r.value().content_type.rfind("text/plain", 0), 0u);
}

TEST_F(http_client_test, BodyOfExactlyMaxBytesIsAccepted) {
  auto r = http_get(server->url("/large"), large_size, normal_timeout_ms);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().body.size(), large_size);
}

TEST_F(http_client_test, BodyOverMaxBytesAborts) {
  for (const char* path : {"/large", "/large-chunked"}) {
    auto r = http_get(server->url(path), 1000, normal_timeout_ms);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_NE(r.error().message.find("exceeds max_bytes (1000 bytes)"), std::string::npos)
      << r.error().message;
    EXPECT_FALSE(r.error().retryable);
  }
}

TEST_F(http_client_test, SlowServerTimesOut) {
  auto r = http_get(server->url("/slow"), 1000, short_timeout_ms);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("timed out after 200 ms"), std::string::npos)
    << r.error().message;
  EXPECT_TRUE(r.error().retryable);
}

TEST_F(http_client_test, NotFoundIsAResponseNotAnError) {
  auto r = http_get(server->url("/missing"), 1000, normal_timeout_ms);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().status, 404);
  EXPECT_EQ(r.value().body, "no such page");
}

TEST_F(http_client_test, FollowsRedirectsUpToFive) {
  auto one = http_get(server->url("/redirect"), 1000, normal_timeout_ms);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one.value().body, "hello, troupe");
  auto five = http_get(server->url("/chain/5"), 1000, normal_timeout_ms);
  ASSERT_TRUE(five.ok()) << five.error().message;
  EXPECT_EQ(five.value().body, "end of chain");
  for (const char* path : {"/chain/6", "/loop"}) {
    auto r = http_get(server->url(path), 1000, normal_timeout_ms);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_NE(r.error().message.find("more than 5 redirects"), std::string::npos)
      << r.error().message;
    EXPECT_FALSE(r.error().retryable);
  }
}

TEST_F(http_client_test, RefusesOtherProtocols) {
  auto direct = http_get("ftp://127.0.0.1/file", 1000, normal_timeout_ms);
  ASSERT_FALSE(direct.ok());
  EXPECT_FALSE(direct.error().retryable);
  auto file = http_get("file:///etc/passwd", 1000, normal_timeout_ms);
  ASSERT_FALSE(file.ok());
  EXPECT_FALSE(file.error().retryable);
  auto redirected = http_get(server->url("/to-ftp"), 1000, normal_timeout_ms);
  ASSERT_FALSE(redirected.ok());
  EXPECT_FALSE(redirected.error().retryable);
}

TEST_F(http_client_test, RefusedConnectionIsRetryable) {
  const std::string url =
    "http://127.0.0.1:" + std::to_string(test::loopback_closed_port()) + "/";
  auto r = http_get(url, 1000, normal_timeout_ms);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().retryable) << r.error().message;
  EXPECT_NE(r.error().message.find(url), std::string::npos);
}

TEST_F(http_client_test, MalformedUrlIsNotRetryable) {
  auto r = http_get("http://", 1000, normal_timeout_ms);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().retryable) << r.error().message;
}

TEST_F(http_client_test, PostsJsonWithHeaders) {
  const value body = {{"question", "déjà vu?"}, {"n", 3}};
  auto r = http_post_json(server->url("/echo"), body, {{"X-Test", "yes"}}, 10000,
                          normal_timeout_ms);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().status, 200);
  const value echoed = value::parse(r.value().body);
  EXPECT_EQ(echoed["body"], body);
  EXPECT_EQ(echoed["content_type"], "application/json");
  EXPECT_EQ(echoed["x_test"], "yes");
}

TEST_F(http_client_test, PostRefusesHeaderInjection) {
  auto r = http_post_json(server->url("/echo"), value::object(),
                          {{"X-Test", "a\r\nX-Evil: 1"}}, 10000, normal_timeout_ms);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("X-Test"), std::string::npos);
}

// The http_get tool on top of the client.

tool_context http_context() {
  tool_context ctx;
  ctx.http_timeout_ms = normal_timeout_ms;
  return ctx;
}

TEST_F(http_client_test, ToolReturnsBody) {
  auto r = run_tool("http_get", {{"url", server->url("/redirect")}}, http_context());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), "hello, troupe");
}

TEST_F(http_client_test, ToolTurnsStatusesIntoErrors) {
  auto missing = run_tool("http_get", {{"url", server->url("/missing")}}, http_context());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().tool, "http_get");
  EXPECT_NE(missing.error().message.find("404"), std::string::npos);
  EXPECT_FALSE(missing.error().retryable);
  auto unavailable =
    run_tool("http_get", {{"url", server->url("/unavailable")}}, http_context());
  ASSERT_FALSE(unavailable.ok());
  EXPECT_NE(unavailable.error().message.find("503"), std::string::npos);
  EXPECT_TRUE(unavailable.error().retryable);
}

TEST_F(http_client_test, ToolAppliesLimitsFromArgumentsAndContext) {
  auto by_arg = run_tool("http_get", {{"url", server->url("/large")}, {"max_bytes", 5000}},
                         http_context());
  ASSERT_FALSE(by_arg.ok());
  EXPECT_NE(by_arg.error().message.find("max_bytes (5000 bytes)"), std::string::npos);
  tool_context small = http_context();
  small.http_max_bytes = 4000;
  auto by_ctx = run_tool("http_get", {{"url", server->url("/large")}}, small);
  ASSERT_FALSE(by_ctx.ok());
  EXPECT_NE(by_ctx.error().message.find("max_bytes (4000 bytes)"), std::string::npos);
  auto slow = run_tool("http_get", {{"url", server->url("/slow")}, {"timeout", 200}},
                       http_context());
  ASSERT_FALSE(slow.ok());
  EXPECT_TRUE(slow.error().retryable);
  EXPECT_NE(slow.error().message.find("timed out"), std::string::npos);
}

TEST_F(http_client_test, ToolRefusesBadArguments) {
  for (const char* url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1/x", ""}) {
    auto r = run_tool("http_get", {{"url", url}}, http_context());
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_NE(r.error().message.find("http:// or https://"), std::string::npos);
  }
  for (const value& bad : {value(0), value(-5), value(1.5)}) {
    auto r = run_tool("http_get", {{"url", server->url("/small")}, {"max_bytes", bad}},
                      http_context());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_FALSE(r.error().retryable);
  }
}

TEST_F(http_client_test, ToolRefusesBinaryBody) {
  auto r = run_tool("http_get", {{"url", server->url("/binary")}}, http_context());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not valid UTF-8"), std::string::npos);
}

} // namespace
} // namespace troupe::runtime
