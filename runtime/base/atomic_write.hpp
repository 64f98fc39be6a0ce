#pragma once

#include "runtime/base/error.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/// Writing a whole file so that readers (and a crash) see the old file or
/// the new one, never a part: the one way troupe replaces a file.
namespace troupe::base {

namespace detail {

// Writes all of `data` to `fd`, retrying short and interrupted writes; adds
// what went out to `written`. On failure errno says why (EIO when write(2)
// returned 0).
inline bool write_fully(int fd, std::string_view data, std::uint64_t& written) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return false;
    }
    written += static_cast<std::uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

} // namespace detail

/// Replaces the file at `path` with `parts`, concatenated: writes them to a
/// new temporary file beside it (".NAME.tmp-XXXXXX", same directory, so the
/// rename cannot cross file systems), sets its mode, fsyncs it, renames it
/// over `path` and fsyncs the directory. The file gets the permission bits
/// of the file it replaces, or `mode_if_new` (umask not applied) when there
/// is none. The directory must exist.
/// Returns nothing on success. On failure returns an error whose `path` is
/// `path`, whose message names the step that failed with strerror()'s text
/// ("cannot create a temporary file beside it: Permission denied"), and
/// whose `offset` is set, to the bytes written, when writing failed; the
/// temporary file is removed and `path` is untouched. A failed directory
/// sync after the rename is not reported (the file is already replaced;
/// only durability across a power cut is weaker). Thread-safe; concurrent
/// writers of one path each leave a whole file, the last rename winning.
inline std::optional<error> atomic_write_parts(const std::filesystem::path& path,
                                               const std::vector<std::string_view>& parts,
                                               ::mode_t mode_if_new = 0644) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty())
    dir = ".";
  std::string temp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return error{"cannot create a temporary file beside it: " + std::string(std::strerror(errno)),
                 path.string()};
  struct stat old {};
  const ::mode_t mode = ::stat(path.c_str(), &old) == 0 ? old.st_mode & 07777 : mode_if_new;
  std::optional<error> failed;
  const auto fail = [&](const char* step) {
    if (!failed)
      failed = error{std::string(step) + ": " + std::strerror(errno), path.string()};
  };
  std::uint64_t written = 0;
  bool ok = true;
  for (size_t i = 0; ok && i < parts.size(); ++i)
    ok = detail::write_fully(fd, parts[i], written);
  if (!ok) {
    fail("cannot write the file");
    failed->offset = written;
  } else if (::fchmod(fd, mode) != 0) { // mkostemp made it 0600
    fail("cannot set the mode of the file");
  } else if (::fsync(fd) != 0) {
    fail("cannot flush the file");
  }
  if (::close(fd) != 0)
    fail("cannot close the file");
  if (!failed && ::rename(temp.c_str(), path.c_str()) != 0)
    fail("cannot rename the temporary file over it");
  if (failed) {
    ::unlink(temp.c_str());
    return failed;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return std::nullopt;
}

/// atomic_write_parts() of the single part `data`.
inline std::optional<error> atomic_write(const std::filesystem::path& path, std::string_view data,
                                         ::mode_t mode_if_new = 0644) {
  return atomic_write_parts(path, {data}, mode_if_new);
}

} // namespace troupe::base
