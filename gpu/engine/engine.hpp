#pragma once

#include "gpu/engine/backend.hpp"
#include "gpu/engine/sampler.hpp"
#include "gpu/kv/block_manager.hpp"
#include "gpu/model/llama.hpp"
#include "gpu/tokenizer/tokenizer.hpp"
#include "runtime/base/job_class.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace troupe::gpu {

using base::job_class;

/// A loaded model as the engine needs it: weights and tokenizer. Whoever
/// builds one keeps the weights' backing memory alive as long as it lives.
struct engine_model {
  llama_weights weights;
  tokenizer tok;
  std::shared_ptr<const void> keep_alive; ///< Owner of the weights' memory.
};

struct generation_request {
  std::vector<int32_t> prompt; ///< At least one token.
  sampling_params sampling;
  int max_tokens = 128;
  std::vector<std::string> stop; ///< Generation ends before any of these.
  job_class cls = job_class::interactive; ///< Interactive is admitted first, preempted last.
  int n_samples = 1;             ///< Parallel samples sharing the prompt's blocks.
  bool ignore_eos = false;       ///< Generate max_tokens regardless (benchmarks).
};

enum class finish_reason { none, length, end_of_generation, stop, cancelled, context_full };

const char* to_string(finish_reason r);

/// One streamed result: a token of sample `sample` of request `request`
/// (with the text it completes, possibly empty while a UTF-8 sequence or a
/// possible stop string is pending), or the end of that sample.
struct token_event {
  int64_t request = 0;
  int sample = 0;
  int32_t token = -1; ///< -1 on a final event that carries no token.
  std::string text;
  float logprob = 0;
  bool done = false;
  finish_reason reason = finish_reason::none;
};

struct engine_options {
  int threads = 1;
  size_t kv_bytes = 64u << 20; ///< Memory budget of the KV pool.
  int block_tokens = 16;
  int max_batch_tokens = 256;  ///< Tokens per forward step (prefill is chunked).
  bool prefix_caching = true;
  int max_context = 0;         ///< 0: the model's training context.
};

struct engine_stats {
  int64_t steps = 0;
  int64_t prefill_tokens = 0; ///< Prompt tokens computed (cache hits excluded).
  int64_t decode_tokens = 0;
  int64_t preemptions = 0;
  int64_t peak_running = 0;
  block_stats blocks;
};

/// Continuous-batching LLM decoding: requests join between steps; every
/// step runs one forward pass over all running sequences' next tokens plus
/// prompt chunks of newcomers, within a token budget. KV memory is paged
/// (block_manager + kv_storage) with prefix caching; when the pool is full
/// the youngest batch sequence (else the youngest interactive one) is
/// preempted and later recomputed, never dropped or truncated. Single-threaded API: submit, cancel and step are
/// called from one thread (a GPU actor's worker); the forward pass itself
/// uses `threads` cores.
class engine {
public:
  /// Runs on `backend`, or on the CPU backend (opts.threads cores,
  /// opts.kv_bytes of KV memory) when none is given.
  engine(std::shared_ptr<const engine_model> model, engine_options opts,
         std::unique_ptr<llama_backend> backend = nullptr);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Queues a request; events go to `sink` from inside step(). Returns its
  /// id. A request that can never fit (prompt + max_tokens beyond the
  /// context or the pool) ends at once with context_full.
  int64_t submit(generation_request r, std::function<void(const token_event&)> sink);

  /// Ends a request (all its samples) with `cancelled` at the next step.
  void cancel(int64_t request);

  /// One scheduling step and forward pass. Returns false when idle.
  bool step();

  /// Steps until every request has finished.
  void run();

  engine_stats stats() const;
  size_t waiting() const { return waiting_.size(); }
  size_t running() const { return running_.size(); }
  const engine_model& model() const { return *model_; }
  const llama_backend& backend() const { return *backend_; }

private:
  struct sequence;
  struct request_state;

  void admit(int& budget, std::vector<sequence*>& prefill);
  void reserve_decode_slots();
  void preempt(sequence& victim);
  void finish(sequence& s, finish_reason why);
  void emit_token(sequence& s, int32_t token, float logprob);
  void fork_samples(sequence& s);
  void drop_finished();

  std::shared_ptr<const engine_model> model_;
  engine_options opts_;
  std::unique_ptr<llama_backend> backend_;
  block_manager blocks_;
  std::vector<float> logits_;
  std::vector<batch_token> batch_;
  std::map<int64_t, std::shared_ptr<request_state>> requests_;
  std::deque<std::unique_ptr<sequence>> waiting_;
  std::vector<std::unique_ptr<sequence>> running_;
  int64_t next_request_ = 1;
  int64_t next_seq_ = 1;
  engine_stats stats_;
};

} // namespace troupe::gpu
