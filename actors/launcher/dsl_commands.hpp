#pragma once

#include <string>
#include <vector>

/// The launcher's language commands. Each prints diagnostics to stderr and
/// returns the process exit status: 0 success, 1 errors in the input (or,
/// for `fmt --check`, a file that is not formatted).
namespace troupe::launcher {

/// `troupe check FILE...`; with `dump_ir`, prints each checked graph.
int cmd_check(const std::vector<std::string>& files, bool dump_ir);

/// `troupe fmt [--check] FILE...`: rewrites files in place (atomically), or
/// with `check_only` reports the files that are not formatted.
int cmd_fmt(const std::vector<std::string>& files, bool check_only);

/// `troupe graph FILE`: Graphviz DOT of the checked graph on stdout.
int cmd_graph(const std::string& file);

} // namespace troupe::launcher
