#pragma once

#include <string>

namespace troupe::launcher {

struct node_options {
  std::string listen; ///< HOST:PORT; "" = node.listen from the configuration.
  std::string join;   ///< HOST:PORT of a member to join through; "" = start a cluster.
  std::string name;   ///< "" = node.name from the configuration.
  std::string config; ///< troupe.toml.
};

/// `troupe node`: starts a node hosting executors and GPU actors, publishes
/// its front door (node_actor) on the listen address, joins the cluster
/// through `join` when given, and serves until it is killed. Prints
/// "node NAME listening on HOST:PORT" on stderr once it serves. Returns 1
/// when the configuration, the secret, the address or the join is bad.
int cmd_node(const node_options& o);

} // namespace troupe::launcher
