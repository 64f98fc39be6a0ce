// runtime_bench: the runtime's overhead per step, for docs/benchmarks.md.
//
//   build/bin/runtime_bench [--steps N] [--reps R] [--quick] [--listener]
//                           [--shape wide|chain] [--store disk|tmpfs] [--concurrency N]
//                           [--scheduler stealing|sharing] [--moderate-sleep-us US]
//                           [--nodes 1|2|both] [--compile-only]
//
// Generates two workflows of N (default 10000) trivial `template` tool
// steps: "wide", N independent steps gathered by one list output, and
// "chain", each step reading the one before it. Each is compiled once
// (compile time printed on its own: it is not runtime overhead), then
// deployed in this process with actors::deploy() (router, verifier, local
// executors, planner; a real run store and journal) and run R times
// (default 3). The figure per run is the wall time from sending run_atom
// to the planner to receiving its run_summary, divided by N; the table
// gives the min and median of the R runs. That interval includes the
// journal (two events per step, written by the journal thread; `template`
// is a pure tool, so its step_finished is not waited for, while a step with
// cost or side effects waits for its fdatasync), so each shape runs twice:
// with the run store on the temp directory's file system and on tmpfs
// (/dev/shm), whose fdatasync costs nothing; the difference is sync cost.
// Every run is checked afterwards: ok, N step_finished events in the
// journal, and the expected outputs.
//
// First it prints compile time against size (1,000 / 10,000 / 100,000
// steps of each shape); --compile-only stops there.
// --listener adds a listener that receives every run event, as `troupe run`
// does for its live view. --quick runs 500 steps once (a smoke test).
// --shape and --store run one part only (for profiling it: see
// docs/benchmarks.md). --concurrency sets limits.max_concurrent_steps
// (default 64); a step whose result waits only for its fdatasync has
// given its slot back already.
// --scheduler and --moderate-sleep-us set troupe.toml's [node] scheduler
// and idle_sleep_us, in this process and in the two-node mode's node
// process: an idle work-stealing worker polls with such sleeps (CAF's
// moderate-sleep-duration; troupe sets 0, CAF 50 us) before it waits on a
// condition variable, and every hop of a chain's critical path may land
// on such a worker.
#include "actors/deploy.hpp"
#include "actors/messages.hpp"
#include "actors/node_actor.hpp"
#include "actors/system_config.hpp"
#include "dsl/compile.hpp"
#include "runtime/config.hpp"
#include "runtime/journal.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace troupe;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr long tmpfs_magic = 0x01021994; // TMPFS_MAGIC, <linux/magic.h>

double since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// User and system time of every thread of this process so far.
double cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// -- generated workflows ------------------------------------------------------

std::string step_line(size_t i, const std::string& text) {
  return "  tool s" + std::to_string(i) + " { use: template args { text: \"" + text
         + "\" } }\n";
}

// N independent steps; one list output reads them all, so none is unused.
std::string wide_source(size_t n) {
  std::string s = "# runtime_bench: " + std::to_string(n) + " independent template steps.\n"
                  "workflow wide {\n";
  for (size_t i = 0; i < n; ++i)
    s += step_line(i, "x" + std::to_string(i));
  s += "  output all: list<text> = [";
  for (size_t i = 0; i < n; ++i)
    s += (i % 16 == 0 ? "\n    " : " ") + ("s" + std::to_string(i)) + ",";
  s += "\n  ]\n}\n";
  return s;
}

// Step i reads step i-1 (through len(), so values stay short).
std::string chain_source(size_t n) {
  std::string s = "# runtime_bench: a chain of " + std::to_string(n) + " template steps.\n"
                  "workflow chain {\n";
  s += step_line(0, "x0");
  for (size_t i = 1; i < n; ++i)
    s += step_line(i, "x" + std::to_string(i) + " {{len(s" + std::to_string(i - 1) + ")}}");
  s += "  output last: text = s" + std::to_string(n - 1) + "\n}\n";
  return s;
}

// What a finished run must have produced.
bool outputs_as_expected(const std::string& shape, size_t n, const runtime::value& out) {
  if (shape == "wide")
    return out.contains("all") && out["all"].is_array() && out["all"].size() == n
           && out["all"][n - 1] == "x" + std::to_string(n - 1);
  std::string last = "x0";
  for (size_t i = 1; i < n; ++i)
    last = "x" + std::to_string(i) + " " + std::to_string(last.size());
  return out.contains("last") && out["last"] == last;
}

