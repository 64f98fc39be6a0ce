// prompt_render(): how a system text and a prompt become the text the
// tokenizer reads, for each layout and kind of chat template.
#include "gpu/tokenizer/chat_template.hpp"

#include <gtest/gtest.h>

namespace troupe::gpu {
namespace {

constexpr const char* chatml_template =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
  "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";
constexpr const char* llama2_template = "{{ bos_token + '[INST] ' + content + ' [/INST]' }}";
constexpr const char* unknown_template = "{{ messages | join }}";

constexpr const char* chatml_with_system =
  "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
  "<|im_start|>assistant\n";
constexpr const char* chatml_user_only = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";

struct row {
  const char* what;
  const char* chat_template;
  const char* system;
  prompt_layout layout;
  std::optional<chat_format> format;
  const char* text;
  bool parse_special;
};

const row rows[] = {
  {"raw prompt", "", "", prompt_layout::raw, {}, "Hi", false},
  {"raw with system", "", "Be brief.", prompt_layout::raw, {}, "Be brief.\n\nHi", false},
  {"raw ignores a template", chatml_template, "Be brief.", prompt_layout::raw, {},
   "Be brief.\n\nHi", false},
  {"step on a model without template", "", "", prompt_layout::chat_if_template, {}, "Hi",
   false},
  {"step with system, no template", "", "Be brief.", prompt_layout::chat_if_template, {},
   "Be brief.\n\nHi", false},
  {"step ignores a format without template", "", "", prompt_layout::chat_if_template,
   chat_format::chatml, "Hi", false},
  {"step on chatml", chatml_template, "Be brief.", prompt_layout::chat_if_template, {},
   chatml_with_system, true},
  {"step on chatml, no system", chatml_template, "", prompt_layout::chat_if_template, {},
   chatml_user_only, true},
  {"step on llama2", llama2_template, "Be brief.", prompt_layout::chat_if_template, {},
   "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]", true},
  {"step on an unknown template", unknown_template, "Be brief.",
   prompt_layout::chat_if_template, {}, "System: Be brief.\nUser: Hi\nAssistant:", true},
  {"chat without template is plain", "", "", prompt_layout::chat, {}, "User: Hi\nAssistant:",
   true},
  {"chat without template, system", "", "Be brief.", prompt_layout::chat, {},
   "System: Be brief.\nUser: Hi\nAssistant:", true},
  {"chat on chatml", chatml_template, "", prompt_layout::chat, {}, chatml_user_only, true},
  {"chat with a format override", chatml_template, "", prompt_layout::chat,
   chat_format::llama2, "[INST] Hi [/INST]", true},
  {"chat format without template", "", "Be brief.", prompt_layout::chat, chat_format::chatml,
   chatml_with_system, true},
};

TEST(prompt_render, table) {
  for (const auto& r : rows) {
    prompt_parts parts;
    parts.system = r.system;
    parts.user = "Hi";
    parts.layout = r.layout;
    parts.format = r.format;
    auto p = prompt_render(r.chat_template, parts);
    EXPECT_EQ(r.text, p.text) << r.what;
    EXPECT_EQ(r.parse_special, p.parse_special) << r.what;
  }
}

} // namespace
} // namespace troupe::gpu
