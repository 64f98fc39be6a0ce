#pragma once

#include "runtime/tools.hpp"

#include <string>

// Internal to the tool executors (tools*.cpp): one function per tool, and
// the argument helpers they share. run_tool() has already checked that
// `args` is an object whose entries match the tool's parameter kinds, so a
// required text parameter is a string here.

namespace troupe::runtime::tools_builtin {

using tool_result = result<value, tool_error>;

/// A tool_error for `tool`.
tool_error fail(const std::string& tool, std::string message, bool retryable = false);

/// The string argument `name`. Precondition: run_tool checked it is one.
const std::string& text_arg(const value& args, const char* name);

/// The whole-number argument `name`, or `fallback` when it is absent or
/// null. Errors for a fraction or a magnitude beyond 2^53.
result<int64_t, tool_error> whole_arg(const value& args, const char* tool, const char* name,
                                      int64_t fallback);

/// An error when `text` is not valid UTF-8, naming `what` and the offset of
/// the first bad byte; ok (true) otherwise.
result<bool, tool_error> require_utf8(const std::string& tool, const std::string& what,
                                      const std::string& text);

tool_result chunk_text(const value& args);
tool_result regex_extract(const value& args);
tool_result read_file(const value& args, const tool_context& ctx);
tool_result write_file(const value& args, const tool_context& ctx);
tool_result shell(const value& args, const tool_context& ctx);

} // namespace troupe::runtime::tools_builtin
