#pragma once

#include "actors/executor_actor.hpp"
#include "actors/model_host.hpp"
#include "actors/planner_actor.hpp"
#include "actors/router_actor.hpp"
#include "actors/verifier_actor.hpp"
#include "dsl/compile.hpp"
#include "runtime/config.hpp"
#include "runtime/journal_service.hpp"
#include "runtime/base/result.hpp"
#include "runtime/run_store.hpp"
#include "runtime/value.hpp"

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

/// deploy(): the step of the data path from a checked graph to actors.
///   checked graph -> deploy() -> actors -> messages -> run record
namespace troupe::actors {

/// What one launch runs, resolved once (by resolve_run()) before deploy().
/// Invariants: `workflow` points into the checked graph it was resolved
/// against and lives as long as that compilation; with `resumed`, it is the
/// workflow that resumed->meta.workflow_name names.
struct resolved_run {
  const dsl::ir::workflow* workflow = nullptr;
  std::optional<runtime::run_handle> resumed; ///< The earlier run to finish, run.json read.
};

struct deploy_options {
  std::shared_ptr<const dsl::compilation> program; ///< Must hold a checked graph.
  resolved_run run;            ///< From resolve_run() against `program`.
  runtime::value inputs = runtime::value::object(); ///< Given by the user, not yet bound;
                                                    ///< a resumed run binds its own.
  runtime::config config;      ///< Node, limits, engine, tools, paths.
  std::vector<caf::actor> listeners;    ///< Receive every run_event.
  std::vector<executor_slot> remote_executors; ///< On other nodes (cluster).
  bool local_executors = true; ///< Also run steps on this process.
  std::string version;         ///< Recorded in run.json.
};

/// What deploy() started. The planner holds the run; the rest live as long
/// as the handles here (or the planner's references) do.
struct deployment {
  planner_actor planner;
  std::string run_id;
  std::filesystem::path run_dir;
  std::shared_ptr<runtime::journal_service> journal;
  std::shared_ptr<model_host> models;
  router_actor router;
  verifier_actor verifier;
  std::vector<executor_slot> executors;
  size_t reused = 0; ///< Steps restored from the journal on resume.
};

/// Why deploy() could not start a run; `lines` are complete sentences.
struct deploy_error {
  std::vector<std::string> lines;
  bool user_error = true; ///< Bad inputs or run id (exit 1), else a system fault.
};

/// This node's GPU actors (started on first use) as the configuration's
/// [engine] and [limits] say; `load_listeners` get their load reports.
std::shared_ptr<model_host> model_host_from(caf::actor_system& sys, const runtime::config& c,
                                            const std::string& node,
                                            std::vector<caf::actor> load_listeners = {});

/// Executor settings from the configuration's [tools.shell] and [limits].
executor_options executor_options_from(const runtime::config& c, const std::string& node,
                                       std::filesystem::path runs_root,
                                       std::shared_ptr<model_host> models);

/// Stops every local actor of `d` (planner, router, verifier, local
/// executors, GPU actors), e.g. once the run has ended, so the actor system
/// can shut down even while connections to other nodes stay open.
void shutdown(const deployment& d);

/// Runs `d` to its end from a blocking actor that `d` lists as a listener
/// (or not: then no events arrive): sends run_atom to the planner, hands
/// every run event to `on_event` while waiting, and returns the summary;
/// a planner that fails instead gives a failed summary saying why. Then
/// flushes the journal and shut down()s the deployment: an actor that
/// ever talked to another node is registered with the middleman and would
/// otherwise keep the actor system from shutting down.
run_summary run_to_end(caf::scoped_actor& self, const deployment& d,
                       const std::function<void(const run_event&)>& on_event = {});

/// The workflow `troupe run` runs when none is named: the only workflow of
/// the main file, else the one named `main`; else an error listing them.
base::result<std::string, deploy_error> entry_workflow(const dsl::checked_graph& g);

/// The run store that the configuration's paths.runs names
/// (run_store::default_root when it is empty).
runtime::run_store run_store_of(const runtime::config& c);

/// The workflow a launch runs in `program` (which must hold a checked
/// graph): the one `resumed` recorded when resuming, else the one named
/// `workflow`, else entry_workflow()'s. A name that `program` does not
/// define, and entry_workflow()'s errors, are user errors.
base::result<resolved_run, deploy_error>
resolve_run(const dsl::compilation& program, const std::string& workflow,
            std::optional<runtime::run_handle> resumed);

/// Binds the inputs, creates (or, with opts.run.resumed, checks) the
/// run's directory and journal, and spawns router, verifier, executors and
/// planner. Resuming refuses a run whose workflow file changed (SHA-256),
/// and restores every step the journal records as finished and verified.
/// Send (run_atom) to the planner to start the run.
base::result<deployment, deploy_error> deploy(caf::actor_system& sys, deploy_options opts);

} // namespace troupe::actors
