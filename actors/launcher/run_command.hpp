#pragma once

#include <string>
#include <vector>

namespace troupe::launcher {

struct run_options {
  std::string file;                ///< The .wf file (not needed with resume).
  std::string workflow;            ///< --workflow; "" = the entry workflow.
  std::vector<std::string> inputs; ///< --input NAME=VALUE, repeatable.
  std::string inputs_file;         ///< --inputs FILE.json.
  std::string resume;              ///< --resume RUN_ID.
  std::string config;              ///< --config troupe.toml.
  std::string cluster;             ///< --cluster HOST:PORT: run steps on the cluster's nodes.
  bool json = false;               ///< --json: stream events as JSON lines.
  bool explain = false;            ///< --explain: print routing decisions.
};

/// Exit codes of `troupe run`.
enum run_exit {
  run_ok = 0,           ///< Every step succeeded; outputs on stdout.
  run_bad_input = 1,    ///< The .wf file, inputs, config or run id is wrong.
  run_usage = 2,        ///< Command-line usage error (CLI11).
  run_failed = 3,       ///< A step failed for good; the run can be resumed.
  run_system_error = 4, ///< The run store or journal could not be written.
};

/// `troupe run`: compiles the file, deploys the workflow on actors, shows
/// progress on stderr (one live line per step on a terminal), and prints
/// the outputs as JSON on stdout. With --json, stdout carries every run
/// event as one JSON line instead; the outputs are in the run_finished event.
int cmd_run(const run_options& o, const std::string& version);

} // namespace troupe::launcher
