#pragma once

#include "runtime/base/result.hpp"

#include <filesystem>
#include <string>

// The run's workspace: the one directory the file tools (read_file,
// write_file) and the shell tool may touch. A workflow names files in it by
// relative paths, and nothing it writes may make such a path reach outside.

namespace troupe::runtime {

using base::result;

/// Resolves `relative`, a path a workflow gave to a file tool, to the file it
/// names inside the workspace directory `root`.
///
/// Refused, with a message that quotes the path and says why: an empty path,
/// a path holding a NUL byte, an absolute path, a path whose lexical normal
/// form leaves the workspace ("../x", "a/../../x") or is the workspace itself
/// ("." , "a/.."), a path that leaves the workspace through a symlink (in any
/// component, the last included), a path that crosses a dangling symlink
/// (whose target could later appear outside), and a `root` that is not an
/// existing directory.
///
/// On success returns the absolute path with every existing symlink resolved
/// (the workspace root included), which lies strictly inside the canonical
/// root; components that do not exist yet are appended as written, after
/// lexical normalization. Symlinks that stay inside the workspace are
/// followed and allowed.
///
/// The check reads the file system at call time: confinement holds as long as
/// nothing else rewrites the workspace's symlinks between this call and the
/// use of its result. Thread-safe (no shared state).
result<std::filesystem::path, std::string>
workspace_resolve(const std::filesystem::path& root, const std::string& relative);

/// `relative` in the lexical normal form workspace_resolve checks, with '/'
/// separators ("./a//b.txt" -> "a/b.txt"): how tools report a path back.
/// Precondition: workspace_resolve(root, relative) succeeded.
std::string workspace_relative_name(const std::string& relative);

} // namespace troupe::runtime
