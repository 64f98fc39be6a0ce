#include "runtime/workspace.hpp"

#include <sys/stat.h>

#include <system_error>

namespace troupe::runtime {

namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& relative) {
  return "'" + relative + "'";
}

// Whether `inner` lies strictly below `outer`, comparing whole components
// (so /ws2/x is not inside /ws). Both are canonical absolute paths.
bool strictly_inside(const fs::path& outer, const fs::path& inner) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o)
      return false;
  }
  // A trailing empty component ("/ws/") is not a name below the root.
  for (; i != inner.end(); ++i)
    if (!i->empty())
      return true;
  return false;
}

// Checks the lexical form alone, before the file system is consulted.
// Returns the normalized relative path or why it is refused.
result<fs::path, std::string> lexical_check(const std::string& relative) {
  if (relative.empty())
    return std::string{"path is empty; name a file inside the workspace"};
  if (relative.find('\0') != std::string::npos)
    return "path " + quoted(relative.substr(0, relative.find('\0')))
           + "... contains a NUL byte";
  const fs::path given{relative};
  if (given.has_root_directory() || given.has_root_name())
    return "absolute path " + quoted(relative)
           + " is not allowed; use a path relative to the workspace";
  const fs::path norm = given.lexically_normal();
  if (norm.empty() || norm == ".")
    return "path " + quoted(relative) + " names the workspace itself, not a file in it";
  if (*norm.begin() == "..")
    return "path " + quoted(relative) + " leaves the workspace";
  if (norm.filename().empty())
    return "path " + quoted(relative) + " ends in '/' and so names a directory, not a file";
  return norm;
}

// A symlink left in `resolved` after canonicalization is dangling: its
// target does not exist yet and could be created anywhere later.
result<bool, std::string> refuse_dangling(const fs::path& root, const fs::path& resolved,
                                          const std::string& relative) {
  fs::path walk = root;
  for (const auto& part : resolved.lexically_relative(root)) {
    walk /= part;
    struct stat st {};
    if (::lstat(walk.c_str(), &st) != 0)
      return true; // The rest does not exist yet; nothing to follow.
    if (S_ISLNK(st.st_mode))
      return "path " + quoted(relative) + " crosses the dangling symlink "
             + quoted(walk.lexically_relative(root).generic_string());
  }
  return true;
}

} // namespace

result<fs::path, std::string> workspace_resolve(const fs::path& root,
                                                const std::string& relative) {
  auto norm = lexical_check(relative);
  if (!norm)
    return norm.error();
  std::error_code ec;
  const fs::path croot = fs::canonical(root, ec);
  if (ec || !fs::is_directory(croot, ec))
    return "workspace " + quoted(root.string()) + " is not an existing directory";
  const fs::path resolved = fs::weakly_canonical(croot / norm.value(), ec);
  if (ec)
    return "cannot resolve path " + quoted(relative) + ": " + ec.message();
  if (!strictly_inside(croot, resolved))
    return "path " + quoted(relative) + " leaves the workspace through a symlink";
  auto dangling = refuse_dangling(croot, resolved, relative);
  if (!dangling)
    return dangling.error();
  return resolved;
}

std::string workspace_relative_name(const std::string& relative) {
  return fs::path{relative}.lexically_normal().generic_string();
}

} // namespace troupe::runtime
