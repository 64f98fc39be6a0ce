#pragma once

#include "runtime/base/load_report.hpp"

#include "gpu/engine/engine.hpp"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

// An engine on a thread of its own, for callers that must not block: a GPU
// actor hands it requests and gets events back through callbacks, while its
// CAF scheduler thread stays free. Requests wait in a bounded queue ordered
// by job class, then shortest expected job first, and enter the engine
// (continuous batching) while fewer than `max_running` are running.

namespace troupe::gpu {

struct worker_options {
  size_t queue_capacity = 256; ///< Requests waiting beyond the engine's free slots.
  size_t max_running = 32;     ///< Requests in the engine at once.
};

/// Callback for a request's events; runs on the worker thread, must not
/// block for long, must not call back into the worker's destructor.
using event_sink = std::function<void(const token_event&)>;

/// Invariants: every accepted request gets exactly one final event (done),
/// whether it finishes, is cancelled or the worker shuts down; the engine is
/// touched only by the worker thread.
class engine_worker {
public:
  /// Starts the thread. `model` stays shared; `backend` may be null (CPU).
  engine_worker(std::shared_ptr<const engine_model> model, engine_options opts,
                worker_options wopts = {}, std::unique_ptr<llama_backend> backend = nullptr);

  /// Cancels what is left (each gets a final `cancelled` event) and joins.
  ~engine_worker();
  engine_worker(const engine_worker&) = delete;
  engine_worker& operator=(const engine_worker&) = delete;

  /// Queues a request; its class (`r.cls`) orders the queue, interactive
  /// first. Returns its id (> 0), or 0 when the queue is full (admission
  /// control: the caller degrades or refuses; no event follows).
  /// Thread-safe.
  int64_t submit(generation_request r, event_sink sink);

  /// Ends a request with `cancelled`, queued or running. Thread-safe; an
  /// unknown or finished id is ignored.
  void cancel(int64_t id);

  base::load_report load() const;       ///< What it is doing now; thread-safe.
  /// True when called from inside an event sink (the worker's own thread),
  /// where destroying the worker would mean joining itself.
  bool on_worker_thread() const { return std::this_thread::get_id() == thread_.get_id(); }
  const engine_model& model() const { return *model_; }
  std::string backend_description() const { return backend_description_; }

private:
  struct job;
  void loop();
  void admit_locked(std::vector<std::unique_ptr<job>>& out);

  std::shared_ptr<const engine_model> model_;
  worker_options wopts_;
  std::unique_ptr<engine> engine_;
  std::string backend_description_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<job>> queue_;  ///< Guarded by mu_.
  std::vector<int64_t> cancels_;             ///< Guarded by mu_.
  base::load_report load_;                   ///< Guarded by mu_.
  int64_t next_id_ = 1;                      ///< Guarded by mu_.
  uint64_t next_seq_ = 0;                    ///< Guarded by mu_: FIFO tie-break.
  bool stop_ = false;                        ///< Guarded by mu_.
  std::thread thread_;
};

} // namespace troupe::gpu
