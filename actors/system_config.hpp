#pragma once

#include "runtime/config.hpp"

#include "caf/actor_system_config.hpp"

namespace troupe::actors {

/// The CAF configuration a troupe process runs with: troupe's message
/// types, the [node] section's scheduler settings (threads, at least 2;
/// policy; an idle work-stealing worker's poll sleep), no console log, and
/// with `network` the middleman, to serve or join a cluster.
/// `troupe run`, `troupe node` and runtime_bench all start from it.
struct system_config : caf::actor_system_config {
  system_config(const runtime::node_config& node, bool network);
};

} // namespace troupe::actors
