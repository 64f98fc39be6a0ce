#pragma once

#include "runtime/journal.hpp"
#include "runtime/run_events.hpp"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

/// A journal on a thread of its own, with group commit: events queue up
/// while the thread writes; each batch is written, then synced once if any
/// of its events is durable, and only then are their callbacks run. The
/// planner's thread never waits on the disk, and a step counts as done only
/// in its callback, after its result is on disk.
namespace troupe::runtime {

/// Called on the journal thread once the event is written (and synced when
/// durable), or with the error that stopped it. Must not block for long.
using journal_callback = std::function<void(const std::optional<journal_error>&)>;

struct journal_service_stats {
  int64_t events = 0;  ///< Events written.
  int64_t syncs = 0;   ///< fdatasync calls (one per batch with a durable event).
  int64_t batches = 0; ///< Wake-ups that wrote at least one event.
};

/// Invariants: events are written in the order post() was called; every
/// posted callback runs exactly once (with an error when the writer failed
/// or the service stopped before writing it).
class journal_service {
public:
  explicit journal_service(journal_writer writer);
  /// Writes and syncs whatever is queued, runs its callbacks, joins. When
  /// the last owner lets go inside a callback (on the journal's own
  /// thread), the thread finishes the queue and ends by itself instead.
  ~journal_service();
  journal_service(const journal_service&) = delete;
  journal_service& operator=(const journal_service&) = delete;

  /// Queues one event's JSON text (journal_writer::append_line()'s
  /// precondition: run_event_line() makes it); `done` may be empty.
  /// Thread-safe.
  void post(std::string line, bool durable, journal_callback done = {});

  /// Queues a run event that nobody else needs as text: the journal thread
  /// serializes it (run_event_line(e, ts, key_prefix)), off the poster's
  /// critical path. Otherwise as post().
  void post(run_event e, int64_t ts, std::string key_prefix, bool durable,
            journal_callback done = {});

  /// Blocks until everything posted so far is written and synced. For
  /// shutdown paths and tests, never on an actor's hot path.
  void flush();

  journal_service_stats stats() const;
  const std::filesystem::path& path() const { return path_; }

private:
  struct state; ///< Shared with the thread, which may outlive this object.
  static void loop(const std::shared_ptr<state>& st);

  std::shared_ptr<state> state_;
  std::filesystem::path path_;
  std::thread thread_;
};

} // namespace troupe::runtime
