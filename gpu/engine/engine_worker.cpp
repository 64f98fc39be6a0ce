#include "gpu/engine/engine_worker.hpp"

#include <algorithm>
#include <chrono>
#include <map>

namespace troupe::gpu {

struct engine_worker::job {
  int64_t id = 0;
  uint64_t seq = 0;
  int64_t cost = 0; ///< Expected work: prompt tokens plus tokens to generate.
  generation_request request;
  event_sink sink;
};

namespace {

token_event cancelled_event() {
  token_event ev;
  ev.done = true;
  ev.reason = finish_reason::cancelled;
  return ev;
}

} // namespace

engine_worker::engine_worker(std::shared_ptr<const engine_model> model, engine_options opts,
                             worker_options wopts, std::unique_ptr<llama_backend> backend)
  : model_(model), wopts_(wopts),
    engine_(std::make_unique<engine>(std::move(model), opts, std::move(backend))),
    backend_description_(engine_->backend().describe()) {
  thread_ = std::thread([this] { loop(); });
}

engine_worker::~engine_worker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t engine_worker::submit(generation_request r, event_sink sink) {
  auto j = std::make_unique<job>();
  j->cost = int64_t(r.prompt.size()) + r.max_tokens;
  j->request = std::move(r);
  j->sink = std::move(sink);
  int64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Jobs the engine has room for are not waiting: they enter at the next
    // step. Only those beyond the free slots count against the capacity.
    size_t free_slots = wopts_.max_running > size_t(load_.running)
                          ? wopts_.max_running - size_t(load_.running) : 0;
    if (stop_ || queue_.size() >= wopts_.queue_capacity + free_slots) {
      load_.refused++;
      return 0;
    }
    id = j->id = next_id_++;
    j->seq = next_seq_++;
    queue_.push_back(std::move(j));
    load_.queued = int64_t(queue_.size());
  }
  cv_.notify_all();
  return id;
}

void engine_worker::cancel(int64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.push_back(id);
  }
  cv_.notify_all();
}

base::load_report engine_worker::load() const {
  std::lock_guard<std::mutex> lock(mu_);
  return load_;
}

// Moves the best waiting jobs into `out` while the engine has room:
// interactive before batch, then the cheapest, then the oldest.
void engine_worker::admit_locked(std::vector<std::unique_ptr<job>>& out) {
  auto better = [](const std::unique_ptr<job>& a, const std::unique_ptr<job>& b) {
    if (a->request.cls != b->request.cls)
      return base::job_class_before(a->request.cls, b->request.cls);
    if (a->cost != b->cost) return a->cost < b->cost;
    return a->seq < b->seq;
  };
  while (!queue_.empty() && size_t(load_.running) + out.size() < wopts_.max_running) {
    auto best = std::min_element(queue_.begin(), queue_.end(), better);
    out.push_back(std::move(*best));
    queue_.erase(best);
  }
}

void engine_worker::loop() {
  std::map<int64_t, int64_t> engine_ids; // worker id -> engine request id
  double ms_per_token = 0;
  for (;;) {
    std::vector<std::unique_ptr<job>> admitted, dropped;
    std::vector<int64_t> cancels;
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || !cancels_.empty() || !engine_ids.empty()
               || (!queue_.empty() && size_t(load_.running) < wopts_.max_running);
      });
      stopping = stop_;
      cancels.swap(cancels_);
      for (int64_t id : cancels) {
        auto q = std::find_if(queue_.begin(), queue_.end(), [&](auto& j) { return j->id == id; });
        if (q != queue_.end()) {
          dropped.push_back(std::move(*q));
          queue_.erase(q);
        }
      }
      if (stopping) {
        for (auto& j : queue_) dropped.push_back(std::move(j));
        queue_.clear();
      } else {
        admit_locked(admitted);
      }
      load_.running += int64_t(admitted.size());
      load_.queued = int64_t(queue_.size());
    }
    for (auto& j : dropped)
      j->sink(cancelled_event());
    for (int64_t id : cancels)
      if (auto e = engine_ids.find(id); e != engine_ids.end())
        engine_->cancel(e->second);
    if (stopping)
      for (auto& [wid, eid] : engine_ids) engine_->cancel(eid);
    for (auto& j : admitted) {
      int64_t wid = j->id;
      auto samples_left = std::make_shared<int>(std::max(1, j->request.n_samples));
      engine_ids[wid] = 0; // The engine may end the request inside submit().
      int64_t eid = engine_->submit(
        std::move(j->request),
        [this, wid, samples_left, sink = std::move(j->sink), &engine_ids](const token_event& ev) {
          if (ev.done && --*samples_left == 0) {
            engine_ids.erase(wid);
            std::lock_guard<std::mutex> lock(mu_);
            load_.running--;
            load_.completed++;
          }
          sink(ev);
        });
      if (auto e = engine_ids.find(wid); e != engine_ids.end())
        e->second = eid;
    }
    if (engine_ids.empty() && stopping)
      return;
    if (engine_->running() + engine_->waiting() == 0)
      continue;
    auto t0 = std::chrono::steady_clock::now();
    engine_->step();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count();
    ms_per_token = ms_per_token == 0 ? ms : 0.8 * ms_per_token + 0.2 * ms;
    auto blocks = engine_->stats().blocks;
    std::lock_guard<std::mutex> lock(mu_);
    load_.ms_per_token = ms_per_token;
    load_.kv_occupancy = blocks.total ? double(blocks.used) / double(blocks.total) : 0;
  }
}

} // namespace troupe::gpu