// -- where steps run and where runs are stored ------------------------------

// Where steps run. One node: the deployment's own local executors. A
// two-node mode fills `remote_executors` with executors spawned on another
// node (caf::io remote_spawn over loopback) and may turn local ones off;
// run_once() passes both to deploy() unchanged, so nothing else here moves.
struct placement {
  std::string label = "one node";
  bool local_executors = true;
  std::vector<actors::executor_slot> remote_executors;
};

// A run store root, removed when done.
struct store_dir {
  std::string label;
  fs::path root;
  ~store_dir() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

std::unique_ptr<store_dir> make_store(const fs::path& parent, const std::string& label) {
  std::string tmpl = (parent / "troupe-runtime-bench-XXXXXX").string();
  if (!mkdtemp(tmpl.data()))
    return nullptr;
  struct statfs sf {};
  bool tmpfs = statfs(tmpl.c_str(), &sf) == 0 && long(sf.f_type) == tmpfs_magic;
  auto d = std::make_unique<store_dir>();
  d->label = label + (tmpfs ? " (tmpfs)" : " (disk)");
  d->root = tmpl;
  return d;
}

// A `troupe node` child process on loopback, for the two-node mode: the
// planner stays here and every step crosses to the other process.
struct node_process {
  pid_t pid = -1;
  fs::path dir;
  ~node_process() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

const char* bench_secret = "runtime-bench-secret";

// Starts `troupe node --listen 127.0.0.1:0` and joins it as a client: its
// executors become the placement's. Empty when that fails (reason on stderr).
// The node runs with the same [node] scheduler settings as this process.
std::optional<placement> two_nodes(caf::actor_system& sys, node_process& node,
                                   const runtime::node_config& settings) {
  std::string tmpl = (fs::temp_directory_path() / "troupe-bench-node-XXXXXX").string();
  if (!mkdtemp(tmpl.data()))
    return std::nullopt;
  node.dir = tmpl;
  std::ofstream(node.dir / "troupe.toml")
    << "[node]\nthreads = " << settings.threads << "\nscheduler = \"" << settings.scheduler
    << "\"\nidle_sleep_us = " << settings.idle_sleep_us << "\n";
  auto log = node.dir / "node.log";
  node.pid = fork();
  if (node.pid == 0) {
    if (chdir(node.dir.c_str()) != 0)
      _exit(127);
    setenv("TROUPE_CLUSTER_SECRET", bench_secret, 1);
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    execl(TROUPE_BIN, "troupe", "node", "--listen", "127.0.0.1:0", "--name", "node-2",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string port;
  for (int i = 0; i < 500 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    auto at = text.str().find("listening on 127.0.0.1:");
    if (at != std::string::npos) {
      auto rest = text.str().substr(at + 23);
      port = rest.substr(0, rest.find_first_not_of("0123456789"));
    }
  }
  if (port.empty()) {
    std::fprintf(stderr, "runtime_bench: the node did not start (see %s)\n", log.c_str());
    return std::nullopt;
  }
  runtime::host_port seed{"127.0.0.1", uint16_t(std::stoi(port))};
  auto view = actors::cluster_connect(sys, seed, "runtime-bench", bench_secret);
  if (!view) {
    std::fprintf(stderr, "runtime_bench: %s\n", view.error().message.c_str());
    return std::nullopt;
  }
  placement p;
  p.label = "two nodes (loopback)";
  p.local_executors = false;
  for (const auto& m : view.value().members)
    for (const auto& e : m.executors)
      p.remote_executors.push_back({caf::actor_cast<actors::executor_actor>(e), m.name, false});
  return p;
}

// -- one run ---------------------------------------------------------------------

struct run_figures {
  double deploy_s = 0;     ///< deploy(): run directory, journal, actors.
  double run_s = 0;        ///< run_atom sent -> run_summary received.
  double cpu_s = 0;        ///< CPU time of the whole process (all threads) meanwhile.
  size_t listener_events = 0;
  runtime::journal_service_stats journal;
  uintmax_t journal_bytes = 0;
  size_t steps_finished = 0;  ///< step_finished events read back from the journal.
};

// Deploys `program` into `store`, runs it once, checks the record. Exits
// the process on any failure: a benchmark of a broken run means nothing.
run_figures run_once(caf::actor_system& sys, const std::shared_ptr<const dsl::compilation>& program,
                     const runtime::config& base, const store_dir& store, const placement& where,
                     const std::string& shape, size_t n, bool listener) {
  run_figures f;
  caf::scoped_actor self{sys};
  auto run = actors::resolve_run(*program, "", std::nullopt);
  if (!run) {
    for (const auto& line : run.error().lines)
      std::fprintf(stderr, "runtime_bench: %s\n", line.c_str());
    std::exit(1);
  }
  actors::deploy_options d;
  d.program = program;
  d.run = std::move(run).value();
  d.config = base;
  d.config.paths.runs = store.root;
  d.local_executors = where.local_executors;
  d.remote_executors = where.remote_executors;
  d.version = "runtime_bench";
  if (listener)
    d.listeners.push_back(caf::actor{self});
  auto t0 = clock_type::now();
  auto dep = actors::deploy(sys, std::move(d));
  if (!dep) {
    for (const auto& line : dep.error().lines)
      std::fprintf(stderr, "runtime_bench: deploy: %s\n", line.c_str());
    std::exit(1);
  }
  f.deploy_s = since(t0);
  double cpu0 = cpu_seconds();
  auto t1 = clock_type::now();
  // The summary comes after run_finished is durable; the flush in
  // run_to_end() costs nothing more.
  auto summary =
    actors::run_to_end(self, dep.value(), [&](const actors::run_event&) { ++f.listener_events; });
  f.run_s = since(t1);
  f.cpu_s = cpu_seconds() - cpu0;
  f.journal = dep.value().journal->stats();
  f.journal_bytes = fs::file_size(dep.value().journal->path());
  if (!summary.ok) {
    std::fprintf(stderr, "runtime_bench: the %s run failed (its record is kept in %s):\n",
                 shape.c_str(), dep.value().run_dir.c_str());
    for (const auto& why : summary.failures)
      std::fprintf(stderr, "  %s\n", why.c_str());
    std::exit(1);
  }
  auto events = runtime::read_journal(dep.value().journal->path());
  if (!events) {
    std::fprintf(stderr, "runtime_bench: %s\n", events.error().message.c_str());
    std::exit(1);
  }
  for (const auto& e : events.value().events)
    f.steps_finished += e["event"] == "step_finished" ? 1 : 0;
  auto out = runtime::value::parse(summary.outputs_json, nullptr, false);
  // A listener sees every event, and all of them before the summary: both
  // come from the planner, and CAF keeps one sender's messages in order.
  size_t heard = listener ? events.value().events.size() : 0;
  if (f.steps_finished != n || !outputs_as_expected(shape, n, out)
      || f.listener_events != heard) {
    std::fprintf(stderr, "runtime_bench: the %s run's record (kept in %s) is wrong: %zu of "
                 "%zu steps journaled as finished, %zu of %zu events heard, outputs %.200s\n",
                 shape.c_str(), dep.value().run_dir.c_str(), f.steps_finished, n,
                 f.listener_events, heard, summary.outputs_json.c_str());
    std::exit(1);
  }
  return f;
}

// -- the table --------------------------------------------------------------------

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

struct options {
  size_t steps = 10000;
  int reps = 3;
  bool quick = false;
  bool listener = false;
  std::string shape;  ///< "" both, else "wide" or "chain".
  std::string store;  ///< "" both, else "disk" or "tmpfs".
  size_t concurrency = 0; ///< limits.max_concurrent_steps; 0 keeps the default.
  std::string policy;          ///< [node] scheduler; "": the default.
  long moderate_sleep_us = -1; ///< [node] idle_sleep_us; -1: the default.
  std::string nodes = "both";      ///< "1", "2" or "both".
  bool compile_only = false;       ///< Only the compile-scaling table.
};

void bench_shape(caf::actor_system& sys, const runtime::config& base, const options& o,
                 const std::string& shape, const std::shared_ptr<const dsl::compilation>& program,
                 const std::vector<const store_dir*>& stores, const placement& where) {
  for (const auto* store : stores) {
    std::vector<double> per_step, cpu_per_step;
    run_figures last;
    double deploy_s = 0;
    for (int r = 0; r < o.reps; ++r) {
      last = run_once(sys, program, base, *store, where, shape, o.steps, o.listener);
      per_step.push_back(1e6 * last.run_s / double(o.steps));
      cpu_per_step.push_back(1e6 * last.cpu_s / double(o.steps));
      deploy_s += last.deploy_s;
    }
    double lo = *std::min_element(per_step.begin(), per_step.end());
    std::printf("| %s | %s | %s | %zu | %.1f | %.1f | %.1f | %.2f s | %.1f ms | %.1f MB | %lld "
                "| %lld | %lld |\n",
                shape.c_str(), where.label.c_str(), store->label.c_str(), o.steps, lo,
                median(per_step), median(cpu_per_step), median(per_step) * double(o.steps) / 1e6,
                1e3 * deploy_s / o.reps, double(last.journal_bytes) / 1e6,
                (long long)last.journal.events, (long long)last.journal.syncs,
                (long long)last.journal.batches);
    std::fflush(stdout);
  }
}

// Compile time against size: each shape at 1,000, 10,000 and 100,000
// steps (up to 1,000 with --quick), compiled once each. Time per step
// should stay flat.
bool compile_scaling(const options& o) {
  std::printf("## Compile time by size\n\n"
              "| shape | steps | .wf bytes | compile | per step |\n|---|---|---|---|---|\n");
  for (const char* name : {"wide", "chain"}) {
    if (!o.shape.empty() && o.shape != name)
      continue;
    for (size_t n : {size_t(1000), size_t(10000), size_t(100000)}) {
      if (o.quick && n > 1000)
        break;
      std::string text = std::string(name) == "wide" ? wide_source(n) : chain_source(n);
      size_t bytes = text.size();
      auto t0 = clock_type::now();
      auto program = dsl::compile_source(std::string(name) + ".wf", std::move(text));
      double s = since(t0);
      if (!program->ok()) {
        std::fprintf(stderr, "runtime_bench: the generated %s workflow does not compile:\n%s",
                     name, program->report().c_str());
        return false;
      }
      std::printf("| %s | %zu | %zu | %.0f ms | %.1f us |\n", name, n, bytes, 1e3 * s,
                  1e6 * s / double(n));
      std::fflush(stdout);
    }
  }
  std::printf("\n");
  return true;
}

bool parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    auto number = [&](long lo, long hi, long& out) {
      if (i + 1 >= argc)
        return false;
      char* end = nullptr;
      out = std::strtol(argv[++i], &end, 10);
      return *end == '\0' && out >= lo && out <= hi;
    };
    long v = 0;
    if (!std::strcmp(argv[i], "--quick")) {
      o.quick = true;
    } else if (!std::strcmp(argv[i], "--compile-only")) {
      o.compile_only = true;
    } else if (!std::strcmp(argv[i], "--listener")) {
      o.listener = true;
    } else if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) {
      o.shape = argv[++i];
      if (o.shape != "wide" && o.shape != "chain")
        return false;
    } else if (!std::strcmp(argv[i], "--store") && i + 1 < argc) {
      o.store = argv[++i];
      if (o.store != "disk" && o.store != "tmpfs")
        return false;
    } else if (!std::strcmp(argv[i], "--steps")) {
      if (!number(2, 10000000, v))
        return false;
      o.steps = size_t(v);
    } else if (!std::strcmp(argv[i], "--concurrency")) {
      if (!number(1, 1000000, v))
        return false;
      o.concurrency = size_t(v);
    } else if (!std::strcmp(argv[i], "--scheduler") && i + 1 < argc) {
      o.policy = argv[++i];
      if (o.policy != "stealing" && o.policy != "sharing")
        return false;
    } else if (!std::strcmp(argv[i], "--moderate-sleep-us")) {
      if (!number(0, 1000000, v))
        return false;
      o.moderate_sleep_us = v;
    } else if (!std::strcmp(argv[i], "--nodes") && i + 1 < argc) {
      o.nodes = argv[++i];
      if (o.nodes != "1" && o.nodes != "2" && o.nodes != "both")
        return false;
    } else if (!std::strcmp(argv[i], "--reps")) {
      if (!number(1, 1000, v))
        return false;
      o.reps = int(v);
    } else {
      return false;
    }
  }
  if (o.quick) {
    o.steps = std::min<size_t>(o.steps, 500);
    o.reps = 1;
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_args(argc, argv, o)) {
    std::fprintf(stderr, "usage: runtime_bench [--steps N (2..10000000)] [--reps R] [--quick] "
                         "[--listener] [--shape wide|chain] [--store disk|tmpfs] "
                         "[--concurrency N] [--scheduler stealing|sharing] "
                         "[--moderate-sleep-us US] [--nodes 1|2|both] [--compile-only]\n");
    return 2;
  }
  auto base = runtime::default_config();
  if (o.concurrency > 0)
    base.limits.max_concurrent_steps = o.concurrency;
  if (!o.policy.empty())
    base.node.scheduler = o.policy;
  if (o.moderate_sleep_us >= 0)
    base.node.idle_sleep_us = o.moderate_sleep_us;
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("runtime_bench: %zu steps, %d runs each, %u hardware threads, CAF scheduler %s "
              "with %d threads (idle sleep %lld us), max_concurrent_steps %zu, listener %s, "
              "load average %.2f %.2f %.2f\n\n",
              o.steps, o.reps, std::thread::hardware_concurrency(), base.node.scheduler.c_str(),
              std::max(2, base.node.threads), (long long)base.node.idle_sleep_us,
              base.limits.max_concurrent_steps,
              o.listener ? "on" : "off", load[0], load[1], load[2]);

