#include "runtime/journal.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace troupe::runtime {

namespace {

namespace fs = std::filesystem;

journal_error system_error(const fs::path& path, const std::string& what,
                           int err) {
  return {path, 0, what + " " + path.string() + ": " + std::strerror(err)};
}

journal_error line_error(const fs::path& path, std::size_t line,
                         const std::string& what) {
  return {path, line, path.string() + ":" + std::to_string(line) + ": " + what};
}

journal_error not_open_error(const fs::path& path) {
  return {path, 0,
          "journal " + path.string()
            + " is not open (moved from, or a failed write left a partial "
              "line that could not be cut off)"};
}

// Syncs the directory holding `path`, so that a newly created file's name
// is on disk along with its first durable line.
std::optional<journal_error> sync_parent_dir(const fs::path& path) {
  fs::path dir = path.parent_path();
  if (dir.empty())
    dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return system_error(dir, "cannot open directory", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    return system_error(dir, "cannot sync directory", err);
  return std::nullopt;
}

// Offset just past the last newline in the first `end` bytes of the file,
// or 0 when there is none. Reads backwards in chunks.
result<std::size_t, journal_error> line_start(const fs::path& path, int fd,
                                              std::size_t end) {
  constexpr std::size_t chunk = 64 * 1024;
  char buf[chunk];
  while (end > 0) {
    const std::size_t n = end < chunk ? end : chunk;
    const std::size_t start = end - n;
    const ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(start));
    if (got < 0 && errno == EINTR)
      continue;
    if (got != static_cast<ssize_t>(n))
      return system_error(path, "cannot read", got < 0 ? errno : EIO);
    for (std::size_t i = n; i > 0; --i)
      if (buf[i - 1] == '\n')
        return start + i;
    end = start;
  }
  return std::size_t{0};
}

// Length of the file without the torn final line read_journal() would
// drop: bytes after the last newline, or else a last line that is not
// valid JSON.
result<std::size_t, journal_error> kept_length(const fs::path& path, int fd,
                                               std::size_t size) {
  auto whole = line_start(path, fd, size);
  if (!whole || whole.value() == 0 || whole.value() != size)
    return whole;
  auto last = line_start(path, fd, size - 1);
  if (!last)
    return last;
  std::string line(size - 1 - last.value(), '\0');
  const ssize_t got =
    ::pread(fd, line.data(), line.size(), static_cast<off_t>(last.value()));
  if (got != static_cast<ssize_t>(line.size()))
    return system_error(path, "cannot read", got < 0 ? errno : EIO);
  return value::accept(line) ? size : last.value();
}

// Whole contents of `path`, or a journal_error with strerror() text.
result<std::string, journal_error> read_all(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return system_error(path, "cannot open journal", errno);
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      const int err = errno;
      ::close(fd);
      return system_error(path, "cannot read journal", err);
    }
    if (got == 0)
      break;
    text.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return text;
}

// Checks the fields every event has; returns what is wrong, or "".
std::string event_shape_problem(const value& event) {
  if (!event.is_object())
    return "event is not a JSON object";
  const auto ts = event.find("ts");
  if (ts == event.end() || !ts->is_number_integer())
    return "event has no integer \"ts\"";
  const auto name = event.find("event");
  if (name == event.end() || !name->is_string())
    return "event has no string \"event\"";
  return {};
}

} // namespace

std::int64_t journal_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
    .count();
}

journal_writer::journal_writer(fs::path path, int fd, bool regular,
                               std::size_t size, std::size_t torn_dropped)
  : path_(std::move(path)),
    fd_(fd),
    regular_(regular),
    size_(size),
    torn_dropped_(torn_dropped) {
}

journal_writer::journal_writer(journal_writer&& other) noexcept
  : path_(std::move(other.path_)),
    fd_(std::exchange(other.fd_, -1)),
    regular_(other.regular_),
    size_(other.size_),
    torn_dropped_(other.torn_dropped_) {
}

journal_writer& journal_writer::operator=(journal_writer&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    regular_ = other.regular_;
    size_ = other.size_;
    torn_dropped_ = other.torn_dropped_;
  }
  return *this;
}

journal_writer::~journal_writer() {
  if (fd_ >= 0)
    ::close(fd_);
}

