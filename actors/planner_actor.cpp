#include "actors/planner_actor.hpp"

#include "actors/jobs.hpp"
#include "actors/records.hpp"
#include "runtime/executor_pool.hpp"
#include "runtime/run_events.hpp"
#include "runtime/step_attempts.hpp"
#include "runtime/workflow_run.hpp"

#include "caf/typed_event_based_actor.hpp"

#include <deque>
#include <optional>

// The planner is a shell: sending, receiving and the journal's ordering.
// What to do with each outcome is runtime::step_attempts' decision; which
// steps are ready is runtime::workflow_run's; where a job runs is
// runtime::executor_pool's, except that a quick pure tool runs here
// (pump()).
namespace troupe::actors {

namespace {

using runtime::step_action;
using runtime::value;

// Internal: the journal thread reports a durable write (key, error or "").
using planner_impl_type =
  planner_actor::extend<caf::reacts_to<journaled_atom, std::string, std::string>>;

const std::string end_key = "#run_finished";

// A job in flight: whose attempt it serves, and the job to re-send if its
// node is lost.
struct job_entry {
  std::string key;
  uint64_t serial;
  step_job job;
};

class planner_impl : public planner_impl_type::base {
public:
  planner_impl(caf::actor_config& cfg, planner_options opts)
    : planner_impl_type::base(cfg), opts_(std::move(opts)), pool_(opts_.executors.size()) {
    env_.program = opts_.program;
    env_.cache = opts_.cache.get();
    env_.key_prefix = opts_.key_prefix;
    env_.plan_depth = opts_.plan_depth;
    env_.plan_max_steps = opts_.plan_max_steps;
    env_.now_us = runtime::journal_now_us;
    env_.journal = [this](runtime::run_event e) { record(std::move(e)); };
    env_.learn = [this](const runtime::call_report& r) { send(opts_.router, r); };
    set_down_handler([this](const caf::down_msg& d) { executor_down(d.source); });
    for (const auto& e : opts_.executors)
      monitor(e.actor);
  }

  behavior_type make_behavior() override {
    return {
      [this](run_atom) {
        auto promise = make_response_promise<run_summary>();
        waiters_.push_back(promise);
        if (!started_)
          start();
        else if (summary_)
          deliver_all();
        return promise;
      },
      [this](journaled_atom, const std::string& key, const std::string& error) {
        on_journaled(key, error);
      },
    };
  }

private:
  // -- journal --------------------------------------------------------------

  // Serializes `e` once: with listeners, here, and the same bytes go to
  // them and to the journal; without, on the journal's thread, off the
  // run's critical path. With `ack_key`, a journaled_atom reports the write.
  void record(runtime::run_event e, bool durable = false, const std::string& ack_key = {}) {
    durable = durable || runtime::run_event_durable(e);
    runtime::journal_callback cb;
    if (!ack_key.empty()) {
      auto self = caf::actor_cast<planner_impl_type>(this);
      cb = [self, ack_key](const std::optional<runtime::journal_error>& e) {
        caf::anon_send(self, journaled_atom_v, ack_key, e ? e->message : std::string());
      };
    }
    const auto ts = runtime::journal_now_us();
    if (opts_.listeners.empty())
      return opts_.journal->post(std::move(e), ts, opts_.key_prefix, durable, std::move(cb));
    auto line = runtime::run_event_line(std::move(e), ts, opts_.key_prefix);
    for (const auto& l : opts_.listeners)
      caf::anon_send(l, run_event{line});
    opts_.journal->post(std::move(line), durable, std::move(cb));
  }

  // -- the run --------------------------------------------------------------

  void start() {
    started_ = true;
    runtime::ev_run_started ev{opts_.run_id, opts_.workflow, opts_.workflow_file, opts_.inputs,
                               {}, !opts_.key_prefix.empty()};
    for (const auto& [k, v] : opts_.restored) ev.reused.push_back(k);
    record(std::move(ev));
    auto run = runtime::workflow_run::start(*opts_.program->checked, opts_.workflow,
                                            opts_.inputs, opts_.restored);
    if (!run) {
      failures_.push_back(run.error().message);
      return end_run();
    }
    run_ = std::move(run).value();
    pump();
  }

