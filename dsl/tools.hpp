#pragma once

#include "dsl/types.hpp"

#include <regex>
#include <string>
#include <vector>

namespace troupe::dsl {

struct tool_param {
  std::string name;
  type type_;
  bool required = true;
};

/// The signature of a built-in tool: what a `tool` step may `use`. The
/// executors (runtime) implement them; the checker types their arguments.
struct tool_spec {
  std::string name;
  std::vector<tool_param> params;
  type result;
  bool side_effects = false; ///< Worth running even if nobody reads the result.
  std::string summary;
};

/// Every built-in tool, sorted by name.
const std::vector<tool_spec>& builtin_tools();

/// The tool named `name`, or null.
const tool_spec* find_tool(const std::string& name);

/// Compiles a verify/tool regex: ECMAScript syntax, and a leading "(?i)"
/// makes it case-insensitive. Throws std::regex_error when invalid.
std::regex compile_regex(const std::string& pattern);

/// Names of all built-in tools (for "did you mean").
std::vector<std::string> tool_names();

} // namespace troupe::dsl
