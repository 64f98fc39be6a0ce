#include "runtime/base/utf8.hpp"
#include "runtime/tools_builtin.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdlib>
#include <cstring>
#include <thread>

// The shell tool: an allowlisted program run directly (no /bin/sh), in the
// workspace, with its output and its run time bounded.

namespace troupe::runtime {

namespace {

enum class quote { none, single, dbl };

void commit_word(std::vector<std::string>& words, std::string& word, bool& in_word) {
  if (in_word)
    words.push_back(std::move(word));
  word.clear();
  in_word = false;
}

} // namespace

result<std::vector<std::string>, std::string> shell_split(const std::string& command) {
  if (command.find('\0') != std::string::npos)
    return std::string{"command contains a NUL byte"};
  std::vector<std::string> words;
  std::string word;
  bool in_word = false; // Distinguishes '' (an empty word) from no word.
  quote q = quote::none;
  for (size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (q == quote::single) {
      if (c == '\'')
        q = quote::none;
      else
        word += c;
    } else if (q == quote::dbl) {
      if (c == '"')
        q = quote::none;
      else if (c == '\\' && i + 1 < command.size()
               && (command[i + 1] == '"' || command[i + 1] == '\\'))
        word += command[++i];
      else
        word += c;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      commit_word(words, word, in_word);
    } else {
      in_word = true;
      if (c == '\'')
        q = quote::single;
      else if (c == '"')
        q = quote::dbl;
      else
        word += c;
    }
  }
  if (q != quote::none)
    return std::string{"command has an unterminated "}
           + (q == quote::single ? "single" : "double") + " quote";
  commit_word(words, word, in_word);
  if (words.empty())
    return std::string{"command is empty"};
  return words;
}

namespace tools_builtin {

namespace {

namespace chr = std::chrono;

constexpr size_t stderr_keep = 64 * 1024; // Only an excerpt is reported.
constexpr size_t excerpt_bytes = 500;

// What a finished (or killed) program left behind.
struct process_outcome {
  std::string out;
  std::string err;
  int status = 0;
  bool timed_out = false;
  bool overflowed = false;
};

// The start of `text` as a message can carry it: at most `max` bytes, and
// non-ASCII bytes replaced by '?' when the excerpt is not valid UTF-8.
std::string excerpt(const std::string& text, size_t max) {
  std::string s = text.substr(0, max);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  base::utf8_ascii_fallback(s);
  return text.size() > max ? s + "..." : s;
}

// The child's environment: enough to find programs and read text, and none
// of the parent's secrets (API keys live in its environment).
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"})
    if (const char* v = std::getenv(name))
      env.push_back(std::string{name} + "=" + v);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Starts argv in `cwd` with stdin from /dev/null and stdout/stderr into the
// given pipe ends, in a process group of its own (so a timeout can kill
// whatever it started). Returns the pid or why it could not start.
result<pid_t, std::string> spawn(std::vector<std::string> argv, const std::string& cwd, int out_fd,
                         int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                    | POSIX_SPAWN_SETSIGDEF);
  auto env = child_environment();
  auto argv_c = c_strings(argv);
  auto env_c = c_strings(env);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv_c[0], &actions, &attr, argv_c.data(), env_c.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc == ENOENT)
    return "program '" + argv[0] + "' was not found on PATH";
  if (rc != 0)
    return "cannot start '" + argv[0] + "': " + std::strerror(rc);
  return pid;
}

int64_t ms_left(chr::steady_clock::time_point deadline) {
  return chr::duration_cast<chr::milliseconds>(deadline - chr::steady_clock::now()).count();
}

// Reads both pipes until they close, the output limit is passed or the
// deadline comes; then reaps the child, killing its group if it must.
void collect(pid_t pid, int out_fd, int err_fd, const shell_policy& policy,
             process_outcome& o) {
  const auto deadline = chr::steady_clock::now() + chr::milliseconds(policy.timeout_ms);
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  char buffer[64 * 1024];
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && !o.overflowed) {
    const int64_t left = ms_left(deadline);
    if (left <= 0) {
      o.timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1000))) <= 0)
      continue; // Timeout or EINTR: the deadline check decides.
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0)
        continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        fds[i].fd = -1; // poll skips negative descriptors.
        continue;
      }
      std::string& sink = i == 0 ? o.out : o.err;
      if (i == 1 && sink.size() >= stderr_keep)
        continue; // Keep draining so the child never blocks on stderr.
      sink.append(buffer, static_cast<size_t>(n));
      if (i == 0 && sink.size() > policy.max_output)
        o.overflowed = true;
    }
  }
  // A child may close its pipes and keep running; the deadline still holds.
  while (!o.timed_out && !o.overflowed && ::waitpid(pid, &o.status, WNOHANG) == 0) {
    if (ms_left(deadline) <= 0)
      o.timed_out = true;
    else
      std::this_thread::sleep_for(chr::milliseconds(2));
  }
  if (o.timed_out || o.overflowed) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &o.status, 0) < 0 && errno == EINTR) {
    }
  }
}

