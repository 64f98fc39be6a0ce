#pragma once

#include "actors/executor_actor.hpp"
#include "actors/messages.hpp"
#include "actors/router_actor.hpp"
#include "actors/verifier_actor.hpp"
#include "dsl/compile.hpp"
#include "runtime/journal_service.hpp"
#include "runtime/result_cache.hpp"
#include "runtime/value.hpp"

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace troupe::actors {

/// The planner: owns one run. It drives runtime::workflow_run, dispatching
/// every ready step at once (up to a bound): tool steps straight to an
/// executor; model steps to the router first, then to executors, then to
/// the verifier. A failed call or verification escalates to the next model
/// by utility (excluding the models already tried) up to the step's
/// `retries`; a final failure lists every attempt. A result counts as done
/// only after its step_finished event is durably in the journal. A model
/// step with `cache: TTL` first looks for a verified result of the same
/// kind, model and prompt (or a near duplicate by SimHash) and reuses it.
/// A `plan` step's answer is turned into a workflow (runtime::plan_to_wf),
/// checked by the .wf checker and run by a child planner under the step's
/// key; a plan that does not check is a failed attempt.
///   (run_atom) -> run_summary       answered when the run has ended
/// Every journal event is also sent as a run_event to the listeners.
using planner_actor = caf::typed_actor<caf::replies_to<run_atom>::with<run_summary>>;

/// Where each executor lives, for picking the least loaded and for the
/// journal.
struct executor_slot {
  executor_actor actor;
  std::string node;
  bool local = false; ///< Spawned by this process (deploy() stops it at the end).
};

struct planner_options {
  std::shared_ptr<const dsl::compilation> program; ///< Must hold a checked graph.
  std::string workflow;
  runtime::value inputs;                          ///< Bound (runtime::bind_inputs).
  std::string run_id;
  std::string workflow_file;                      ///< For run_started.
  std::map<std::string, runtime::value> restored; ///< From an earlier attempt at the run.
  std::shared_ptr<runtime::journal_service> journal;
  router_actor router;
  verifier_actor verifier;
  std::vector<executor_slot> executors;           ///< At least one.
  std::vector<caf::actor> listeners;
  size_t max_concurrent_steps = 64;
  /// Verified model results to reuse (steps with `cache: TTL`); null: off.
  /// The planner owns it during the run and saves it to `cache_file` at the end.
  std::shared_ptr<runtime::result_cache> cache;
  std::filesystem::path cache_file;
  /// Set for the run of a plan's steps (a child planner): prefixed to every
  /// key it journals ("outline@1a2b/"), and how deep plans are nested.
  std::string key_prefix;
  int plan_depth = 0;
  size_t plan_max_steps = 64; ///< [limits] plan_max_steps.
  /// This node's name when it runs steps itself (it has local executors):
  /// then quick pure tools (runtime::tool_is_quick()) run in the planner,
  /// recorded as run on this node, without a round trip to an executor.
  /// Empty: every job goes to an executor.
  std::string quick_tools_node;
};

/// The options of a child planner that runs an accepted plan (workflow
/// `workflow` of `program`) under `key_prefix` ("outline@1a2b/", the whole
/// prefix): the parent's run, journal, router, executors, listeners and
/// limits, one level deeper, with the parent's restored results under that
/// prefix. The caller sets `verifier` (one over `program`).
planner_options plan_run_options(const planner_options& parent,
                                 std::shared_ptr<const dsl::compilation> program,
                                 std::string workflow, std::string key_prefix);

/// The actors running an accepted plan: a child planner with
/// plan_run_options() and a verifier over the plan's program.
struct plan_run {
  planner_actor planner;
  verifier_actor verifier;
  void stop() const; ///< Sends both an exit (user_shutdown).
};

plan_run plan_run_spawn(caf::actor_system& sys, const planner_options& parent,
                        std::shared_ptr<const dsl::compilation> program, std::string workflow,
                        std::string key_prefix);

/// Spawns a planner; the run starts with the first (run_atom) request.
planner_actor planner_actor_spawn(caf::actor_system& sys, planner_options opts);

} // namespace troupe::actors
