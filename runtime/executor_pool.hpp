#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

/// Which executor runs each job, and which jobs are in flight where: the
/// planner's dispatch bookkeeping, without the actors. Executors are
/// numbered 0..n-1 by the caller.
namespace troupe::runtime {

/// Invariants: load(e) is the number of jobs in flight on e; a job is in
/// flight on at most one executor; a lost executor has none and is never
/// picked again.
/// Thread-compatible: one owner (the planner actor).
template <class Job>
class executor_pool {
public:
  explicit executor_pool(size_t executors) : load_(executors, 0), alive_(executors, true) {}

  /// The live executor with the fewest jobs in flight; ties rotate, so
  /// equal executors share the work. nullopt when none is alive.
  std::optional<size_t> pick() {
    std::optional<size_t> best;
    const size_t n = load_.size();
    for (size_t k = 0; k < n; ++k) {
      size_t i = (next_ + k) % n;
      if (alive_[i] && (!best || load_[i] < load_[*best]))
        best = i;
    }
    if (best)
      next_ = (*best + 1) % n;
    return best;
  }

  /// Records `job` in flight on live executor `e`; returns its id.
  uint64_t add(size_t e, Job job) {
    load_[e]++;
    jobs_.emplace(next_id_, entry{e, std::move(job)});
    return next_id_++;
  }

  /// The job `id` if it is still in flight on `e`, which it no longer is;
  /// nullopt for a job re-sent elsewhere after `e` was lost, or one taken.
  std::optional<Job> take(uint64_t id, size_t e) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.executor != e)
      return std::nullopt;
    auto job = std::move(it->second.job);
    jobs_.erase(it);
    load_[e]--;
    return job;
  }

  /// Marks `e` lost and returns its jobs in flight, oldest first, for the
  /// caller to send elsewhere. Empty when `e` was already lost.
  std::vector<Job> lose(size_t e) {
    std::vector<Job> orphans;
    if (!alive_[e])
      return orphans;
    alive_[e] = false;
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second.executor == e) {
        orphans.push_back(std::move(it->second.job));
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
    load_[e] = 0;
    return orphans;
  }

  bool alive(size_t e) const { return alive_[e]; }
  size_t load(size_t e) const { return load_[e]; }
  size_t size() const { return load_.size(); }

private:
  struct entry {
    size_t executor;
    Job job;
  };
  std::vector<size_t> load_;
  std::vector<bool> alive_;
  size_t next_ = 0; ///< Where the next tie-break starts.
  std::map<uint64_t, entry> jobs_;
  uint64_t next_id_ = 1;
};

} // namespace troupe::runtime
