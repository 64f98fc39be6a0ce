#include "runtime/journal_service.hpp"

namespace troupe::runtime {

journal_service::journal_service(journal_writer writer)
  : writer_(std::move(writer)), path_(writer_.path()) {
  thread_ = std::thread([this] { loop(); });
}

journal_service::~journal_service() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void journal_service::post(value event, bool durable, journal_callback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({std::move(event), durable, std::move(done)});
  }
  cv_.notify_one();
}

void journal_service::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

journal_service_stats journal_service::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void journal_service::loop() {
  std::optional<journal_error> broken; // Sticky: a failed journal stays failed.
  for (;;) {
    std::vector<item> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_)
        return;
      batch.swap(queue_);
      busy_ = true;
    }
    bool durable = false;
    int64_t written = 0;
    for (auto& it : batch) {
      if (broken)
        break;
      auto r = writer_.append(std::move(it.event));
      if (!r)
        broken = r.error();
      else
        ++written;
      durable = durable || it.durable;
    }
    bool synced = false;
    if (durable && !broken) {
      broken = writer_.sync();
      synced = true;
    }
    for (auto& it : batch)
      if (it.done)
        it.done(broken);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.events += written;
      stats_.syncs += synced ? 1 : 0;
      stats_.batches++;
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

} // namespace troupe::runtime
