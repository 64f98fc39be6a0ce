#pragma once

// Helpers for tests that run the real `troupe` binary as a user would.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace e2e {

namespace fs = std::filesystem;

struct run_result {
  int status;
  std::string out; ///< stdout, and stderr unless stdout_only
};

/// Runs `troupe ARGS` through the shell (so ARGS may carry redirections and
/// a leading `cd DIR &&` prefix in `prefix`); captures stdout and, unless
/// `stdout_only`, stderr.
inline run_result run(const std::string& args, bool stdout_only = false,
                      const std::string& prefix = "") {
  std::string cmd = prefix + std::string(TROUPE_BIN) + " " + args
                    + (stdout_only ? " 2>/dev/null" : " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

/// A fresh directory for one test, under the system's temp directory.
inline fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path()
             / ("troupe-e2e-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline std::string scratch(const std::string& name, const std::string& text) {
  auto dir = fs::temp_directory_path() / ("troupe-launcher-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// Removes this process's fresh_dir() and scratch() directories once every
/// test of the process passed; after a failure they stay, with the run's
/// journal and logs, for whoever looks into it. (ctest runs each test in
/// a process of its own.)
class remove_dirs_on_success : public testing::Environment {
public:
  void TearDown() override {
    if (!testing::UnitTest::GetInstance()->Passed())
      return;
    const auto tmp = fs::temp_directory_path();
    const std::string mine = "troupe-e2e-" + std::to_string(getpid()) + "-";
    std::error_code ec;
    std::vector<fs::path> dirs{tmp / ("troupe-launcher-" + std::to_string(getpid()))};
    for (const auto& e : fs::directory_iterator(tmp, ec))
      if (e.path().filename().string().rfind(mine, 0) == 0)
        dirs.push_back(e.path());
    for (const auto& d : dirs)
      fs::remove_all(d, ec);
  }
};

inline testing::Environment* const remove_dirs_env =
  testing::AddGlobalTestEnvironment(new remove_dirs_on_success);

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string sample(const std::string& name) {
  return std::string(TROUPE_SOURCE_DIR) + "/workflows/" + name;
}

/// The directory holding the set-up models (scripts/setup puts stories260K
/// and SmolLM2 there), or "" when `model` is not in it.
inline std::string models_dir_with(const std::string& model) {
  auto dir = std::string(TROUPE_SOURCE_DIR) + "/models";
  return fs::exists(dir + "/" + model) ? dir : "";
}

/// The events of the journal in `run_dir`, one per line. With
/// `tolerate_torn`, lines that do not parse (a run still writing) are skipped.
inline std::vector<nlohmann::json> journal_events(const fs::path& run_dir,
                                                  bool tolerate_torn = false) {
  std::vector<nlohmann::json> events;
  std::istringstream in(slurp((run_dir / "journal.jsonl").string()));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto j = nlohmann::json::parse(line, nullptr, !tolerate_torn);
    if (!j.is_discarded())
      events.push_back(std::move(j));
  }
  return events;
}

/// The events of every run under `cwd`/.troupe/runs (none when it is absent).
inline std::vector<nlohmann::json> journals_under(const fs::path& cwd,
                                                  bool tolerate_torn = false) {
  std::vector<nlohmann::json> events;
  auto runs = cwd / ".troupe" / "runs";
  if (!fs::exists(runs))
    return events;
  for (const auto& r : fs::directory_iterator(runs))
    for (auto& e : journal_events(r.path(), tolerate_torn))
      events.push_back(std::move(e));
  return events;
}

} // namespace e2e
