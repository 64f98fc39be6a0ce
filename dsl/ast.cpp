#include "dsl/ast.hpp"

namespace troupe::dsl::ast {

bool template_string::is_plain() const {
  for (const auto& p : parts)
    if (p.value)
      return false;
  return true;
}

std::string template_string::plain_text() const {
  std::string out;
  for (const auto& p : parts)
    if (!p.value)
      out += p.literal;
  return out;
}

const char* to_string(step_kind k) {
  switch (k) {
    case step_kind::llm: return "llm";
    case step_kind::tool: return "tool";
    case step_kind::plan: return "plan";
    case step_kind::call: return "call";
  }
  return "?";
}

} // namespace troupe::dsl::ast
