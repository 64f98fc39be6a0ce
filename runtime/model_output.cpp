#include "runtime/model_output.hpp"

#include "runtime/base/utf8.hpp"

namespace troupe::runtime {

namespace {

std::string excerpt(const std::string& text) {
  const size_t max = 80;
  if (text.size() <= max)
    return text;
  return text.substr(0, base::utf8_floor(text, max)) + "...";
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
  // Bounded: deeply nested JSON would make later dumps and compares recurse.
  auto whole = parse_json_bounded(text);
  if (whole && whole.value().is_structured())
    return whole.value();
  if (!whole && whole.error().find("deep") != std::string::npos)
    return "the model's answer is JSON nested too deeply: " + whole.error();
  for (size_t at = text.find_first_of("{["); at != std::string::npos;
       at = text.find_first_of("{[", at + 1)) {
    size_t end = balanced_end(text, at);
    if (end == std::string::npos)
      break;
    auto v = parse_json_bounded(std::string_view(text).substr(at, end - at));
    if (v)
      return v.value();
  }
  if (whole)
    return whole.value(); // A bare JSON scalar.
  return "the model's answer is not JSON: \"" + excerpt(text) + "\"";
}

} // namespace troupe::runtime