  // Starts what became ready and runs the quick jobs waiting here. A quick
  // job's answer completes its step, which calls pump() again: that call
  // only asks this loop for another round, so a chain of quick steps runs
  // as a loop, not as a recursion as deep as the chain.
  void pump() {
    if (pumping_) {
      again_ = true;
      return;
    }
    pumping_ = true;
    do {
      again_ = false;
      for (auto& n : run_->take_notes())
        record(std::move(n));
      for (auto& t : run_->take_ready())
        backlog_.push_back(std::move(t));
      // A step whose result only waits for the disk holds no slot.
      while (!backlog_.empty()
             && active_.size() - done_values_.size() < opts_.max_concurrent_steps) {
        auto t = std::move(backlog_.front());
        backlog_.pop_front();
        auto key = t.key;
        auto it = active_.emplace(key, runtime::step_attempts(std::move(t), env_)).first;
        act(key, it->second.begin());
      }
      while (!quick_.empty()) {
        auto j = std::move(quick_.front());
        quick_.pop_front();
        answer(j.key, j.serial, tool_job_record(j.job, {}, opts_.quick_tools_node));
      }
    } while (again_);
    pumping_ = false;
    if (run_->finished() && active_.empty() && backlog_.empty() && !ending_)
      end_run();
  }

  // -- performing the policy's actions ----------------------------------------

  void act(const std::string& key, step_action a) {
    auto it = active_.find(key);
    if (it == active_.end())
      return;
    auto& s = it->second;
    switch (a.kind) {
      case step_action::wait:
        return;
      case step_action::route:
        return route(s, std::move(a.request));
      case step_action::send_jobs: {
        // A dispatch may settle the attempt at once (no executor left), so
        // every job is made before the first goes out.
        std::vector<job_entry> jobs;
        for (const auto& j : a.jobs)
          jobs.push_back(job_entry{key, s.serial(),
                                   step_job_for(opts_.program->checked->graph(), opts_.run_id,
                                                s.current(), s.attempt(), j)});
        for (auto& j : jobs)
          dispatch(std::move(j));
        return;
      }
      case step_action::verify:
        return verify(s, std::move(a.outputs));
      case step_action::agree:
        return agree(s, std::move(a.outputs), a.agree_k);
      case step_action::run_plan:
        return run_plan(s, std::move(a));
      case step_action::finished:
        return finished(key, std::move(a));
      case step_action::failed:
        active_.erase(it);
        run_->fail(key, a.error);
        return pump();
    }
  }

  // Performs the action `f(attempts)` returns when task `key` is still active.
  template <class F>
  void with_task(const std::string& key, F f) {
    auto it = active_.find(key);
    if (it != active_.end())
      act(key, f(it->second));
  }

  void route(runtime::step_attempts& s, runtime::route_request req) {
    request(opts_.router, caf::infinite, route_atom_v, std::move(req))
      .then([this, key = s.current().key, serial = s.serial()](const runtime::route_reply& r) {
        with_task(key, [&](auto& s) { return s.on_routed(serial, r); });
      });
  }

  // Sends one job to the least loaded live executor and tracks it until its
  // answer arrives or its node is lost (then it goes elsewhere).
  void dispatch(job_entry entry) {
    if (!opts_.quick_tools_node.empty() && entry.job.kind == "tool"
        && runtime::tool_is_quick(entry.job.tool)) {
      record(runtime::ev_step_started{entry.key, entry.job.attempt, "", opts_.quick_tools_node});
      quick_.push_back(std::move(entry));
      return pump();
    }
    auto e = pool_.pick();
    if (!e) {
      auto bad = runtime::step_record::unanswered(entry.key, entry.job.model, "",
                                                  "no live executor is left to run it");
      bad.retryable = false;
      return answer(entry.key, entry.serial, std::move(bad));
    }
    const auto& node = opts_.executors[*e].node;
    record(runtime::ev_step_started{entry.key, entry.job.attempt, entry.job.model, node});
    auto job = entry.job;
    auto id = pool_.add(*e, std::move(entry));
    // Either way the answer counts only while the job is still tracked:
    // one re-sent elsewhere after its node was lost is answered from there.
    auto settle = [this, id, e = *e](const base::result<step_outcome, caf::error>& o) {
      if (auto entry = pool_.take(id, e))
        answer(entry->key, entry->serial, answer_of(o, entry->job, opts_.executors[e].node));
    };
    request(opts_.executors[*e].actor, caf::infinite, execute_atom_v, std::move(job))
      .then([settle](const step_outcome& o) { settle(o); },
            [settle](const caf::error& err) { settle(err); });
  }

  void answer(const std::string& key, uint64_t serial, runtime::step_record rec) {
    with_task(key, [&](runtime::step_attempts& s) { return s.on_answer(serial, std::move(rec)); });
  }

  // An executor went down (its node died or disconnected): nothing more is
  // sent there, and its jobs in flight go to the remaining executors without
  // counting as failed attempts.
  void executor_down(const caf::actor_addr& source) {
    for (size_t e = 0; e < opts_.executors.size(); ++e) {
      if (!pool_.alive(e) || opts_.executors[e].actor.address() != source)
        continue;
      const auto& node = opts_.executors[e].node;
      auto orphans = pool_.lose(e);
      record(runtime::ev_executor_lost{node, orphans.size()});
      for (auto& j : orphans) {
        record(runtime::ev_step_redispatched{j.key, j.job.attempt, node});
        dispatch(std::move(j));
      }
    }
  }

