#include "gpu/tokenizer/chat_template.hpp"

namespace troupe::gpu {

chat_format chat_format_detect(std::string_view t) {
  if (t.find("<|im_start|>") != std::string_view::npos)
    return chat_format::chatml;
  if (t.find("[INST]") != std::string_view::npos)
    return chat_format::llama2;
  return chat_format::plain;
}

std::optional<chat_format> chat_format_from_name(std::string_view name) {
  if (name == "chatml") return chat_format::chatml;
  if (name == "llama2") return chat_format::llama2;
  if (name == "plain") return chat_format::plain;
  return std::nullopt;
}

namespace {

std::string render_llama2(const std::vector<chat_message>& messages) {
  std::string out, system;
  bool first_user = true;
  for (const auto& m : messages) {
    if (m.role == "system") {
      system = m.content;
    } else if (m.role == "user") {
      out += first_user ? "[INST] " : "<s>[INST] ";
      if (!system.empty()) {
        out += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
        system.clear();
      }
      out += m.content + " [/INST]";
      first_user = false;
    } else {
      out += " " + m.content + " </s>";
    }
  }
  return out;
}

} // namespace

std::string chat_render(chat_format f, const std::vector<chat_message>& messages,
                        bool add_generation_prompt) {
  std::string out;
  switch (f) {
    case chat_format::chatml:
      for (const auto& m : messages)
        out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_generation_prompt)
        out += "<|im_start|>assistant\n";
      return out;
    case chat_format::llama2:
      return render_llama2(messages); // The model continues after [/INST].
    case chat_format::plain:
      for (const auto& m : messages) {
        std::string role = m.role;
        if (!role.empty())
          role[0] = static_cast<char>(role[0] - ('a' <= role[0] && role[0] <= 'z' ? 32 : 0));
        out += role + ": " + m.content + "\n";
      }
      if (add_generation_prompt)
        out += "Assistant:";
      return out;
  }
  return out;
}

rendered_prompt prompt_render(std::string_view chat_template, const prompt_parts& parts) {
  const bool chat = parts.layout == prompt_layout::chat
                    || (parts.layout == prompt_layout::chat_if_template && !chat_template.empty());
  if (!chat) {
    std::string text{parts.user};
    if (!parts.system.empty())
      text = std::string(parts.system) + "\n\n" + text;
    return {std::move(text), false};
  }
  const chat_format f = parts.format ? *parts.format : chat_format_detect(chat_template);
  std::vector<chat_message> messages;
  if (!parts.system.empty())
    messages.push_back({"system", std::string(parts.system)});
  messages.push_back({"user", std::string(parts.user)});
  return {chat_render(f, messages, true), true};
}

} // namespace troupe::gpu
