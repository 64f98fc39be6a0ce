// The router actor through its typed interface, fed by a real GPU actor:
// decisions with scores, escalation by exclusion, cooldown after failed
// calls, and load reports that arrive while the model decodes.
#include "actors/gpu_actor.hpp"
#include "actors/router_actor.hpp"
#include "gpu/model/model_load.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <thread>

namespace troupe::actors {
namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_message_types(*this); }
};

dsl::ir::model model(std::string name, double accuracy, double cost) {
  dsl::ir::model m;
  m.name = std::move(name);
  m.domains = {"qa"};
  m.accuracy = accuracy;
  m.cost_per_1k = cost;
  m.latency_ms = 100;
  return m;
}

class router_actor_test : public testing::Test {
protected:
  runtime::route_reply ask(const router_actor& r, runtime::route_request q) {
    caf::scoped_actor self{sys_};
    runtime::route_reply out;
    self->request(r, caf::infinite, route_atom_v, q)
      .receive([&](const runtime::route_reply& x) { out = x; },
               [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return out;
  }

  nlohmann::json snapshot(const router_actor& r) {
    caf::scoped_actor self{sys_};
    std::string text;
    self->request(r, caf::infinite, stats_atom_v)
      .receive([&](const std::string& s) { text = s; }, [](const caf::error&) {});
    return nlohmann::json::parse(text);
  }

  test_config cfg_;
  caf::actor_system sys_{cfg_};
};

TEST_F(router_actor_test, decides_escalates_and_cools_down) {
  auto r = router_actor_spawn(sys_, {model("big", 0.9, 1.0), model("small", 0.5, 0.0)}, {});
  ASSERT_TRUE(r) << r.error();
  runtime::route_request q;
  q.step = "answer";
  q.domain = "qa";
  auto first = ask(r.value(), q);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(std::vector<std::string>{"big"}, first.chosen);
  EXPECT_NE(std::string::npos, first.explain.find("answer -> big (u=")) << first.explain;
  auto decision = nlohmann::json::parse(first.decision_json);
  EXPECT_EQ(2u, decision["scores"].size());

  q.exclude = {"big"};
  auto next = ask(r.value(), q);
  ASSERT_TRUE(next.ok);
  EXPECT_EQ(std::vector<std::string>{"small"}, next.chosen);

  q.exclude = {"big", "small"};
  auto none = ask(r.value(), q);
  EXPECT_FALSE(none.ok);
  EXPECT_NE(std::string::npos, none.error.find("excluded: tried")) << none.error;

  // Three failed calls cool `big` down: the plain query now gets `small`.
  caf::scoped_actor self{sys_};
  for (int i = 0; i < 3; ++i)
    self->send(r.value(), runtime::call_report{"big", "qa", runtime::call_outcome::error, false, 5});
  q.exclude.clear();
  auto cooled = ask(r.value(), q);
  ASSERT_TRUE(cooled.ok);
  EXPECT_EQ(std::vector<std::string>{"small"}, cooled.chosen);
  EXPECT_NE(std::string::npos, cooled.explain.find("cooldown")) << cooled.explain;
  EXPECT_EQ(3, snapshot(r.value())["models"]["big"]["failures"]);
}

TEST_F(router_actor_test, a_gpu_actor_reports_its_load) {
  auto path = std::string(TROUPE_SOURCE_DIR) + "/../shared/models/stories260K.gguf";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  auto r = router_actor_spawn(sys_, {model("storyteller", 0.3, 0)}, {});
  ASSERT_TRUE(r);
  EXPECT_TRUE(snapshot(r.value())["models"]["storyteller"]["load"].is_null());
  auto m = gpu::load_model(path);
  ASSERT_TRUE(m);
  gpu_actor_options o;
  o.node = "n";
  o.model_name = "storyteller";
  o.device = gpu::device_kind::cpu;
  o.load_listeners = {caf::actor_cast<caf::actor>(r.value())};
  auto g = gpu_actor_spawn(sys_, m.value(), o);
  ASSERT_TRUE(g);
  caf::scoped_actor self{sys_};
  generation_job job;
  job.prompt = "Once upon a time";
  job.max_tokens = 16;
  self->request(g.value(), caf::infinite, generate_atom_v, job)
    .receive([](const generation_result& res) { EXPECT_TRUE(res.ok); },
             [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
  // The report sent after the reply may still be on its way.
  nlohmann::json load;
  for (int i = 0; i < 200 && (load.is_null() || load["running"] != 0); ++i) {
    load = snapshot(r.value())["models"]["storyteller"]["load"];
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(load.is_null());
  EXPECT_EQ(0, load["running"]);
  EXPECT_EQ(false, load["stale"]);
}

} // namespace
} // namespace troupe::actors
