#pragma once

#include "actors/messages.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/result.hpp"
#include "runtime/config.hpp"

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <string>
#include <vector>

namespace troupe::actors {

/// A cluster node's front door, published on its listen address. It keeps
/// the membership: itself and every node that joined through it, each with
/// its executors, and drops a member whose executors go down (the node died
/// or its connection broke).
///   (hello_atom) -> std::string            a fresh nonce for one join
///   (join_atom, join_request) -> join_reply
/// A join is accepted only with a valid proof of the shared secret
/// (runtime::cluster_proof); anything else is refused with the reason, and
/// the peer learns no executor.
using node_actor = caf::typed_actor<
  caf::replies_to<hello_atom>::with<std::string>,
  caf::replies_to<join_atom, join_request>::with<join_reply>>;

struct node_options {
  std::string name;
  std::string address;               ///< HOST:PORT it listens on.
  std::string secret;                ///< Not empty.
  std::vector<caf::actor> executors; ///< This node's own.
  bool log_joins = true;             ///< One line on stderr per join or refusal.
};

node_actor node_actor_spawn(caf::actor_system& sys, node_options opts);

/// Why a node could not join or reach the cluster: a message only.
using join_error = base::error;

/// Joins the cluster through the node at `seed` (blocking: connects with
/// the io middleman, asks for a nonce, sends the proof). Returns the
/// members, or why not: unreachable (with the address), not a troupe node,
/// or refused (with the node's reason). `sys` must have the middleman
/// loaded.
base::result<join_reply, join_error>
cluster_join(caf::actor_system& sys, const runtime::host_port& seed, const std::string& name,
             const std::string& role, const std::string& secret,
             std::vector<caf::actor> executors = {}, const std::string& address = {});

/// A launcher's view of the cluster: every member's executors, each reached
/// over a direct connection to its node (joined as a client one by one), so
/// the death of any node breaks that connection and is noticed at once.
/// Members that cannot be reached are skipped and named in `unreachable`.
struct cluster_view {
  std::vector<member_info> members;
  std::vector<std::string> unreachable;
};
base::result<cluster_view, join_error>
cluster_connect(caf::actor_system& sys, const runtime::host_port& seed, const std::string& name,
                const std::string& secret);

/// The cluster secret: `cluster.secret` (or the variable named by
/// `cluster.secret_env`) from the configuration, else the environment
/// variable TROUPE_CLUSTER_SECRET; "" when none is set.
std::string cluster_secret(const runtime::config& c);

} // namespace troupe::actors
