#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

// A run's journal: `journal.jsonl` in the run's directory, one JSON object
// per line, appended in the order things happened. Every event has
//   "ts":    microseconds since the Unix epoch (integer),
//   "event": what happened (string: run_started, step_started, route,
//            step_finished, step_failed, step_skipped, run_finished, ...),
// and the event's own fields, which the scheduler decides. The journal is
// the run record: resume reads it back (run_store.hpp, resume_state()).

namespace troupe::runtime {

using base::result;

/// Why the journal could not be written or read. `message` is complete on
/// its own: it names the file (and line, when `line` > 0) and the cause,
/// with strerror() text for system errors.
struct journal_error {
  std::filesystem::path path;
  /// 1-based line of the offending event; 0 when the error is not about one.
  std::size_t line = 0;
  std::string message;
};

/// Microseconds since the Unix epoch, the unit of every "ts".
std::int64_t journal_now_us();

/// Appends events to one journal file.
/// Invariants: `fd_` is open for appending unless the object was moved
/// from (then -1). For a regular file (`regular_`), `size_` is the file's
/// length after the last complete line, so the file is empty or ends with
/// a newline between calls.
/// Thread-compatible: one owner (the run's scheduler actor) calls it.
class journal_writer {
public:
  /// Opens `path` for appending, creating it (mode 0644) when missing; the
  /// directory must exist. When an existing file ends in a torn line (no
  /// final newline, as after a SIGKILL mid-write, or a last line that is
  /// not valid JSON), that line is cut off first: read_journal() would
  /// drop it anyway, and once new events follow it, it would be a bad line
  /// in the middle. torn_bytes_dropped() says how many bytes went.
  /// Creating the file syncs its directory, so a durable event is not lost
  /// with a file name that never reached the disk.
  /// Returns journal_error (path + strerror) when it cannot be opened.
  static result<journal_writer, journal_error>
  open(const std::filesystem::path& path);

  journal_writer(journal_writer&& other) noexcept;
  journal_writer& operator=(journal_writer&& other) noexcept;
  journal_writer(const journal_writer&) = delete;
  journal_writer& operator=(const journal_writer&) = delete;
  ~journal_writer();

  /// Appends `event` as one line. `event` must be an object with a string
  /// "event"; "ts" is set to journal_now_us() when absent and must be an
  /// integer when present. Invalid UTF-8 in strings (a model's raw bytes)
  /// is written as U+FFFD. The line goes out in a single write(2) call.
  /// With `durable`, fdatasync() runs before returning: use it for events
  /// a resume relies on (step_finished), because a step's result must be
  /// in the journal before the step counts as done.
  /// Returns the event's "ts". On failure (bad event, disk full, I/O
  /// error) returns journal_error and, for a regular file, cuts off any
  /// partial line so the journal stays a sequence of whole lines.
  result<std::int64_t, journal_error> append(value event,
                                             bool durable = false);

  /// Appends one line that is already an event's JSON text (as
  /// run_event_line() makes it: an object with integer "ts" and string
  /// "event", valid UTF-8, no newline), in one write(2), then syncs when
  /// `durable`. The text is not parsed again: the caller vouches for it.
  /// Errors and the cut of a partial line as append().
  std::optional<journal_error> append_line(std::string line, bool durable = false);

  /// Appends `lines` (each as append_line() takes it) in one write(2): all
  /// of them, or on an error none (a partial write is cut back).
  std::optional<journal_error> append_lines(const std::vector<std::string>& lines);

  /// fdatasync() the file: every event appended so far is on disk when
  /// this returns no error.
  std::optional<journal_error> sync();

  const std::filesystem::path& path() const {
    return path_;
  }

  /// Bytes of a torn final line that open() removed (0 when none).
  std::size_t torn_bytes_dropped() const {
    return torn_dropped_;
  }

private:
  journal_writer(std::filesystem::path path, int fd, bool regular,
                 std::size_t size, std::size_t torn_dropped);

  // Cuts a partly written line off after a failed write.
  void cut_partial_line();
  std::optional<journal_error> write_text(const std::string& text);

  std::filesystem::path path_;
  int fd_ = -1;
  bool regular_ = false;
  std::size_t size_ = 0;
  std::size_t torn_dropped_ = 0;
};

/// A journal read back.
struct journal_contents {
  /// The events, in file order; each an object with integer "ts" and
  /// string "event".
  std::vector<value> events;
  /// Set when a torn final line was dropped: says which line and why. A
  /// torn tail is what a crash mid-write leaves; it is not an error.
  std::optional<std::string> warning;
};

/// Reads every event of the journal at `path`. A final line without its
/// newline, or one that is not valid JSON, is dropped and reported in
/// `warning` (the writer writes each line with its newline in one call,
/// so such a line was never completely written). Any other bad line (not
/// JSON, not an object, "ts" not an integer, "event" not a string, a blank
/// line) is a journal_error naming the file and line number. A missing or
/// unreadable file is a journal_error with strerror() text.
result<journal_contents, journal_error>
read_journal(const std::filesystem::path& path);

} // namespace troupe::runtime
