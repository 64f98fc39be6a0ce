// A real GPU actor (the CPU engine on this machine) serving the real
// stories260K model: replies carry the engine's exact greedy text, many
// concurrent requests are all answered, a listener receives the stream,
// and an overloaded actor refuses with a reason.
#include "actors/gpu_actor.hpp"
#include "actors/records.hpp"
#include "gpu/model/model_load.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace troupe::actors {
namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_message_types(*this); }
};

class gpu_actor_test : public testing::Test {
protected:
  void SetUp() override {
    auto path = std::string(TROUPE_SOURCE_DIR) + "/../shared/models/stories260K.gguf";
    if (!std::filesystem::exists(path))
      GTEST_SKIP() << "stories260K.gguf not found beside the repository";
    auto m = gpu::load_model(path);
    ASSERT_TRUE(m) << m.error().to_string();
    model_ = m.value();
  }

  gpu_actor spawn(gpu::worker_options w = {}) {
    gpu_actor_options o;
    o.node = "test-node";
    o.model_name = "storyteller";
    o.worker = w;
    o.device = gpu::device_kind::cpu;
    auto a = gpu_actor_spawn(sys_, model_, o);
    EXPECT_TRUE(a) << (a ? "" : a.error());
    return a.value();
  }

  std::string direct(const std::string& prompt, int n) {
    gpu::engine e(model_, {});
    gpu::generation_request r;
    r.prompt = model_->tok.encode(prompt, true, false);
    r.max_tokens = n;
    std::string text;
    e.submit(r, [&](const gpu::token_event& ev) { text += ev.text; });
    e.run();
    return text;
  }

  test_config cfg_;
  caf::actor_system sys_{cfg_};
  std::shared_ptr<const gpu::engine_model> model_;
};

TEST_F(gpu_actor_test, replies_with_the_engines_text_and_tokens) {
  auto gpu = spawn();
  caf::scoped_actor self{sys_};
  generation_job job;
  job.prompt = "Once upon a time";
  job.max_tokens = 32;
  generation_result got;
  self->request(gpu, caf::infinite, generate_atom_v, job)
    .receive([&](const generation_result& r) { got = r; },
             [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
  ASSERT_TRUE(got.ok) << got.error;
  EXPECT_EQ(direct("Once upon a time", 32), got.text);
  EXPECT_EQ(32, got.completion_tokens);
  EXPECT_EQ("length", got.finish);
  auto toks = token_list_read(got.tokens);
  ASSERT_TRUE(toks) << toks.error();
  EXPECT_EQ(32u, toks.value().ids.size());
}

TEST_F(gpu_actor_test, many_concurrent_requests_are_all_answered) {
  auto gpu = spawn();
  caf::scoped_actor self{sys_};
  const int n = 12;
  for (int i = 0; i < n; ++i) {
    generation_job job;
    job.prompt = i % 2 ? "Lily went" : "The dog";
    job.max_tokens = 20 + i;
    self->send(gpu, generate_atom_v, job);
  }
  int answered = 0;
  self->receive_for(answered, n)([&](const generation_result& r) {
    EXPECT_TRUE(r.ok) << r.error;
  });
  EXPECT_EQ(n, answered);
  model_load load;
  self->request(gpu, caf::infinite, load_atom_v)
    .receive([&](const model_load& l) { load = l; }, [](const caf::error&) {});
  EXPECT_EQ("storyteller", load.model);
  EXPECT_EQ(0, load.load.running);
  EXPECT_EQ(0, load.load.queued);
  EXPECT_EQ(n, load.load.completed);
}

TEST_F(gpu_actor_test, a_listener_receives_the_stream) {
  auto gpu = spawn();
  caf::scoped_actor self{sys_};
  generation_job job;
  job.prompt = "Once upon a time";
  job.max_tokens = 16;
  self->send(gpu, generate_atom_v, job, caf::actor{self});
  std::string streamed;
  bool stream_done = false;
  generation_result final_result;
  bool have_result = false;
  while (!stream_done || !have_result)
    self->receive([&](const token_chunk& c) {
                    streamed += c.text;
                    stream_done = stream_done || c.done;
                  },
                  [&](const generation_result& r) {
                    final_result = r;
                    have_result = true;
                  });
  ASSERT_TRUE(final_result.ok);
  EXPECT_EQ(final_result.text, streamed);
}

TEST_F(gpu_actor_test, an_overloaded_actor_refuses_with_a_reason) {
  gpu::worker_options w;
  w.queue_capacity = 1;
  w.max_running = 1;
  auto gpu = spawn(w);
  caf::scoped_actor self{sys_};
  for (int i = 0; i < 6; ++i) {
    generation_job job;
    job.prompt = "Once upon a time";
    job.max_tokens = 200;
    self->send(gpu, generate_atom_v, job);
  }
  int refused = 0, ok = 0;
  for (int i = 0; i < 6; ++i)
    self->receive([&](const generation_result& r) {
      if (r.ok)
        ok++;
      else if (r.error.find("overloaded") != std::string::npos)
        refused++;
    });
  EXPECT_GE(ok, 1);
  EXPECT_GE(refused, 1);
  EXPECT_EQ(6, ok + refused);
}

} // namespace
} // namespace troupe::actors
