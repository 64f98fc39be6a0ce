// The real SmolLM2-135M-Instruct (Q4_1, GPT-2 BPE vocabulary, ChatML): the
// tokenizer round-trips text exactly, and greedy chat answers say what a
// person reading them once found they say.
#include "gpu/engine/engine.hpp"
#include "gpu/model/model_load.hpp"
#include "gpu/tokenizer/chat_template.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace troupe::gpu {
namespace {

class smollm : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    auto path = std::string(TROUPE_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    if (!std::filesystem::exists(path))
      return;
    auto m = load_model(path);
    if (m)
      model_ = m.value();
    else
      error_ = m.error().to_string();
  }
  static void TearDownTestSuite() { model_.reset(); }

  void SetUp() override {
    if (!model_ && error_.empty())
      GTEST_SKIP() << "SmolLM2 not found in models/ (run scripts/setup)";
    ASSERT_TRUE(model_) << error_;
  }

  // `question` in the model's chat template, as a workflow step sends it.
  static std::vector<int32_t> chat_prompt(const std::string& question) {
    const auto& chat_template = model_->tok.vocabulary().chat_template;
    EXPECT_EQ(chat_format::chatml, chat_format_detect(chat_template));
    prompt_parts parts;
    parts.user = question;
    parts.layout = prompt_layout::chat_if_template;
    auto p = prompt_render(chat_template, parts);
    EXPECT_TRUE(p.parse_special);
    return model_->tok.encode(p.text, true, p.parse_special);
  }

  std::string chat(const std::string& question, int max_tokens = 48) {
    generation_request r;
    r.prompt = chat_prompt(question);
    r.max_tokens = max_tokens;
    engine e(model_, {});
    std::string out;
    e.submit(r, [&](const token_event& ev) { out += ev.text; });
    e.run();
    return out;
  }

  static std::shared_ptr<const engine_model> model_;
  static std::string error_;
};

std::shared_ptr<const engine_model> smollm::model_;
std::string smollm::error_;

TEST_F(smollm, tokenizer_round_trips_text_exactly) {
  for (std::string text : {"Hello, world!", "  two  spaces\tand a tab\n\nnew lines",
                           "Numbers 12345 and 3.14159", "Grüße, 世界! 🙂 naïve café",
                           "it's we'll they've I'M", "<|im_start|> as plain text"}) {
    auto ids = model_->tok.encode(text, false, false);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(text, model_->tok.decode(ids)) << text;
  }
}

TEST_F(smollm, chatml_markers_become_single_special_tokens) {
  const auto& tok = model_->tok;
  auto ids = tok.encode("<|im_start|>user\nHi<|im_end|>", false, true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(tok.find("<|im_start|>"), ids.front());
  EXPECT_EQ(tok.find("<|im_end|>"), ids.back());
  EXPECT_TRUE(tok.is_end_of_generation(ids.back()));
  // Digits are split one by one (the smollm pre-tokenizer).
  auto digits = tok.encode("2024", false, false);
  EXPECT_EQ(4u, digits.size());
}

TEST_F(smollm, answers_simple_questions_in_english) {
  EXPECT_NE(std::string::npos, chat("What is the capital of France?").find("Paris"));
  EXPECT_NE(std::string::npos, chat("What is 2 plus 2?").find("4"));
  auto colors = chat("Name three colors.");
  EXPECT_NE(std::string::npos, colors.find("Red")) << colors;
  EXPECT_NE(std::string::npos, colors.find("Blue")) << colors;
  EXPECT_NE(std::string::npos, chat("What is the opposite of hot?").find("cold"));
}

TEST_F(smollm, an_answer_ends_at_the_end_of_turn) {
  generation_request r;
  r.prompt = chat_prompt("What is 2 plus 2?");
  r.max_tokens = 64;
  engine e(model_, {});
  finish_reason why = finish_reason::none;
  e.submit(r, [&](const token_event& ev) { if (ev.done) why = ev.reason; });
  e.run();
  EXPECT_EQ(finish_reason::end_of_generation, why);
}

} // namespace
} // namespace troupe::gpu
