#include "dsl/tools.hpp"

namespace troupe::dsl {

const std::vector<tool_spec>& builtin_tools() {
  static const std::vector<tool_spec> tools = {
    {"chunk_text",
     {{"text", type::text(), true}, {"size", type::number(), true},
      {"overlap", type::number(), false}},
     type::list_of(type::text()), false,
     "split text into chunks of about `size` characters"},
    {"http_get",
     {{"url", type::text(), true}, {"max_bytes", type::number(), false},
      {"timeout", type::duration(), false}},
     type::text(), false, "fetch a URL (size and time limited)"},
    {"json_get",
     {{"doc", type::json(), true}, {"pointer", type::text(), true}},
     type::json(), false, "select a value by JSON pointer"},
    {"json_parse", {{"text", type::text(), true}}, type::json(), false,
     "parse text as JSON"},
    {"read_file", {{"path", type::text(), true}}, type::text(), false,
     "read a file inside the run's workspace"},
    {"regex_extract",
     {{"text", type::text(), true}, {"pattern", type::text(), true}},
     type::list_of(type::text()), false, "all matches of a pattern"},
    {"shell", {{"command", type::text(), true}}, type::text(), true,
     "run an allowlisted command (off unless configured)"},
    {"template", {{"text", type::text(), true}}, type::text(), false,
     "render an interpolated string"},
    {"write_file",
     {{"path", type::text(), true}, {"content", type::text(), true}},
     type::text(), true, "write a file inside the run's workspace"},
  };
  return tools;
}

const tool_spec* find_tool(const std::string& name) {
  for (const auto& t : builtin_tools())
    if (t.name == name)
      return &t;
  return nullptr;
}

std::regex compile_regex(const std::string& pattern) {
  if (pattern.rfind("(?i)", 0) == 0)
    return std::regex(pattern.substr(4), std::regex::ECMAScript | std::regex::icase);
  return std::regex(pattern, std::regex::ECMAScript);
}

std::vector<std::string> tool_names() {
  std::vector<std::string> names;
  for (const auto& t : builtin_tools())
    names.push_back(t.name);
  return names;
}

} // namespace troupe::dsl
