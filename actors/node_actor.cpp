#include "actors/node_actor.hpp"

#include "runtime/cluster_auth.hpp"

#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <set>

namespace troupe::actors {

namespace {

class node_impl : public node_actor::base {
public:
  node_impl(caf::actor_config& cfg, node_options opts)
    : node_actor::base(cfg), opts_(std::move(opts)) {
    set_down_handler([this](const caf::down_msg& d) { member_down(d.source); });
  }

  behavior_type make_behavior() override {
    return {
      [this](hello_atom) {
        auto n = runtime::cluster_nonce();
        nonces_.insert(n);
        order_.push_back(n);
        if (order_.size() > 4096) { // Bound what unanswered hellos can hold.
          nonces_.erase(order_.front());
          order_.pop_front();
        }
        return n;
      },
      [this](join_atom, const join_request& req) { return join(req); },
    };
  }

private:
  join_reply refuse(const join_request& req, std::string why) {
    if (opts_.log_joins)
      std::cerr << "node " << opts_.name << ": refused " << req.role << " '" << req.name
                << "': " << why << "\n";
    join_reply r;
    r.node = opts_.name;
    r.error = std::move(why);
    return r;
  }

  join_reply join(const join_request& req) {
    if (nonces_.erase(req.nonce) == 0)
      return refuse(req, "unknown or already used nonce (ask hello first)");
    if (!runtime::cluster_proof_ok(opts_.secret, req.nonce, req.name, req.proof))
      return refuse(req, "bad cluster secret");
    if (req.role == "node") {
      if (req.name == opts_.name || members_.count(req.name))
        return refuse(req, "a node named '" + req.name + "' is already a member");
      members_[req.name] = member_info{req.name, req.address, req.executors};
      for (const auto& e : req.executors)
        monitor(e);
    }
    if (opts_.log_joins)
      std::cerr << "node " << opts_.name << ": " << req.role << " '" << req.name << "' joined\n";
    join_reply r;
    r.ok = true;
    r.node = opts_.name;
    r.members.push_back(member_info{opts_.name, opts_.address, opts_.executors});
    for (const auto& [name, m] : members_)
      r.members.push_back(m);
    return r;
  }

  void member_down(const caf::actor_addr& source) {
    for (auto it = members_.begin(); it != members_.end(); ++it)
      for (const auto& e : it->second.executors)
        if (e.address() == source) {
          if (opts_.log_joins)
            std::cerr << "node " << opts_.name << ": lost node '" << it->first << "'\n";
          members_.erase(it);
          return;
        }
  }

  node_options opts_;
  std::set<std::string> nonces_;
  std::deque<std::string> order_;
  std::map<std::string, member_info> members_;
};

} // namespace

node_actor node_actor_spawn(caf::actor_system& sys, node_options opts) {
  return sys.spawn<node_impl>(std::move(opts));
}

base::result<join_reply, join_error>
cluster_join(caf::actor_system& sys, const runtime::host_port& seed, const std::string& name,
             const std::string& role, const std::string& secret,
             std::vector<caf::actor> executors, const std::string& address) {
  auto node = sys.middleman().remote_actor<node_actor>(seed.host, seed.port);
  if (!node)
    return join_error{"cannot reach a troupe node at " + seed.text() + ": "
                      + sys.render(node.error())};
  caf::scoped_actor self{sys};
  std::string nonce, failure;
  auto timeout = std::chrono::seconds(10);
  self->request(*node, timeout, hello_atom_v)
    .receive([&](const std::string& n) { nonce = n; },
             [&](const caf::error& e) { failure = sys.render(e); });
  if (nonce.empty())
    return join_error{"node at " + seed.text() + " did not answer: " + failure};
  join_request req{name, role, nonce, runtime::cluster_proof(secret, nonce, name), address,
                   std::move(executors)};
  join_reply reply;
  self->request(*node, timeout, join_atom_v, req)
    .receive([&](const join_reply& r) { reply = r; },
             [&](const caf::error& e) { failure = sys.render(e); });
  if (!failure.empty())
    return join_error{"node at " + seed.text() + " did not answer: " + failure};
  if (!reply.ok)
    return join_error{"node '" + reply.node + "' at " + seed.text() + " refused to let '" + name
                      + "' join: " + reply.error};
  return reply;
}

base::result<cluster_view, join_error>
cluster_connect(caf::actor_system& sys, const runtime::host_port& seed, const std::string& name,
                const std::string& secret) {
  auto first = cluster_join(sys, seed, name, "client", secret);
  if (!first)
    return first.error();
  cluster_view view;
  for (const auto& m : first.value().members) {
    if (m.name == first.value().node || m.address.empty()) {
      view.members.push_back(m); // The seed itself: already connected directly.
      continue;
    }
    auto addr = runtime::parse_host_port(m.address, false);
    auto direct = addr ? cluster_join(sys, addr.value(), name, "client", secret)
                       : base::result<join_reply, join_error>(join_error{addr.error()});
    if (!direct || direct.value().members.empty()) {
      view.unreachable.push_back(m.name + " (" + m.address + "): "
                                 + (direct ? "no members" : direct.error().message));
      continue;
    }
    view.members.push_back(direct.value().members.front());
  }
  return view;
}

std::string cluster_secret(const runtime::config& c) {
  if (!c.cluster.secret.empty())
    return c.cluster.secret;
  const char* env = std::getenv("TROUPE_CLUSTER_SECRET");
  return env ? env : "";
}

} // namespace troupe::actors
