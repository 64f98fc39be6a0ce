// A cluster of real processes on loopback: two nodes and a launcher. Steps
// run on both nodes (the journal names them); killing a node mid-run sends
// its steps elsewhere and the run completes; a node or a launcher without
// the shared secret is refused.
#include "tests/e2e/e2e_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <set>
#include <thread>

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A troupe process started with fork/exec: in `dir`, with the cluster
// secret `secret`, stdout+stderr to `log`.
struct process {
  pid_t pid = -1;
  fs::path log;

  static process start(const fs::path& dir, const std::string& secret,
                       std::vector<std::string> args, const std::string& log_name) {
    process p;
    p.log = dir / log_name;
    p.pid = fork();
    if (p.pid == 0) {
      if (chdir(dir.c_str()) != 0)
        _exit(127);
      setenv("TROUPE_CLUSTER_SECRET", secret.c_str(), 1);
      int fd = open(p.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv{const_cast<char*>("troupe")};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(TROUPE_BIN, argv.data());
      _exit(127);
    }
    return p;
  }

  // Waits for the process to end; its exit status, or -1 if killed.
  int wait() {
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  void kill_now() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait();
    }
  }

  ~process() { kill_now(); }
};

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 20s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool log_has(const process& p, const std::string& text) {
  return e2e::slurp(p.log.string()).find(text) != std::string::npos;
}

// The launcher writes while the test reads: skip a torn last line.
std::vector<json> journal_of(const fs::path& run_cwd) { return e2e::journals_under(run_cwd, true); }

// Ports unlikely to clash between concurrent test runs.
int base_port() { return 20000 + int(getpid() % 20000); }

TEST(cluster, a_killed_node_loses_no_work_and_strangers_are_refused) {
  auto root = e2e::fresh_dir("cluster");
  for (auto n : {"a", "b", "c", "run"}) {
    fs::create_directories(root / n);
    std::ofstream(root / n / "troupe.toml")
        << "[tools.shell]\nenabled = true\nallow = [\"sleep\"]\n";
  }
  const std::string secret = "the-cluster-secret";
  const std::string a_addr = "127.0.0.1:" + std::to_string(base_port());
  auto a = process::start(root / "a", secret, {"node", "--listen", a_addr, "--name", "a"}, "log");
  ASSERT_TRUE(wait_for([&] { return log_has(a, "listening on"); })) << e2e::slurp(a.log);
  auto b = process::start(root / "b", secret,
                          {"node", "--listen", "127.0.0.1:" + std::to_string(base_port() + 1),
                           "--name", "b", "--join", a_addr},
                          "log");
  ASSERT_TRUE(wait_for([&] { return log_has(b, "listening on"); })) << e2e::slurp(b.log);

  // A node without the secret cannot join.
  auto c = process::start(root / "c", "not-the-secret",
                          {"node", "--listen", "127.0.0.1:" + std::to_string(base_port() + 2),
                           "--name", "c", "--join", a_addr},
                          "log");
  EXPECT_EQ(1, c.wait());
  EXPECT_TRUE(log_has(c, "refused to let 'c' join: bad cluster secret")) << e2e::slurp(c.log);
  EXPECT_TRUE(log_has(a, "refused node 'c': bad cluster secret")) << e2e::slurp(a.log);
  // Nor can a launcher.
  auto stranger = process::start(root / "c", "not-the-secret",
                                 {"run", "--cluster", a_addr, e2e::sample("hello.wf")}, "run.log");
  EXPECT_EQ(1, stranger.wait());
  EXPECT_TRUE(log_has(stranger, "bad cluster secret")) << e2e::slurp(stranger.log);

  auto wf = std::string(TROUPE_SOURCE_DIR) + "/tests/e2e/workflows/cluster.wf";
  auto run = process::start(root / "run", secret, {"run", "--cluster", a_addr, wf}, "run.log");
  // Kill node b while one of the slow steps runs there.
  auto slow_on_b = [&] {
    for (const auto& e : journal_of(root / "run"))
      if (e["event"] == "step_started" && e.value("node", "") == "b"
          && e.value("key", "").rfind("slow[", 0) == 0)
        return true;
    return false;
  };
  ASSERT_TRUE(wait_for(slow_on_b)) << e2e::slurp(run.log);
  b.kill_now();
  ASSERT_EQ(0, run.wait()) << e2e::slurp(run.log);
  EXPECT_TRUE(log_has(run, "\"summary\": \"6 warm, 6 slow\"")) << e2e::slurp(run.log);

  auto events = journal_of(root / "run");
  std::set<std::string> nodes, finished;
  bool lost = false, redispatched = false;
  for (const auto& e : events) {
    if (e["event"] == "step_finished") {
      nodes.insert(e.value("node", ""));
      EXPECT_TRUE(finished.insert(e["key"]).second) << "finished twice: " << e["key"];
    }
    lost = lost || (e["event"] == "executor_lost" && e["node"] == "b");
    redispatched = redispatched || (e["event"] == "step_redispatched" && e["from_node"] == "b");
  }
  EXPECT_TRUE(lost) << "the journal must record that node b was lost";
  EXPECT_TRUE(redispatched) << "b's running steps must be sent elsewhere";
  EXPECT_EQ((std::set<std::string>{"a", "b"}), nodes) << "steps must have run on both nodes";
  EXPECT_EQ(13u, finished.size());
  EXPECT_TRUE(log_has(a, "lost node 'b'")) << e2e::slurp(a.log);
}

} // namespace
