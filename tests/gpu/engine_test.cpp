// The engine on a small synthesized model: sampling, stop strings,
// cancellation, parallel samples sharing blocks, prefix caching, and a
// randomized stress run on a tiny pool in which every request completes.
#include "gpu/engine/engine.hpp"
#include "gpu/model/model_load.hpp"
#include "gpu/model/model_synth.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <unistd.h>

namespace troupe::gpu {
namespace {

class engine_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    path_ = (std::filesystem::temp_directory_path()
             / ("troupe-engine-test-" + std::to_string(::getpid()) + ".gguf")).string();
    auto w = synth_model(*synth_shape_find("tiny"), ggml_type::f32, path_, 42);
    ASSERT_TRUE(w) << w.error().to_string();
    auto m = load_model(path_);
    ASSERT_TRUE(m) << m.error().to_string();
    model_ = m.value();
  }
  static void TearDownTestSuite() {
    model_.reset();
    std::filesystem::remove(path_);
  }

  generation_request request(int prompt_len, int max_tokens, int first = 300) {
    generation_request r;
    for (int i = 0; i < prompt_len; ++i)
      r.prompt.push_back(first + (i * 7) % 200);
    r.max_tokens = max_tokens;
    return r;
  }

  struct outcome {
    std::vector<int32_t> tokens;
    std::string text;
    int done = 0;
    finish_reason why = finish_reason::none;
  };

  std::function<void(const token_event&)> into(outcome& o) {
    return [&o](const token_event& ev) {
      if (ev.token >= 0)
        o.tokens.push_back(ev.token);
      o.text += ev.text;
      if (ev.done) {
        ++o.done;
        o.why = ev.reason;
      }
    };
  }

  static std::string path_;
  static std::shared_ptr<const engine_model> model_;
};

std::string engine_test::path_;
std::shared_ptr<const engine_model> engine_test::model_;