result<process_outcome, std::string> run_process(const std::vector<std::string>& argv,
                                                 const std::string& cwd,
                                                 const shell_policy& policy) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return "cannot create a pipe: " + std::string{std::strerror(errno)};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return "cannot create a pipe: " + std::string{std::strerror(err)};
  }
  auto pid = spawn(argv, cwd, out_pipe[1], err_pipe[1]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  process_outcome o;
  if (pid)
    collect(pid.value(), out_pipe[0], err_pipe[0], policy, o);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (!pid)
    return pid.error();
  return o;
}

std::string allow_list(const shell_policy& policy) {
  std::string s;
  for (const auto& name : policy.allow)
    s += (s.empty() ? "" : ", ") + name;
  return s.empty() ? "none" : s;
}

// The tool's answer for a finished process.
tool_result outcome_result(const std::string& command, const process_outcome& o,
                           const shell_policy& policy) {
  const std::string what = "command '" + excerpt(command, 200) + "'";
  if (o.timed_out)
    return fail("shell", what + " timed out after " + std::to_string(policy.timeout_ms)
                           + " ms and was killed");
  if (o.overflowed)
    return fail("shell", what + " wrote more than max_output ("
                           + std::to_string(policy.max_output) + " bytes) and was killed");
  if (WIFSIGNALED(o.status))
    return fail("shell", what + " was killed by signal " + std::to_string(WTERMSIG(o.status))
                           + " (" + strsignal(WTERMSIG(o.status)) + ")");
  if (WIFEXITED(o.status) && WEXITSTATUS(o.status) != 0) {
    std::string message = what + " exited with code " + std::to_string(WEXITSTATUS(o.status));
    const std::string err = excerpt(o.err, excerpt_bytes);
    return fail("shell", err.empty() ? message : message + ": " + err);
  }
  auto utf8 = require_utf8("shell", "output of " + what, o.out);
  if (!utf8)
    return utf8.error();
  return value(o.out);
}

} // namespace

tool_result shell(const value& args, const tool_context& ctx) {
  const shell_policy& policy = ctx.shell;
  if (!policy.enabled)
    return fail("shell", "the shell tool is disabled for this run; enable it, with an "
                         "allowlist of programs, in the run's configuration");
  const std::string& command = text_arg(args, "command");
  auto argv = shell_split(command);
  if (!argv)
    return fail("shell", argv.error());
  const std::string& program = argv.value()[0];
  if (program.find('/') != std::string::npos)
    return fail("shell", "program '" + program + "' is a path; name an allowlisted program"
                                                 " (allowed: " + allow_list(policy) + ")");
  if (std::find(policy.allow.begin(), policy.allow.end(), program) == policy.allow.end())
    return fail("shell", "program '" + program + "' is not allowlisted (allowed: "
                           + allow_list(policy) + ")");
  if (policy.timeout_ms <= 0)
    return fail("shell", "the shell timeout must be positive");
  std::error_code ec;
  if (!std::filesystem::is_directory(ctx.workspace, ec))
    return fail("shell", "workspace '" + ctx.workspace.string() + "' is not a directory");
  auto outcome = run_process(argv.value(), ctx.workspace.string(), policy);
  if (!outcome)
    return fail("shell", outcome.error());
  return outcome_result(command, outcome.value(), policy);
}

} // namespace tools_builtin

} // namespace troupe::runtime
