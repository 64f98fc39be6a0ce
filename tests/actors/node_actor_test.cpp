// The node actor, a cluster's front door, with real executor actors as the
// members' executors. In one actor system: nonces, accepted joins and the
// member list they return, refusals (wrong proof, unknown or reused nonce,
// a name already taken) and a member dropped when its executor goes down.
// Over the real io middleman on 127.0.0.1: cluster_join() to a published
// node, the executors it returns answering jobs, a wrong secret refused and
// a closed port reported as unreachable.
#include "actors/executor_actor.hpp"
#include "actors/node_actor.hpp"
#include "actors/records.hpp"
#include "runtime/cluster_auth.hpp"
#include "tests/loopback_http.hpp"
#include "tests/runtime/test_files.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include <gtest/gtest.h>

#include <set>

namespace troupe::actors {
namespace {

constexpr const char* secret = "correct horse battery staple";

struct local_config : caf::actor_system_config {
  local_config() {
    register_message_types(*this);
    set("logger.console", caf::atom("none"));
  }
};

struct network_config : local_config {
  network_config() { load<caf::io::middleman>(); }
};

// A join request with a proof made from `key` for `nonce`.
join_request request(const std::string& name, const std::string& role, const std::string& nonce,
                     const std::string& key, std::vector<caf::actor> executors = {},
                     const std::string& address = {}) {
  return join_request{name,    role, nonce, runtime::cluster_proof(key, nonce, name),
                      address, std::move(executors)};
}

template <class Config>
class node_fixture : public testing::Test {
protected:
  // A real executor; its workspaces lie under runs_.
  caf::actor executor(const std::string& node) {
    executor_options o;
    o.node = node;
    o.runs_root = runs_.path();
    return caf::actor_cast<caf::actor>(executor_actor_spawn(sys_, std::move(o)));
  }

  node_actor node(const std::string& name, std::vector<caf::actor> executors,
                  const std::string& address = {}) {
    return node_actor_spawn(sys_, {name, address, secret, std::move(executors), false});
  }