TEST_F(engine_test, seeded_sampling_is_reproducible) {
  auto run = [&](uint64_t seed) {
    engine e(model_, {});
    auto r = request(10, 24);
    r.sampling.temperature = 1.0f;
    r.sampling.top_k = 40;
    r.sampling.top_p = 0.95f;
    r.sampling.seed = seed;
    outcome o;
    e.submit(r, into(o));
    e.run();
    return o.tokens;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST_F(engine_test, stop_strings_end_generation_before_the_stop) {
  outcome full;
  {
    engine e(model_, {});
    e.submit(request(8, 40), into(full));
    e.run();
  }
  ASSERT_GT(full.text.size(), 12u);
  std::string stop = full.text.substr(8, 4);
  engine e(model_, {});
  auto r = request(8, 40);
  r.stop = {stop};
  outcome o;
  e.submit(r, into(o));
  e.run();
  EXPECT_EQ(finish_reason::stop, o.why);
  EXPECT_EQ(full.text.substr(0, full.text.find(stop)), o.text);
}

TEST_F(engine_test, cancel_ends_a_request_and_frees_its_blocks) {
  engine e(model_, {});
  outcome o;
  auto id = e.submit(request(20, 200), into(o));
  for (int i = 0; i < 5; ++i)
    e.step();
  e.cancel(id);
  e.run();
  EXPECT_EQ(1, o.done);
  EXPECT_EQ(finish_reason::cancelled, o.why);
  EXPECT_LT(o.tokens.size(), 200u);
  EXPECT_EQ(0, e.stats().blocks.used);
}

TEST_F(engine_test, parallel_samples_share_the_prompt_blocks) {
  engine_options opts;
  opts.block_tokens = 4;
  engine e(model_, opts);
  auto r = request(32, 6);
  r.n_samples = 4;
  r.sampling.temperature = 1.2f;
  std::map<int, outcome> samples;
  e.submit(r, [&](const token_event& ev) { into(samples[ev.sample])(ev); });
  int64_t peak_used = 0;
  while (e.step())
    peak_used = std::max(peak_used, e.stats().blocks.used);
  ASSERT_EQ(4u, samples.size());
  for (auto& [i, o] : samples) {
    EXPECT_EQ(1, o.done) << i;
    EXPECT_EQ(6u, o.tokens.size()) << i;
  }
  // Unshared, four samples of 38 positions would hold 4 * 10 blocks.
  EXPECT_LT(peak_used, 20);
  EXPECT_EQ(0, e.stats().blocks.used);
}

TEST_F(engine_test, a_shared_prefix_is_computed_once) {
  engine e(model_, {});
  outcome a, b;
  e.submit(request(100, 2), into(a));
  e.run();
  auto before = e.stats().prefill_tokens;
  auto r = request(100, 2);
  r.prompt.push_back(7);
  e.submit(r, into(b));
  e.run();
  EXPECT_LT(e.stats().prefill_tokens - before, 20);
  EXPECT_GT(e.stats().blocks.prefix_hit_rate(), 0.3);
}

TEST_F(engine_test, batching_does_not_change_greedy_output) {
  std::vector<outcome> alone(5), together(5);
  for (int i = 0; i < 5; ++i) {
    engine e(model_, {});
    e.submit(request(5 + 7 * i, 16, 300 + i), into(alone[size_t(i)]));
    e.run();
  }
  engine e(model_, {});
  for (int i = 0; i < 5; ++i)
    e.submit(request(5 + 7 * i, 16, 300 + i), into(together[size_t(i)]));
  e.run();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(alone[size_t(i)].tokens, together[size_t(i)].tokens) << i;
}

TEST_F(engine_test, a_prompt_beyond_the_context_is_refused) {
  engine e(model_, {});
  outcome o;
  e.submit(request(400, 4), into(o)); // The tiny shape's context is 256.
  e.run();
  EXPECT_EQ(1, o.done);
  EXPECT_EQ(finish_reason::context_full, o.why);
}

TEST_F(engine_test, randomized_stress_on_a_tiny_pool_completes_everything) {
  engine_options opts;
  opts.block_tokens = 4;
  opts.max_batch_tokens = 24;
  // 48 blocks: keys and values x 2 layers x 2 KV heads x 16 dims x 4 positions.
  opts.kv_bytes = 48 * 2 * sizeof(float) * 2 * 2 * 16 * 4;
  engine e(model_, opts);
  std::mt19937 rng(11);
  std::map<int64_t, int> expected; // request -> samples
  std::map<std::pair<int64_t, int>, int> done;
  std::set<int64_t> cancelled;
  for (int round = 0; round < 60; ++round) {
    int n_new = int(rng() % 3);
    for (int k = 0; k < n_new; ++k) {
      auto r = request(1 + int(rng() % 40), 1 + int(rng() % 30), 300 + int(rng() % 3) * 11);
      r.cls = rng() % 3 == 0 ? job_class::batch : job_class::interactive;
      r.n_samples = 1 + int(rng() % 3);
      r.sampling.temperature = rng() % 2 ? 0.f : 0.8f;
      r.sampling.seed = rng();
      int64_t id = e.submit(r, [&](const token_event& ev) {
        if (ev.done)
          ++done[{ev.request, ev.sample}];
      });
      expected[id] = r.n_samples;
    }
    if (!expected.empty() && rng() % 5 == 0) {
      auto it = expected.begin();
      std::advance(it, long(rng() % expected.size()));
      e.cancel(it->first);
      cancelled.insert(it->first);
    }
    for (int s = 0; s < 3; ++s)
      e.step();
  }
  e.run();
  for (const auto& [id, n] : expected)
    for (int s = 0; s < n; ++s) {
      int d = done[{id, s}];
      // A cancelled request may end before it forks: its later samples
      // never existed.
      if (cancelled.count(id) && d == 0)
        continue;
      EXPECT_EQ(1, d) << "request " << id << " sample " << s;
    }
  auto st = e.stats();
  EXPECT_GT(st.preemptions, 0);
  EXPECT_EQ(0, st.blocks.used);
  EXPECT_EQ(0u, e.running());
  EXPECT_EQ(0u, e.waiting());
}

} // namespace
} // namespace troupe::gpu
