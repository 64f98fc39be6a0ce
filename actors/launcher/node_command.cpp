#include "actors/launcher/node_command.hpp"

#include "actors/deploy.hpp"
#include "actors/executor_actor.hpp"
#include "actors/messages.hpp"
#include "actors/model_host.hpp"
#include "actors/node_actor.hpp"
#include "actors/system_config.hpp"
#include "runtime/config.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include <iostream>
#include <thread>

namespace troupe::launcher {

namespace {

} // namespace

int cmd_node(const node_options& o) {
  auto cfg = runtime::load_config_or_default(o.config);
  if (!cfg) {
    std::cerr << cfg.error().text();
    return 1;
  }
  auto c = std::move(cfg).value();
  std::string name = o.name.empty() ? c.node.name : o.name;
  auto listen = o.listen.empty()
                  ? base::result<runtime::host_port, std::string>(c.node.listen)
                  : runtime::parse_host_port(o.listen, true);
  if (!listen) {
    std::cerr << "troupe node: --listen: " << listen.error() << "\n";
    return 1;
  }
  auto secret = actors::cluster_secret(c);
  if (secret.empty()) {
    std::cerr << "troupe node: a cluster needs a shared secret: set cluster.secret_env (or "
                 "cluster.secret) in troupe.toml, or TROUPE_CLUSTER_SECRET\n";
    return 1;
  }
  actors::system_config sys_cfg(c.node, true);
  caf::actor_system sys{sys_cfg};

  auto eo = actors::executor_options_from(c, name, c.paths.runs,
                                          actors::model_host_from(sys, c, name));
  std::vector<caf::actor> executors;
  size_t n = std::max<size_t>(2, std::min<size_t>(8, std::thread::hardware_concurrency()));
  for (size_t i = 0; i < n; ++i)
    executors.push_back(caf::actor_cast<caf::actor>(actors::executor_actor_spawn(sys, eo)));

  auto node = actors::node_actor_spawn(sys, {name, "", secret, executors, true});
  // The system waits for every actor before it goes; stop ours on errors.
  auto stop_all = [&] {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    for (const auto& e : executors)
      caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  };
  auto port = sys.middleman().publish(node, listen.value().port, listen.value().host.c_str(),
                                      true);
  if (!port) {
    std::cerr << "troupe node: cannot listen on " << listen.value().text() << ": "
              << sys.render(port.error()) << "\n";
    stop_all();
    return 1;
  }
  if (!o.join.empty()) {
    auto seed = runtime::parse_host_port(o.join, false);
    if (!seed) {
      std::cerr << "troupe node: --join: " << seed.error() << "\n";
      stop_all();
      return 1;
    }
    auto joined = actors::cluster_join(sys, seed.value(), name, "node", secret, executors,
                                       listen.value().host + ":" + std::to_string(*port));
    if (!joined) {
      std::cerr << "troupe node: " << joined.error().message << "\n";
      stop_all();
      return 1;
    }
    std::cerr << "node " << name << " joined the cluster through '" << joined.value().node
              << "' (" << joined.value().members.size() << " members)\n";
  }
  std::cerr << "node " << name << " listening on " << listen.value().host << ":" << *port
            << std::endl;
  caf::scoped_actor self{sys};
  self->wait_for(node); // Serves until the process is killed.
  return 0;
}

} // namespace troupe::launcher
