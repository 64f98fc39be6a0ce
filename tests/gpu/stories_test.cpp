// The real stories260K model against llama.cpp's greedy reference: prompt
// token ids and 128-token continuations must match exactly, one request at
// a time, all at once (continuous batching), with 2 threads, and through a
// KV pool so small that sequences are preempted and recomputed.
#include "gpu/backend.hpp"
#include "gpu/engine/device_select.hpp"
#include "gpu/engine/engine.hpp"
#include "gpu/model/model_load.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

namespace troupe::gpu {
namespace {

struct reference {
  std::string prompt;
  std::vector<int32_t> ids;
  int n_predict;
  std::string text;
};

std::string shared_path(const std::string& rel) {
  return std::string(TROUPE_SOURCE_DIR) + "/../shared/" + rel;
}

std::vector<reference> load_references() {
  std::vector<reference> out;
  std::ifstream in(shared_path("reference/stories260K_greedy.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    out.push_back({j["prompt"], j["prompt_ids"].get<std::vector<int32_t>>(), j["n_predict"],
                   j["greedy_text"]});
  }
  return out;
}

// The reference texts are right-trimmed: the first prompt's 128th token is
// a newline that the file leaves out. Everything before must match exactly,
// and nothing but that trailing whitespace may differ.
void expect_reference_text(const std::string& expected, const std::string& actual,
                           const std::string& prompt) {
  auto end = actual.find_last_not_of(" \n\t");
  std::string trimmed = end == std::string::npos ? "" : actual.substr(0, end + 1);
  EXPECT_EQ(expected, trimmed) << prompt;
  EXPECT_LE(actual.size() - trimmed.size(), 1u) << prompt;
}

class stories : public ::testing::Test {
protected:
  void SetUp() override {
    auto path = shared_path("models/stories260K.gguf");
    if (!std::filesystem::exists(path))
      GTEST_SKIP() << "stories260K.gguf not found beside the repository";
    auto m = load_model(path);
    ASSERT_TRUE(m) << m.error().to_string();
    model_ = m.value();
    refs_ = load_references();
    ASSERT_EQ(6u, refs_.size());
  }

  // Runs every reference through one engine at once; returns the texts.
  std::vector<std::string> generate_all(engine_options opts, engine_stats* stats = nullptr,
                                        std::unique_ptr<llama_backend> backend = nullptr) {
    engine e(model_, opts, std::move(backend));
    std::vector<std::string> texts(refs_.size());
    std::vector<finish_reason> why(refs_.size());
    std::map<int64_t, size_t> index;
    for (size_t i = 0; i < refs_.size(); ++i) {
      generation_request r;
      r.prompt = model_->tok.encode(refs_[i].prompt, true, false);
      r.max_tokens = refs_[i].n_predict;
      int64_t id = e.submit(r, [&, i](const token_event& ev) {
        texts[i] += ev.text;
        if (ev.done)
          why[i] = ev.reason;
      });
      index[id] = i;
    }
    e.run();
    for (size_t i = 0; i < refs_.size(); ++i)
      EXPECT_EQ(finish_reason::length, why[i]) << refs_[i].prompt;
    if (stats)
      *stats = e.stats();
    return texts;
  }

  std::shared_ptr<const engine_model> model_;
  std::vector<reference> refs_;
};

TEST_F(stories, tokenizer_matches_reference_prompt_ids) {
  for (const auto& r : refs_)
    EXPECT_EQ(r.ids, model_->tok.encode(r.prompt, true, false)) << r.prompt;
}

TEST_F(stories, greedy_decoding_matches_llama_cpp_one_at_a_time) {
  for (const auto& r : refs_) {
    engine e(model_, {});
    generation_request req;
    req.prompt = r.ids;
    req.max_tokens = r.n_predict;
    std::string text;
    int tokens = 0;
    e.submit(req, [&](const token_event& ev) {
      text += ev.text;
      tokens += ev.token >= 0 ? 1 : 0;
    });
    e.run();
    EXPECT_EQ(r.n_predict, tokens) << r.prompt;
    expect_reference_text(r.text, text, r.prompt);
  }
}

TEST_F(stories, continuous_batching_gives_the_same_text) {
  engine_options o;
  o.max_batch_tokens = 8; // Prompts are prefilled in chunks across steps.
  auto texts = generate_all(o);
  for (size_t i = 0; i < refs_.size(); ++i)
    expect_reference_text(refs_[i].text, texts[i], refs_[i].prompt);
}

TEST_F(stories, two_threads_give_the_same_text) {
  engine_options o;
  o.threads = 2;
  auto texts = generate_all(o);
  for (size_t i = 0; i < refs_.size(); ++i)
    expect_reference_text(refs_[i].text, texts[i], refs_[i].prompt);
}

TEST_F(stories, preemption_recomputes_without_changing_the_text) {
  engine_options o;
  o.block_tokens = 16;
  // Room for about two full sequences (141 positions each) at a time.
  o.kv_bytes = 20 * 16 * 2 * sizeof(float) * 5 * 4 * 8;
  engine_stats st;
  auto texts = generate_all(o, &st);
  EXPECT_GT(st.preemptions, 0);
  for (size_t i = 0; i < refs_.size(); ++i)
    expect_reference_text(refs_[i].text, texts[i], refs_[i].prompt);
  EXPECT_EQ(0, st.blocks.used);
}

} // namespace
} // namespace troupe::gpu

namespace troupe::gpu {
namespace {

// Runs where nothing else may: the engine's device choice on this machine.
TEST_F(stories, automatic_device_choice_takes_cuda_only_when_usable) {
  auto choice = select_device(*model_, {}, device_kind::automatic);
  ASSERT_TRUE(choice);
  if (cuda_available()) {
    EXPECT_EQ(device_kind::cuda, choice.value().kind);
    EXPECT_NE(nullptr, choice.value().backend);
  } else {
    EXPECT_EQ(device_kind::cpu, choice.value().kind);
    EXPECT_EQ(nullptr, choice.value().backend);
    EXPECT_NE(std::string::npos, choice.value().description.find("CUDA"))
        << choice.value().description;
    auto forced = select_device(*model_, {}, device_kind::cuda);
    ASSERT_FALSE(forced);
    EXPECT_NE(std::string::npos, forced.error().message.find("cannot run on CUDA"));
  }
  auto cpu = select_device(*model_, {}, device_kind::cpu);
  ASSERT_TRUE(cpu);
  EXPECT_EQ(device_kind::cpu, cpu.value().kind);
}

TEST(device_names, parse_and_print) {
  for (auto k : {device_kind::automatic, device_kind::cpu, device_kind::cuda})
    EXPECT_EQ(k, device_kind_from_name(to_string(k)));
  EXPECT_FALSE(device_kind_from_name("gpu"));
}

// The whole engine on a CUDA device against llama.cpp's references, batched
// (label gpu; skips without a device).
class cuda_stories : public stories {};

TEST_F(cuda_stories, engine_on_cuda_matches_llama_cpp) {
  if (!cuda_available())
    GTEST_SKIP() << "no CUDA device";
  engine_options o;
  o.max_batch_tokens = 8;
  auto choice = select_device(*model_, o, device_kind::cuda);
  ASSERT_TRUE(choice) << choice.error().message;
  auto texts = generate_all(o, nullptr, std::move(choice).value().backend);
  for (size_t i = 0; i < refs_.size(); ++i)
    expect_reference_text(refs_[i].text, texts[i], refs_[i].prompt);
}

} // namespace
} // namespace troupe::gpu
