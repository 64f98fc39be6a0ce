#include "dsl/lexicon.hpp"

#include <algorithm>

namespace troupe::dsl {

const std::vector<std::string_view>& keywords() {
  // Sorted, for binary search; the keyword rules of grammar/Troupe.g4.
  static const std::vector<std::string_view> words = {
    "and",  "call",     "false",  "for",  "import", "in",      "input",
    "llm",  "model",    "not",    "null", "of",     "or",      "output",
    "plan", "registry", "router", "tool", "true",   "workflow"};
  return words;
}

bool is_keyword(std::string_view word) {
  const auto& words = keywords();
  return std::binary_search(words.begin(), words.end(), word);
}

bool is_identifier(std::string_view word) {
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (word.empty() || !letter(word.front()))
    return false;
  for (char c : word)
    if (!letter(c) && !(c >= '0' && c <= '9'))
      return false;
  return !is_keyword(word);
}

std::string escape_string(std::string_view text, string_braces braces) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '{':
        out += braces == string_braces::literal ? "\\{" : "{";
        break;
      default: out += c;
    }
  }
  return out;
}

std::string quote_string(std::string_view text, string_braces braces) {
  return "\"" + escape_string(text, braces) + "\"";
}

} // namespace troupe::dsl
