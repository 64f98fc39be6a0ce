#include "runtime/model_output.hpp"

namespace troupe::runtime {

namespace {

std::string excerpt(const std::string& text) {
  const size_t max = 80;
  if (text.size() <= max)
    return text;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut; // Never split a UTF-8 sequence.
  return text.substr(0, cut) + "...";
}

// End (one past) of the JSON value starting at `begin` ('{' or '['), found
// by bracket matching outside strings; npos when it never closes.
size_t balanced_end(const std::string& s, size_t begin) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = begin; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if ((c == '}' || c == ']') && --depth == 0)
      return i + 1;
  }
  return std::string::npos;
}

} // namespace

result<value, std::string> model_output_parse(const std::string& text, bool json) {
  if (!json)
    return value(text);
  auto whole = value::parse(text, nullptr, false);
  if (!whole.is_discarded() && (whole.is_object() || whole.is_array()))
    return whole;
  for (size_t at = text.find_first_of("{["); at != std::string::npos;
       at = text.find_first_of("{[", at + 1)) {
    size_t end = balanced_end(text, at);
    if (end == std::string::npos)
      break;
    auto v = value::parse(text.substr(at, end - at), nullptr, false);
    if (!v.is_discarded())
      return v;
  }
  if (!whole.is_discarded())
    return whole; // A bare JSON scalar.
  return "the model's answer is not JSON: \"" + excerpt(text) + "\"";
}

} // namespace troupe::runtime
