#pragma once

#include "actors/messages.hpp"
#include "dsl/ir.hpp"
#include "runtime/base/result.hpp"

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <string>
#include <vector>

namespace troupe::actors {

/// The router: picks the model(s) for each model step by utility with live
/// load, learned accuracy, cooldowns and fallbacks (runtime::router).
///   (route_atom, runtime::route_request) -> runtime::route_reply  (a decision, or ok = false and why)
///   (model_load)                                  GPU actors' load
///   (runtime::call_report)                        a call's end and its verdict
///   (stats_atom) -> std::string                   JSON snapshot
/// Event-based and fast (microseconds per decision): it never blocks.
using router_actor = caf::typed_actor<
  caf::replies_to<route_atom, runtime::route_request>::with<runtime::route_reply>,
  caf::reacts_to<model_load>,
  caf::reacts_to<runtime::call_report>,
  caf::replies_to<stats_atom>::with<std::string>>;

/// Spawns a router over `models` with default weights `policy`. Errors: the
/// models or weights are invalid (runtime::router::create's message).
base::result<router_actor, std::string>
router_actor_spawn(caf::actor_system& sys, std::vector<dsl::ir::model> models,
                   dsl::ir::router_policy policy);

} // namespace troupe::actors
