#include "actors/system_config.hpp"

#include "actors/messages.hpp"

#include "caf/io/middleman.hpp"

#include <algorithm>
#include <chrono>

namespace troupe::actors {

system_config::system_config(const runtime::node_config& node, bool network) {
  register_message_types(*this);
  if (network)
    load<caf::io::middleman>();
  set("scheduler.max-threads", std::max(2, node.threads));
  if (node.scheduler == "sharing")
    set("scheduler.policy", caf::atom("sharing"));
  else
    set("scheduler.policy", caf::atom("stealing"));
  set("work-stealing.moderate-sleep-duration",
      caf::timespan(std::chrono::microseconds(node.idle_sleep_us)));
  set("logger.console", caf::atom("none"));
}

} // namespace troupe::actors