  std::string hello(const node_actor& n) {
    caf::scoped_actor self{sys_};
    std::string nonce;
    self->request(n, caf::infinite, hello_atom_v)
      .receive([&](const std::string& x) { nonce = x; },
               [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return nonce;
  }

  join_reply join(const node_actor& n, const join_request& req) {
    caf::scoped_actor self{sys_};
    join_reply reply;
    self->request(n, caf::infinite, join_atom_v, req)
      .receive([&](const join_reply& x) { reply = x; },
               [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return reply;
  }

  // The names of the members a fresh client join lists, in order.
  std::vector<std::string> member_names(const node_actor& n) {
    auto reply = join(n, request("watcher", "client", hello(n), secret));
    EXPECT_TRUE(reply.ok) << reply.error;
    std::vector<std::string> names;
    for (const auto& m : reply.members)
      names.push_back(m.name);
    return names;
  }

  test::temp_dir runs_;
  Config cfg_;
  caf::actor_system sys_{cfg_};
};

using node_actor_test = node_fixture<local_config>;

TEST_F(node_actor_test, every_hello_gives_a_fresh_nonce) {
  auto n = node("alpha", {executor("alpha")});
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    const std::string nonce = hello(n);
    EXPECT_EQ(64u, nonce.size()) << nonce;
    EXPECT_EQ(std::string::npos, nonce.find_first_not_of("0123456789abcdef")) << nonce;
    seen.insert(nonce);
  }
  EXPECT_EQ(16u, seen.size());
}

TEST_F(node_actor_test, a_join_with_the_right_proof_lists_every_member_self_first) {
  auto a1 = executor("alpha"), a2 = executor("alpha"), b1 = executor("beta");
  auto n = node("alpha", {a1, a2}, "127.0.0.1:7001");
  auto reply = join(n, request("beta", "node", hello(n), secret, {b1}, "127.0.0.1:7002"));
  ASSERT_TRUE(reply.ok) << reply.error;
  EXPECT_EQ("", reply.error);
  EXPECT_EQ("alpha", reply.node);
  ASSERT_EQ(2u, reply.members.size());
  EXPECT_EQ("alpha", reply.members[0].name);
  EXPECT_EQ("127.0.0.1:7001", reply.members[0].address);
  EXPECT_EQ((std::vector<caf::actor>{a1, a2}), reply.members[0].executors);
  EXPECT_EQ("beta", reply.members[1].name);
  EXPECT_EQ("127.0.0.1:7002", reply.members[1].address);
  EXPECT_EQ((std::vector<caf::actor>{b1}), reply.members[1].executors);

  // A client learns the same members and does not become one.
  auto client = join(n, request("launcher", "client", hello(n), secret));
  ASSERT_TRUE(client.ok) << client.error;
  ASSERT_EQ(2u, client.members.size());
  EXPECT_EQ((std::vector<caf::actor>{b1}), client.members[1].executors);
  EXPECT_EQ((std::vector<std::string>{"alpha", "beta"}), member_names(n));
}

TEST_F(node_actor_test, a_wrong_proof_is_refused_and_spends_the_nonce) {
  auto n = node("alpha", {executor("alpha")});
  const std::string nonce = hello(n);
  auto wrong_secret = join(n, request("mallory", "node", nonce, "guessed", {executor("m")}));
  EXPECT_FALSE(wrong_secret.ok);
  EXPECT_EQ("bad cluster secret", wrong_secret.error);
  EXPECT_EQ("alpha", wrong_secret.node);
  EXPECT_TRUE(wrong_secret.members.empty());

  // The right proof on the spent nonce is too late.
  auto retry = join(n, request("mallory", "node", nonce, secret));
  EXPECT_FALSE(retry.ok);
  EXPECT_EQ("unknown or already used nonce (ask hello first)", retry.error);

  // A proof made for another name does not pass for this one.
  const std::string fresh = hello(n);
  auto borrowed = request("mallory", "client", fresh, secret);
  borrowed.proof = runtime::cluster_proof(secret, fresh, "beta");
  auto r = join(n, borrowed);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ("bad cluster secret", r.error);
  EXPECT_TRUE(r.members.empty());
  EXPECT_EQ((std::vector<std::string>{"alpha"}), member_names(n));
}

TEST_F(node_actor_test, an_unknown_or_reused_nonce_is_refused) {
  auto n = node("alpha", {executor("alpha")});
  const std::string invented = runtime::cluster_nonce();
  auto unknown = join(n, request("beta", "node", invented, secret, {executor("beta")}));
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ("unknown or already used nonce (ask hello first)", unknown.error);
  EXPECT_TRUE(unknown.members.empty());

  const std::string nonce = hello(n);
  ASSERT_TRUE(join(n, request("beta", "node", nonce, secret, {executor("beta")})).ok);
  auto replayed = join(n, request("gamma", "node", nonce, secret, {executor("gamma")}));
  EXPECT_FALSE(replayed.ok);
  EXPECT_EQ("unknown or already used nonce (ask hello first)", replayed.error);
  EXPECT_TRUE(replayed.members.empty());
  EXPECT_EQ((std::vector<std::string>{"alpha", "beta"}), member_names(n));
}

TEST_F(node_actor_test, a_name_already_in_the_cluster_is_refused) {
  auto first = executor("beta");
  auto n = node("alpha", {executor("alpha")});
  ASSERT_TRUE(join(n, request("beta", "node", hello(n), secret, {first})).ok);
  auto twice = join(n, request("beta", "node", hello(n), secret, {executor("beta")}));
  EXPECT_FALSE(twice.ok);
  EXPECT_EQ("a node named 'beta' is already a member", twice.error);
  EXPECT_TRUE(twice.members.empty());
  auto as_seed = join(n, request("alpha", "node", hello(n), secret, {executor("alpha")}));
  EXPECT_FALSE(as_seed.ok);
  EXPECT_EQ("a node named 'alpha' is already a member", as_seed.error);

  // The member that was there first keeps its place and its executor.
  auto reply = join(n, request("launcher", "client", hello(n), secret));
  ASSERT_EQ(2u, reply.members.size());
  EXPECT_EQ((std::vector<caf::actor>{first}), reply.members[1].executors);
}

TEST_F(node_actor_test, a_member_whose_executor_goes_down_is_dropped) {
  auto beta = executor("beta");
  auto gamma = executor("gamma");
  auto n = node("alpha", {executor("alpha")});
  caf::scoped_actor self{sys_};
  // Monitored before the node monitors it: CAF 0.17 notifies the newest
  // monitor first, so once our down message arrives the node's is already
  // in its mailbox, ahead of the next request.
  self->monitor(beta);
  ASSERT_TRUE(join(n, request("beta", "node", hello(n), secret, {beta})).ok);
  ASSERT_TRUE(join(n, request("gamma", "node", hello(n), secret, {gamma})).ok);
  ASSERT_EQ((std::vector<std::string>{"alpha", "beta", "gamma"}), member_names(n));

  self->send_exit(beta, caf::exit_reason::kill);
  self->receive([&](const caf::down_msg& d) { EXPECT_EQ(beta.address(), d.source); });
  EXPECT_EQ((std::vector<std::string>{"alpha", "gamma"}), member_names(n));

  // The name is free again: the node can come back with a new executor.
  ASSERT_TRUE(join(n, request("beta", "node", hello(n), secret, {executor("beta")})).ok);
  EXPECT_EQ((std::vector<std::string>{"alpha", "beta", "gamma"}), member_names(n));
}

using cluster_join_test = node_fixture<network_config>;

TEST_F(cluster_join_test, joins_a_published_node_over_loopback) {
  auto alpha_executor = executor("alpha");
  auto beta_executor = executor("beta");
  auto n = node("alpha", {alpha_executor});
  auto port = sys_.middleman().publish(n, 0, "127.0.0.1", true);
  ASSERT_TRUE(port) << sys_.render(port.error());
  const runtime::host_port seed{"127.0.0.1", *port};

  auto joined = cluster_join(sys_, seed, "beta", "node", secret, {beta_executor},
                             "127.0.0.1:7002");
  ASSERT_TRUE(joined) << joined.error().message;
  EXPECT_EQ("alpha", joined.value().node);
  ASSERT_EQ(2u, joined.value().members.size());
  EXPECT_EQ("alpha", joined.value().members[0].name);
  EXPECT_EQ("beta", joined.value().members[1].name);
  EXPECT_EQ("127.0.0.1:7002", joined.value().members[1].address);

  // The executor handle that came back over the wire runs a job as alpha's.
  ASSERT_EQ(1u, joined.value().members[0].executors.size());
  auto remote = caf::actor_cast<executor_actor>(joined.value().members[0].executors[0]);
  step_job job;
  job.run_id = "run-c";
  job.key = "greet";
  job.kind = "tool";
  job.tool = "template";
  job.args_json = R"({"text":"hello from alpha"})";
  caf::scoped_actor self{sys_};
  runtime::step_record record;
  self->request(remote, std::chrono::seconds(10), execute_atom_v, job)
    .receive(
      [&](const step_outcome& o) {
        auto r = step_record_read(o.record);
        ASSERT_TRUE(r) << r.error();
        record = r.value();
      },
      [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
  EXPECT_TRUE(record.ok) << record.error;
  EXPECT_EQ("alpha", record.node);
  EXPECT_EQ(R"("hello from alpha")", record.output_json);

  auto refused = cluster_join(sys_, seed, "mallory", "node", "not the secret");
  ASSERT_FALSE(refused);
  EXPECT_EQ("node 'alpha' at " + seed.text() + " refused to let 'mallory' join: bad cluster secret",
            refused.error().message);

  const runtime::host_port closed{"127.0.0.1",
                                  static_cast<std::uint16_t>(test::loopback_closed_port())};
  auto unreachable = cluster_join(sys_, closed, "beta", "node", secret);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(0u, unreachable.error().message.rfind("cannot reach a troupe node at " + closed.text(),
                                                  0))
    << unreachable.error().message;

  // Published actors are held by the middleman: stop them so the system can go.
  for (const auto& a : {caf::actor_cast<caf::actor>(n), alpha_executor, beta_executor})
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

} // namespace
} // namespace troupe::actors
