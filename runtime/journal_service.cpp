#include "runtime/journal_service.hpp"

namespace troupe::runtime {

struct journal_service::state {
  struct item {
    std::string line;              ///< Empty when `event` is to be serialized.
    std::optional<run_event> event;
    int64_t ts = 0;
    std::string key_prefix;
    bool durable = false;
    journal_callback done;
  };
  explicit state(journal_writer w) : writer(std::move(w)) {}

  journal_writer writer; ///< Touched only by the thread.
  std::mutex mu;
  std::condition_variable cv;
  std::condition_variable idle_cv;
  std::vector<item> queue;      ///< Guarded by mu.
  bool busy = false;            ///< Guarded by mu: a batch is being written.
  bool stop = false;            ///< Guarded by mu.
  journal_service_stats stats;  ///< Guarded by mu.
};

journal_service::journal_service(journal_writer writer)
  : state_(std::make_shared<state>(std::move(writer))), path_(state_->writer.path()) {
  thread_ = std::thread([st = state_] { loop(st); });
}

journal_service::~journal_service() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (std::this_thread::get_id() == thread_.get_id())
    thread_.detach(); // Called from a callback: the loop ends on its own.
  else
    thread_.join();
}

void journal_service::post(std::string line, bool durable, journal_callback done) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->queue.push_back({std::move(line), std::nullopt, 0, {}, durable, std::move(done)});
  }
  state_->cv.notify_one();
}

void journal_service::post(run_event e, int64_t ts, std::string key_prefix, bool durable,
                           journal_callback done) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->queue.push_back(
      {{}, std::move(e), ts, std::move(key_prefix), durable, std::move(done)});
  }
  state_->cv.notify_one();
}

void journal_service::flush() {
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->idle_cv.wait(lock, [&] { return state_->queue.empty() && !state_->busy; });
}

journal_service_stats journal_service::stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->stats;
}

void journal_service::loop(const std::shared_ptr<state>& st) {
  std::optional<journal_error> broken; // Sticky: a failed journal stays failed.
  for (;;) {
    std::vector<state::item> batch;
    {
      std::unique_lock<std::mutex> lock(st->mu);
      st->cv.wait(lock, [&] { return st->stop || !st->queue.empty(); });
      if (st->queue.empty() && st->stop)
        return;
      batch.swap(st->queue);
      st->busy = true;
    }
    bool durable = false;
    int64_t written = 0;
    if (!broken) {
      std::vector<std::string> lines;
      lines.reserve(batch.size());
      for (auto& it : batch) {
        lines.push_back(it.event ? run_event_line(std::move(*it.event), it.ts, it.key_prefix)
                                 : std::move(it.line));
        durable = durable || it.durable;
      }
      broken = st->writer.append_lines(lines); // One write(2) for the batch.
      written = broken ? 0 : int64_t(lines.size());
    }
    bool synced = false;
    if (durable && !broken) {
      broken = st->writer.sync();
      synced = true;
    }
    for (auto& it : batch)
      if (it.done)
        it.done(broken);
    batch.clear(); // Callbacks' captures go here, possibly the owner's last reference.
    {
      std::lock_guard<std::mutex> lock(st->mu);
      st->stats.events += written;
      st->stats.syncs += synced ? 1 : 0;
      st->stats.batches++;
      st->busy = false;
    }
    st->idle_cv.notify_all();
  }
}

} // namespace troupe::runtime
