#include "actors/gpu_actor.hpp"

#include "actors/records.hpp"
#include "gpu/tokenizer/chat_template.hpp"

#include "caf/typed_event_based_actor.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

namespace troupe::actors {

namespace {

// Internal: the engine thread reports a finished request to the actor.
using gpu_actor_impl_type =
  gpu_actor::extend<caf::reacts_to<generate_atom, std::uint64_t, generation_result>>;

using clock_type = std::chrono::steady_clock;

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// What the engine thread accumulates for one request.
struct pending {
  std::mutex mu;
  std::string text;
  runtime::token_list tokens;
  clock_type::time_point submitted = clock_type::now();
  clock_type::time_point first_token;
  bool started = false;
};

class gpu_actor_impl : public gpu_actor_impl_type::base {
public:
  gpu_actor_impl(caf::actor_config& cfg, std::unique_ptr<gpu::engine_worker> worker,
                 gpu_actor_options opts)
    : gpu_actor_impl_type::base(cfg), worker_(std::move(worker)), opts_(std::move(opts)) {
  }

  // Stops decoding: every request left ends as cancelled. The engine thread
  // holds handles to this actor in its callbacks, so the last one may drop
  // on that thread; it cannot join itself, so then a helper thread does.
  void on_exit() override {
    if (!worker_)
      return;
    if (worker_->on_worker_thread())
      std::thread([w = std::move(worker_)]() mutable { w.reset(); }).detach();
    else
      worker_.reset();
  }

  behavior_type make_behavior() override {
    return {
      [this](generate_atom, const generation_job& job) {
        return start(job, caf::actor());
      },
      [this](generate_atom, const generation_job& job, const caf::actor& listener) {
        return start(job, listener);
      },
      [this](load_atom) { return current_load(); },
      [this](generate_atom, std::uint64_t id, generation_result& r) {
        auto it = promises_.find(id);
        if (it == promises_.end())
          return;
        it->second.deliver(std::move(r));
        promises_.erase(it);
        publish_load();
      },
    };
  }

private:
  caf::typed_response_promise<generation_result> start(const generation_job& job,
                                                       const caf::actor& listener) {
    auto promise = make_response_promise<generation_result>();
    const auto& m = worker_->model();
    gpu::generation_request req;
    gpu::prompt_parts parts;
    parts.system = job.system;
    parts.user = job.prompt;
    parts.layout = job.chat ? gpu::prompt_layout::chat_if_template : gpu::prompt_layout::raw;
    auto prompt = gpu::prompt_render(m.tok.vocabulary().chat_template, parts);
    req.prompt = m.tok.encode(prompt.text, true, prompt.parse_special);
    req.max_tokens = job.max_tokens;
    req.stop = job.stop;
    req.cls = job.cls;
    req.sampling.temperature = float(job.temperature);
    req.sampling.top_p = float(job.top_p);
    req.sampling.seed = job.seed;
    const auto prompt_tokens = int64_t(req.prompt.size());
    std::uint64_t id = next_id_++;
    auto state = std::make_shared<pending>();
    auto self = caf::actor_cast<caf::actor>(this);
    auto sink = [state, self, listener, id, prompt_tokens](const gpu::token_event& ev) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (ev.token >= 0) {
        if (!state->started) {
          state->started = true;
          state->first_token = clock_type::now();
        }
        state->tokens.ids.push_back(ev.token);
        state->tokens.logprobs.push_back(ev.logprob);
      }
      state->text += ev.text;
      if (listener && (!ev.text.empty() || ev.done))
        caf::anon_send(listener, token_chunk{id, ev.text, ev.done});
      if (!ev.done)
        return;
      generation_result r;
      r.finish = gpu::to_string(ev.reason);
      r.ok = ev.reason != gpu::finish_reason::cancelled
             && ev.reason != gpu::finish_reason::context_full;
      if (r.ok)
        r.text = std::move(state->text);
      else
        r.error = ev.reason == gpu::finish_reason::context_full
                    ? "the prompt (" + std::to_string(prompt_tokens)
                        + " tokens) and max_tokens do not fit the model's context or KV pool"
                    : "generation cancelled";
      r.prompt_tokens = prompt_tokens;
      r.completion_tokens = int64_t(state->tokens.ids.size());
      auto now = clock_type::now();
      auto began = state->started ? state->first_token : now;
      r.queue_ms = ms_between(state->submitted, began);
      r.decode_ms = ms_between(began, now);
      r.tokens = token_list_write(state->tokens);
      caf::anon_send(caf::actor_cast<gpu_actor_impl_type>(self), generate_atom_v, id,
                     std::move(r));
    };
    if (worker_->submit(std::move(req), std::move(sink)) == 0) {
      generation_result r;
      r.error = "model '" + opts_.model_name + "' on node '" + opts_.node
                + "' is overloaded: its queue is full (admission control)";
      r.finish = "refused";
      promise.deliver(std::move(r));
      return promise;
    }
    promises_.emplace(id, promise);
    publish_load();
    return promise;
  }

  void publish_load() {
    if (opts_.load_listeners.empty())
      return;
    auto l = current_load();
    for (const auto& r : opts_.load_listeners)
      caf::anon_send(r, l);
  }

  model_load current_load() const {
    return model_load{opts_.node, opts_.model_name, worker_->load()};
  }

  std::unique_ptr<gpu::engine_worker> worker_;
  gpu_actor_options opts_;
  std::map<std::uint64_t, caf::typed_response_promise<generation_result>> promises_;
  std::uint64_t next_id_ = 1;
};

} // namespace

base::result<gpu_actor, std::string>
gpu_actor_spawn(caf::actor_system& sys, std::shared_ptr<const gpu::engine_model> model,
                gpu_actor_options opts) {
  auto choice = gpu::select_device(*model, opts.engine, opts.device);
  if (!choice)
    return choice.error().message;
  auto backend = std::move(choice).value().backend;
  auto worker = std::make_unique<gpu::engine_worker>(std::move(model), opts.engine, opts.worker,
                                                     std::move(backend));
  auto impl = sys.spawn<gpu_actor_impl>(std::move(worker), std::move(opts));
  return caf::actor_cast<gpu_actor>(impl);
}

} // namespace troupe::actors
