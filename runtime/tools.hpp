#pragma once

#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

// The executors of the built-in tools listed in dsl/tools.cpp (docs/dsl.md
// "Built-in tools"). A `tool` step's arguments are evaluated by the caller;
// run_tool checks them against the tool table again, runs the tool and
// returns its result as a value of the tool's result type.

namespace troupe::runtime {

using base::result;

/// Whether and how the `shell` tool may run programs.
/// Invariants: timeout_ms > 0 and max_output > 0 when enabled.
struct shell_policy {
  bool enabled = false;           ///< Off: every shell call is refused.
  std::vector<std::string> allow; ///< Program names (argv[0]) that may run.
  int64_t timeout_ms = 10000;     ///< The program is killed after this.
  size_t max_output = 1 << 20;    ///< Most stdout bytes; more is an error.
};

/// What the tools of one run may touch. Borrowed for the duration of a
/// run_tool call.
struct tool_context {
  std::filesystem::path workspace; ///< The run's workspace directory (must exist).
  shell_policy shell;
  size_t http_max_bytes = 10 << 20; ///< http_get's default max_bytes.
  int64_t http_timeout_ms = 30000;  ///< http_get's default timeout.
  size_t file_max_bytes = 10 << 20; ///< The largest file read_file returns.
};

/// Why a tool produced no result. `tool` is the tool's name; `message` says
/// what failed in terms of the step's arguments. `retryable` is true only
/// when the same call may succeed later: network failures, timeouts of
/// http_get, HTTP 429 and 5xx. Bad arguments, missing files, refused paths
/// and failed commands are not retryable.
struct tool_error {
  std::string tool;
  std::string message;
  bool retryable = false;
};

/// Runs built-in tool `name` with `args`, an object mapping parameter names
/// to evaluated values. Every argument is checked against the tool table
/// first (unknown tool or parameter, missing required parameter, wrong JSON
/// kind; null counts as absent for optional parameters), so a caller that
/// skipped the checker still gets an error value, never a crash. Behaviour
/// per tool (docs/dsl.md "Built-in tools" has the user's view):
///   template      -> args.text (the caller already interpolated it)
///   chunk_text    -> list of chunks of at most `size` code points, each
///                    starting `overlap` (default 0) code points before the
///                    previous one ended; a chunk ends after whitespace when
///                    one lies in its second half (and after its overlap);
///                    never splits a UTF-8 sequence; "" gives []
///   json_parse    -> the document; errors carry nlohmann's line and column
///   json_get      -> the value at an RFC 6901 pointer in args.doc
///   regex_extract -> every non-overlapping match (group 1 when the pattern
///                    has groups; "" where group 1 did not take part)
///   read_file / write_file -> confined by workspace_resolve(); write is
///                    atomic and returns the normalized relative path
///   http_get      -> the body of a 2xx response (http/https, <= 5
///                    redirects, bounded by max_bytes and timeout)
///   shell         -> stdout of an allowlisted program run without a shell
/// Texts a tool returns (file contents, bodies, output) must be valid UTF-8.
/// Thread-safe: calls share no state, except that concurrent writes to the
/// same workspace file race as the file system makes them (last rename wins).
result<value, tool_error> run_tool(const std::string& name, const value& args,
                                   const tool_context& ctx);

/// Whether built-in tool `name`'s result depends only on its arguments (no
/// clock, network, file or process), so running it again gives the same
/// result: template, json_get, json_parse, regex_extract, chunk_text.
bool tool_is_pure(const std::string& name);

/// Whether tool `name` is pure and also takes time linear in its input, so
/// it may run wherever the caller is without holding it up: every pure
/// tool except regex_extract, whose backtracking has no such bound.
bool tool_is_quick(const std::string& name);

/// Splits a shell tool command into argv: words separated by ASCII
/// whitespace; '...' keeps everything literally; "..." keeps everything
/// except that \" and \\ stand for " and \; quoted and unquoted parts next
/// to each other join into one word, and "" or '' alone is an empty word.
/// No other character is special (no globs, pipes, variables or escapes
/// outside double quotes). Returns an error for an unterminated quote, a
/// NUL byte, or a command with no words.
result<std::vector<std::string>, std::string> shell_split(const std::string& command);

} // namespace troupe::runtime
