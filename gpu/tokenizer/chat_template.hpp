#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::gpu {

/// The chat prompt layouts troupe renders.
enum class chat_format {
  chatml, ///< <|im_start|>role\ncontent<|im_end|>\n (SmolLM2, Qwen, ...)
  llama2, ///< [INST] <<SYS>>...<</SYS>> user [/INST] assistant </s>
  plain,  ///< "System: ...\nUser: ...\nAssistant:" for models with no template
};

struct chat_message {
  std::string role; ///< "system", "user" or "assistant".
  std::string content;
};

/// The format a GGUF tokenizer.chat_template (a Jinja text) asks for:
/// recognized by its markers; `plain` when empty or unrecognized.
chat_format chat_format_detect(std::string_view template_text);

/// The format named `name` ("chatml", "llama2", "plain"), for overrides.
std::optional<chat_format> chat_format_from_name(std::string_view name);

/// The prompt text for `messages`; with `add_generation_prompt`, ends with
/// the opening of an assistant turn. Special-token texts are meant to be
/// tokenized with parse_special.
std::string chat_render(chat_format f, const std::vector<chat_message>& messages,
                        bool add_generation_prompt);

} // namespace troupe::gpu
