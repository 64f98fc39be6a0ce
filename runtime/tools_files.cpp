#include "runtime/base/atomic_write.hpp"
#include "runtime/tools_builtin.hpp"
#include "runtime/workspace.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

// read_file and write_file: the tools confined to the run's workspace.

namespace troupe::runtime::tools_builtin {

namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) {
  return std::strerror(err);
}

// Closes a descriptor when it goes out of scope.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

// Reads at most `limit` + 1 bytes, so a file that grew past the limit after
// fstat is still caught.
result<std::string, int> read_up_to(int fd, size_t limit) {
  std::string data;
  char buffer[64 * 1024];
  while (data.size() <= limit) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    if (n == 0)
      break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

// Creates the directories above `target` that do not exist yet. They lie
// inside the workspace: workspace_resolve resolved every existing one.
result<bool, std::string> make_parents(const fs::path& target, const std::string& relative) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec)
    return "cannot create the directories of '" + relative + "': " + ec.message();
  return true;
}

} // namespace

tool_result read_file(const value& args, const tool_context& ctx) {
  const std::string& relative = text_arg(args, "path");
  auto path = workspace_resolve(ctx.workspace, relative);
  if (!path)
    return fail("read_file", path.error());
  // O_NOFOLLOW: a symlink swapped in after the check is not followed.
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  fd_guard file{::open(path.value().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)};
  if (file.fd < 0)
    return fail("read_file", "cannot open '" + relative + "': " + errno_text(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode))
    return fail("read_file", "'" + relative + "' is not a regular file");
  const size_t limit = ctx.file_max_bytes;
  if (static_cast<uint64_t>(st.st_size) > limit)
    return fail("read_file", "'" + relative + "' is " + std::to_string(st.st_size)
                               + " bytes, over the limit of " + std::to_string(limit));
  auto data = read_up_to(file.fd, limit);
  if (!data)
    return fail("read_file", "cannot read '" + relative + "': " + errno_text(data.error()));
  if (data.value().size() > limit)
    return fail("read_file", "'" + relative + "' grew past the limit of "
                               + std::to_string(limit) + " bytes while being read");
  auto utf8 = require_utf8("read_file", "'" + relative + "'", data.value());
  if (!utf8)
    return utf8.error();
  return value(std::move(data).value());
}

tool_result write_file(const value& args, const tool_context& ctx) {
  const std::string& relative = text_arg(args, "path");
  const std::string& content = text_arg(args, "content");
  auto path = workspace_resolve(ctx.workspace, relative);
  if (!path)
    return fail("write_file", path.error());
  const fs::path& target = path.value();
  std::error_code ec;
  if (fs::is_directory(target, ec))
    return fail("write_file", "'" + relative + "' is a directory");
  auto parents = make_parents(target, relative);
  if (!parents)
    return fail("write_file", parents.error());
  // Readers see the old file or the new one, never a part. The message
  // names the path as the step gave it, not where the workspace lies.
  if (auto err = base::atomic_write(target, content))
    return fail("write_file", "cannot write '" + relative + "': " + err->message);
  return value(workspace_relative_name(relative));
}

} // namespace troupe::runtime::tools_builtin