  void verify(runtime::step_attempts& s, std::vector<std::string> outputs) {
    const auto& t = s.current();
    auto n = outputs.size();
    verify_job job{t.wf->name, t.step->name, std::move(outputs),
                   runtime::verify_context_json(run_->context_for(t)).dump()};
    auto done = [this, key = t.key, serial = s.serial()](const std::vector<runtime::verdict>& v) {
      with_task(key, [&](runtime::step_attempts& s) { return s.on_verified(serial, v); });
    };
    request(opts_.verifier, caf::infinite, verify_atom_v, std::move(job))
      .then(done, [done, n](const caf::error& e) {
        done(std::vector<runtime::verdict>(n, runtime::verdict{false, {}, caf::to_string(e)}));
      });
  }

  void agree(runtime::step_attempts& s, std::vector<std::string> outputs, uint32_t k) {
    request(opts_.verifier, caf::infinite, agree_atom_v, std::move(outputs), k)
      .then([this, key = s.current().key, serial = s.serial()](const agree_reply& r) {
        with_task(key, [&](auto& s) { return s.on_agreement(serial, r.reached, r.group); });
      });
  }

  // Runs an accepted plan with a child planner under the plan's key prefix,
  // sharing this run's journal, router and executors.
  void run_plan(runtime::step_attempts& s, step_action a) {
    auto child = plan_run_spawn(system(), opts_, a.plan_program, a.plan_workflow, a.plan_prefix);
    auto done = [this, key = s.current().key, serial = s.serial(), child](runtime::run_outcome o) {
      child.stop();
      with_task(key, [&](runtime::step_attempts& s) { return s.on_plan_run(serial, o); });
    };
    request(child.planner, caf::infinite, run_atom_v)
      .then(
        [done](const run_summary& sum) {
          done({sum.ok, value::parse(sum.outputs_json, nullptr, false), sum.failures});
        },
        [done](const caf::error& e) { done({false, {}, {"its planner: " + caf::to_string(e)}}); });
  }

  // A result counts once its step_finished event is on disk, except a pure
  // tool's, which resuming would recompute exactly.
  void finished(const std::string& key, step_action a) {
    done_values_[key] = std::move(a.output);
    if (!a.wait_for_disk) {
      record(std::move(a.record));
      return on_journaled(key, "");
    }
    record(std::move(a.record), true, key);
  }

  void on_journaled(const std::string& key, const std::string& error) {
    if (key == end_key)
      return deliver_all();
    auto v = done_values_.find(key);
    if (v == done_values_.end())
      return;
    auto result = std::move(v->second);
    done_values_.erase(v);
    active_.erase(key);
    if (!error.empty())
      run_->fail(key, "its result could not be journaled: " + error);
    else
      run_->complete(key, std::move(result));
    pump();
  }

  void end_run() {
    ending_ = true;
    auto outcome = runtime::run_outcome_of(run_.get(), failures_);
    summary_ = run_summary{opts_.run_id, outcome.ok, outcome.ok ? outcome.outputs.dump() : "",
                           outcome.failures, opts_.journal->path().string()};
    auto ev = runtime::run_finished_event(opts_.run_id, outcome, !opts_.key_prefix.empty());
    if (opts_.cache) {
      ev.cache = runtime::cache_counters_json(opts_.cache->counters());
      if (!opts_.cache_file.empty())
        if (auto err = opts_.cache->save(opts_.cache_file, runtime::result_cache::clock::now()))
          ev.cache_error = err->message;
    }
    record(std::move(ev), true, end_key);
  }

  void deliver_all() {
    for (auto& w : waiters_)
      w.deliver(*summary_);
    waiters_.clear();
  }

  planner_options opts_;
  runtime::step_env env_;
  runtime::executor_pool<job_entry> pool_;
  std::unique_ptr<runtime::workflow_run> run_;
  std::map<std::string, runtime::step_attempts> active_;
  std::deque<runtime::task> backlog_;
  std::deque<job_entry> quick_; ///< Quick tool jobs to run here, in pump().
  bool pumping_ = false;
  bool again_ = false;
  std::map<std::string, value> done_values_; ///< Awaiting their durable write.
  std::vector<std::string> failures_;
  std::vector<caf::typed_response_promise<run_summary>> waiters_;
  std::optional<run_summary> summary_;
  bool started_ = false;
  bool ending_ = false;
};

} // namespace

planner_actor planner_actor_spawn(caf::actor_system& sys, planner_options opts) {
  return caf::actor_cast<planner_actor>(sys.spawn<planner_impl>(std::move(opts)));
}

} // namespace troupe::actors
