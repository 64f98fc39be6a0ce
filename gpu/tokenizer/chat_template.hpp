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

/// How prompt_render() lays out a system text and a user prompt.
enum class prompt_layout {
  /// The prompt alone, or the system text, a blank line and the prompt.
  raw,
  /// The model's chat template when it has one, else `raw`: what workflow
  /// steps ask for, so base models without a template see plain text.
  chat_if_template,
  /// Always a chat layout, in the template's format (`plain` for a model
  /// without a template): what `troupe generate --chat` asks for.
  chat,
};

/// What a prompt is made of. The views must outlive the prompt_render() call.
struct prompt_parts {
  std::string_view system; ///< "" for no system text.
  std::string_view user;
  prompt_layout layout = prompt_layout::raw;
  /// For a chat layout: the format to use instead of the template's.
  std::optional<chat_format> format;
};

/// The text to tokenize for a prompt, and how.
struct rendered_prompt {
  std::string text;
  bool parse_special = false; ///< Tokenize special-token texts (chat layouts).
};

/// The one place a prompt becomes text, for a model whose GGUF
/// tokenizer.chat_template is `chat_template` ("" when it has none). A chat
/// layout has a system turn only for a non-empty system text, ends with the
/// opening of an assistant turn, and is tokenized with parse_special.
rendered_prompt prompt_render(std::string_view chat_template, const prompt_parts& parts);

} // namespace troupe::gpu