  if (!compile_scaling(o))
    return 1;
  if (o.compile_only)
    return 0;

  struct shape_program {
    std::string name;
    std::shared_ptr<const dsl::compilation> program;
  };
  std::vector<shape_program> shapes;
  std::printf("## Compile (not part of the per-step figure)\n\n"
              "| shape | steps | .wf bytes | compile |\n|---|---|---|---|\n");
  for (const char* name : {"wide", "chain"}) {
    if (!o.shape.empty() && o.shape != name)
      continue;
    std::string text = std::string(name) == "wide" ? wide_source(o.steps) : chain_source(o.steps);
    size_t bytes = text.size();
    auto t0 = clock_type::now();
    std::shared_ptr<const dsl::compilation> program =
      dsl::compile_source(std::string(name) + ".wf", std::move(text));
    double s = since(t0);
    if (!program->ok()) {
      std::fprintf(stderr, "runtime_bench: the generated %s workflow does not compile:\n%s",
                   name, program->report().c_str());
      return 1;
    }
    std::printf("| %s | %zu | %zu | %.0f ms |\n", name, o.steps, bytes, 1e3 * s);
    shapes.push_back({name, program});
  }

  std::vector<std::unique_ptr<store_dir>> owned;
  if (o.store != "tmpfs")
    owned.push_back(make_store(fs::temp_directory_path(), "temp dir"));
  if (o.store != "disk" && fs::is_directory("/dev/shm"))
    owned.push_back(make_store("/dev/shm", "/dev/shm"));
  std::vector<const store_dir*> stores;
  for (const auto& s : owned) {
    if (!s) {
      std::fprintf(stderr, "runtime_bench: cannot create a run store directory\n");
      return 1;
    }
    stores.push_back(s.get());
  }

  std::printf("\n## Runtime overhead per step (run_atom sent -> run_summary received)\n\n"
              "| shape | nodes | run store | steps | us/step min | us/step median "
              "| CPU us/step | run median | deploy | journal | events | syncs | batches |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  actors::system_config sys_cfg(base.node, true); // Two nodes talk over the network.
  {
    caf::actor_system sys{sys_cfg};
    placement one_node;
    if (o.nodes != "2")
      for (const auto& s : shapes)
        bench_shape(sys, base, o, s.name, s.program, stores, one_node);
    if (o.nodes != "1") {
      node_process node;
      auto two = two_nodes(sys, node, base.node);
      if (!two)
        return 1;
      for (const auto& s : shapes)
        bench_shape(sys, base, o, s.name, s.program, stores, *two);
    }
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("\nPeak resident memory: %.0f MB\n", double(ru.ru_maxrss) / 1024);
  return 0;
}