result<journal_writer, journal_error> journal_writer::open(const fs::path& path) {
  constexpr int flags = O_RDWR | O_APPEND | O_CLOEXEC;
  bool created = false;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), flags | O_CREAT, 0644);
    created = fd >= 0;
  }
  if (fd < 0)
    return system_error(path, "cannot open journal", errno);
  // From here on `writer` owns fd and closes it on every early return.
  journal_writer writer{path, fd, false, 0, 0};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return system_error(path, "cannot stat journal", errno);
  writer.regular_ = S_ISREG(st.st_mode);
  if (writer.regular_) {
    const auto size = static_cast<std::size_t>(st.st_size);
    auto kept = kept_length(path, fd, size);
    if (!kept)
      return kept.error();
    if (kept.value() != size) {
      if (::ftruncate(fd, static_cast<off_t>(kept.value())) != 0)
        return system_error(path, "cannot cut the torn final line of", errno);
      writer.torn_dropped_ = size - kept.value();
    }
    writer.size_ = kept.value();
  }
  if (created)
    if (auto err = sync_parent_dir(path))
      return *err;
  return writer;
}

void journal_writer::cut_partial_line() {
  if (regular_ && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    // Nothing may follow the partial line, or it would become a bad line
    // in the middle: stop writing. read_journal() drops it as a torn tail
    // and the next open() cuts it.
    ::close(fd_);
    fd_ = -1;
  }
}

result<std::int64_t, journal_error> journal_writer::append(value event,
                                                           bool durable) {
  if (fd_ < 0)
    return not_open_error(path_);
  if (event.is_object() && !event.contains("ts"))
    event["ts"] = journal_now_us();
  if (auto problem = event_shape_problem(event); !problem.empty())
    return journal_error{path_, 0,
                         "cannot append to " + path_.string() + ": " + problem};
  const std::int64_t ts = event["ts"].get<std::int64_t>();
  if (auto err = append_line(value_to_json(event), durable))
    return *err;
  return ts;
}

std::optional<journal_error> journal_writer::append_line(std::string line, bool durable) {
  line.push_back('\n');
  if (auto err = write_text(line))
    return err;
  if (durable)
    return sync();
  return std::nullopt;
}

std::optional<journal_error> journal_writer::append_lines(const std::vector<std::string>& lines) {
  size_t n = 0;
  for (const auto& l : lines) n += l.size() + 1;
  std::string text;
  text.reserve(n);
  for (const auto& l : lines) {
    text += l;
    text.push_back('\n');
  }
  return write_text(text);
}

// One write(2) of whole lines; a partial write is cut back.
std::optional<journal_error> journal_writer::write_text(const std::string& line) {
  if (fd_ < 0)
    return not_open_error(path_);
  ssize_t wrote;
  do
    wrote = ::write(fd_, line.data(), line.size());
  while (wrote < 0 && errno == EINTR);
  if (wrote < 0) {
    const int err = errno;
    cut_partial_line();
    return system_error(path_, "cannot append to", err);
  }
  if (static_cast<std::size_t>(wrote) != line.size()) {
    cut_partial_line();
    return journal_error{path_, 0,
                         "short write to " + path_.string() + " ("
                           + std::to_string(wrote) + " of "
                           + std::to_string(line.size())
                           + " bytes; is the disk full?)"};
  }
  size_ += line.size();
  return std::nullopt;
}

std::optional<journal_error> journal_writer::sync() {
  if (fd_ < 0)
    return not_open_error(path_);
  if (::fdatasync(fd_) != 0)
    return system_error(path_, "cannot sync", errno);
  return std::nullopt;
}

result<journal_contents, journal_error> read_journal(const fs::path& path) {
  auto text = read_all(path);
  if (!text)
    return text.error();
  const std::string& all = text.value();
  journal_contents out;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < all.size()) {
    ++line_no;
    const std::size_t nl = all.find('\n', pos);
    const bool complete = nl != std::string::npos;
    const std::size_t end = complete ? nl : all.size();
    const std::string_view line{all.data() + pos, end - pos};
    const bool last = !complete || end + 1 == all.size();
    pos = complete ? nl + 1 : all.size();
    if (!complete) {
      out.warning = path.string() + ":" + std::to_string(line_no)
        + ": dropped a torn final line (" + std::to_string(line.size())
        + " bytes without a newline: a write was cut off)";
      break;
    }
    value event;
    try {
      event = value::parse(line);
    } catch (const value::parse_error& e) {
      if (last) {
        out.warning = path.string() + ":" + std::to_string(line_no)
          + ": dropped a torn final line (not valid JSON)";
        break;
      }
      return line_error(path, line_no,
                        std::string{"invalid JSON: "} + e.what());
    }
    if (auto problem = event_shape_problem(event); !problem.empty())
      return line_error(path, line_no, problem);
    out.events.push_back(std::move(event));
  }
  return out;
}

} // namespace troupe::runtime
