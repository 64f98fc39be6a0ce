#include "actors/executor_actor.hpp"

#include "actors/jobs.hpp"
#include "actors/records.hpp"
#include "runtime/journal.hpp"
#include "runtime/model_output.hpp"
#include "runtime/openai_client.hpp"

#include "caf/event_based_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include <functional>
#include <set>
#include <unordered_set>

namespace troupe::actors {

namespace {

bool blocking_tool(const std::string& name) {
  static const std::set<std::string> blocking = {"http_get", "shell"};
  return blocking.count(name) > 0;
}

step_outcome finish(runtime::step_record r) {
  r.finished_us = runtime::journal_now_us();
  return step_outcome{step_record_write(r)};
}

// One call to an OpenAI-compatible endpoint (blocks).
step_outcome run_endpoint_job(const step_job& job, const std::string& node) {
  auto r = record_for(job, node);
  runtime::openai_endpoint ep;
  ep.base_url = job.location;
  ep.api_key_env = job.key_env;
  if (job.timeout_ms > 0)
    ep.timeout_ms = job.timeout_ms;
  runtime::chat_request req;
  req.model = job.api_model;
  req.system = job.system;
  req.prompt = job.prompt;
  req.max_tokens = job.max_tokens;
  req.temperature = job.temperature;
  req.stop = job.stop;
  auto reply = runtime::openai_chat(ep, req);
  if (!reply) {
    r.error = "model '" + job.model + "': " + reply.error().message;
    r.retryable = reply.error().retryable;
    return finish(std::move(r));
  }
  r.prompt_tokens = reply.value().prompt_tokens;
  r.completion_tokens = reply.value().completion_tokens;
  auto v = runtime::model_output_parse(reply.value().text, job.json_output);
  if (!v) {
    r.error = "model '" + job.model + "': " + v.error();
    return finish(std::move(r));
  }
  r.ok = true;
  r.output_json = v.value().dump();
  return finish(std::move(r));
}

// Runs one blocking job on its own thread (spawned detached) and quits.
// Class-based: CAF 0.17.6 spawns function-based actors without arguments
// through a null shared_ptr that UBSan rejects.
class blocking_worker : public caf::event_based_actor {
public:
  blocking_worker(caf::actor_config& cfg, std::function<step_outcome()> work)
    : caf::event_based_actor(cfg), work_(std::move(work)) {}

  caf::behavior make_behavior() override {
    return {[this](execute_atom) {
      quit();
      return work_();
    }};
  }

private:
  std::function<step_outcome()> work_;
};

class executor_impl : public executor_actor::base {
public:
  executor_impl(caf::actor_config& cfg, executor_options opts)
    : executor_actor::base(cfg), opts_(std::move(opts)) {}

  behavior_type make_behavior() override {
    return {
      [this](execute_atom, const step_job& job) { return execute(job); },
    };
  }

private:
  caf::typed_response_promise<step_outcome> execute(const step_job& job) {
    auto promise = make_response_promise<step_outcome>();
    if (job.kind == "tool") {
      // The run id names a directory under runs_root: one plain component.
      if (job.run_id.empty() || job.run_id == "." || job.run_id == ".."
          || job.run_id.find_first_of(std::string("/\0", 2)) != std::string::npos) {
        auto r = record_for(job, opts_.node);
        r.error = "run id '" + job.run_id + "' is not a directory name";
        promise.deliver(finish(std::move(r)));
        return promise;
      }
      auto ctx = opts_.tools;
      ctx.workspace = opts_.runs_root / job.run_id / "workspace";
      // Once per run here, not once per job. A failure is left to the
      // tools that need the directory, which say so; the next job tries again.
      if (!workspaces_.count(job.run_id)) {
        std::error_code ec;
        std::filesystem::create_directories(ctx.workspace, ec);
        if (!ec) {
          if (workspaces_.size() >= 1024)
            workspaces_.clear();
          workspaces_.insert(job.run_id);
        }
      }
      if (!blocking_tool(job.tool)) {
        promise.deliver(step_outcome{step_record_write(tool_job_record(job, ctx, opts_.node))});
        return promise;
      }
      offload(promise, job, [job, ctx, node = opts_.node] {
        return step_outcome{step_record_write(tool_job_record(job, ctx, node))};
      });
      return promise;
    }
    if (job.backend == "openai") {
      offload(promise, job, [job, node = opts_.node] { return run_endpoint_job(job, node); });
      return promise;
    }
    generate_locally(job, promise);
    return promise;
  }

  // Runs `work` for `job` on a detached actor (its own thread) and delivers
  // its outcome; a worker that dies answers as a call that may be retried.
  template <class Work>
  void offload(caf::typed_response_promise<step_outcome> promise, const step_job& job,
               Work work) {
    auto worker = spawn<blocking_worker, caf::detached>(std::function<step_outcome()>(work));
    request(worker, caf::infinite, execute_atom_v)
      .then([promise](step_outcome& o) mutable { promise.deliver(std::move(o)); },
            [promise, key = job.key, model = job.model, node = opts_.node](caf::error& e) mutable {
              promise.deliver(finish(runtime::step_record::unanswered(
                key, model, node, "executor worker failed: " + caf::to_string(e))));
            });
  }

  void generate_locally(const step_job& job, caf::typed_response_promise<step_outcome> promise) {
    auto record = record_for(job, opts_.node);
    auto gpu = opts_.models->get(job.model, job.location);
    if (!gpu) {
      record.error = gpu.error();
      promise.deliver(finish(std::move(record)));
      return;
    }
    generation_job g;
    g.prompt = job.prompt;
    g.system = job.system;
    g.chat = true;
    g.max_tokens = job.max_tokens;
    g.temperature = job.temperature;
    g.seed = job.seed;
    g.stop = job.stop;
    g.cls = job.cls;
    auto timeout = job.timeout_ms > 0 ? caf::duration(std::chrono::milliseconds(job.timeout_ms))
                                      : caf::duration(caf::infinite);
    request(gpu.value(), timeout, generate_atom_v, g)
      .then(
        [promise, record, json = job.json_output](generation_result& res) mutable {
          record.prompt_tokens = res.prompt_tokens;
          record.completion_tokens = res.completion_tokens;
          if (auto t = token_list_read(res.tokens))
            record.tokens = std::move(t).value();
          if (!res.ok && res.finish == "refused") {
            record.error = "overloaded: " + res.error; // Admission control said no.
            record.retryable = true;
          } else if (!res.ok) {
            record.error = "model '" + record.model + "': " + res.error;
          } else if (auto v = runtime::model_output_parse(res.text, json); !v) {
            record.error = "model '" + record.model + "': " + v.error();
          } else {
            record.ok = true;
            record.output_json = v.value().dump();
          }
          promise.deliver(finish(std::move(record)));
        },
        [promise, record](caf::error& e) mutable {
          record.error = "model '" + record.model + "': "
                         + (e == caf::sec::request_timeout ? std::string("timed out")
                                                           : caf::to_string(e));
          record.retryable = true;
          promise.deliver(finish(std::move(record)));
        });
  }

  executor_options opts_;
  std::unordered_set<std::string> workspaces_; ///< Run ids whose workspace exists.
};

} // namespace

executor_actor executor_actor_spawn(caf::actor_system& sys, executor_options opts) {
  return sys.spawn<executor_impl>(std::move(opts));
}

} // namespace troupe::actors
