#include "gpu/engine/engine.hpp"

#include "runtime/base/utf8.hpp"

#include <algorithm>

namespace troupe::gpu {

const char* to_string(finish_reason r) {
  switch (r) {
    case finish_reason::none: return "none";
    case finish_reason::length: return "length";
    case finish_reason::end_of_generation: return "end_of_generation";
    case finish_reason::stop: return "stop";
    case finish_reason::cancelled: return "cancelled";
    case finish_reason::context_full: return "context_full";
  }
  return "?";
}

struct engine::request_state {
  int64_t id = 0;
  generation_request req;
  std::function<void(const token_event&)> sink;
  bool cancelled = false;
  int64_t arrival = 0;
};

/// One sample of a request. `tokens` is its whole history (prompt and
/// generated); positions [0, computed) have keys and values in the pool.
struct engine::sequence {
  std::shared_ptr<request_state> req;
  int sample = 0;
  int64_t seq = 0; ///< Block manager id while it holds blocks, else 0.
  std::vector<int32_t> tokens;
  int32_t computed = 0;
  int generated = 0;
  bool forked = false; ///< Siblings created (n_samples > 1).
  sampler samp;
  std::string pending; ///< Generated text not yet emitted.
  bool finished = false;

  sequence(std::shared_ptr<request_state> r, int s, const sampling_params& p)
    : req(std::move(r)), sample(s), samp(p) {}
};

engine::engine(std::shared_ptr<const engine_model> model, engine_options opts,
               std::unique_ptr<llama_backend> backend)
  : model_(std::move(model)), opts_(opts),
    backend_(backend ? std::move(backend)
                     : make_cpu_backend(model_->weights, opts.threads, opts.kv_bytes,
                                        opts.block_tokens)),
    blocks_(backend_->n_blocks(), opts.block_tokens, opts.prefix_caching) {
  if (opts_.max_context <= 0)
    opts_.max_context = model_->weights.hp.n_ctx_train > 0 ? model_->weights.hp.n_ctx_train : 2048;
}

engine::~engine() = default;

int64_t engine::submit(generation_request r, std::function<void(const token_event&)> sink) {
  auto st = std::make_shared<request_state>();
  st->id = next_request_++;
  st->arrival = st->id;
  st->req = std::move(r);
  st->sink = std::move(sink);
  requests_[st->id] = st;
  auto s = std::make_unique<sequence>(st, 0, st->req.sampling);
  s->tokens = st->req.prompt;
  bool fits = !s->tokens.empty() && int64_t(s->tokens.size()) < opts_.max_context
              && blocks_.blocks_needed(int64_t(s->tokens.size()) + 1) <= blocks_.stats().total;
  if (!fits) {
    for (int i = 0; i < std::max(1, st->req.n_samples); ++i)
      st->sink({st->id, i, -1, "", 0, true, finish_reason::context_full});
    requests_.erase(st->id);
    return st->id;
  }
  waiting_.push_back(std::move(s));
  return st->id;
}

void engine::cancel(int64_t request) {
  auto it = requests_.find(request);
  if (it != requests_.end())
    it->second->cancelled = true;
}

void engine::finish(sequence& s, finish_reason why) {
  if (s.finished)
    return;
  s.finished = true;
  if (s.seq != 0) {
    blocks_.seq_free(s.seq);
    s.seq = 0;
  }
  std::string rest = why == finish_reason::stop || why == finish_reason::cancelled
                       ? std::string() : s.pending;
  s.pending.clear();
  s.req->sink({s.req->id, s.sample, -1, rest, 0, true, why});
}

void engine::emit_token(sequence& s, int32_t token, float logprob) {
  const auto& tok = model_->tok;
  s.tokens.push_back(token);
  ++s.generated;
  ++stats_.decode_tokens;
  if (!s.req->req.ignore_eos && tok.is_end_of_generation(token)) {
    s.req->sink({s.req->id, s.sample, token, "", logprob, false, finish_reason::none});
    finish(s, finish_reason::end_of_generation);
    return;
  }
  s.pending += tok.piece(token);
  const auto& stops = s.req->req.stop;
  for (const auto& stop : stops) {
    size_t at = stop.empty() ? std::string::npos : s.pending.find(stop);
    if (at != std::string::npos) {
      s.req->sink({s.req->id, s.sample, token, s.pending.substr(0, at), logprob, false,
                   finish_reason::none});
      s.pending.clear();
      finish(s, finish_reason::stop);
      return;
    }
  }
  // Hold back a suffix that may still grow into a stop string, and any
  // incomplete UTF-8 sequence.
  size_t keep = 0;
  for (const auto& stop : stops)
    for (size_t n = std::min(stop.size() - 1, s.pending.size()); n > keep; --n)
      if (s.pending.compare(s.pending.size() - n, n, stop, 0, n) == 0) {
        keep = n;
        break;
      }
  size_t ready = base::utf8_complete_prefix(std::string_view(s.pending).substr(0, s.pending.size() - keep));
  s.req->sink({s.req->id, s.sample, token, s.pending.substr(0, ready), logprob, false,
               finish_reason::none});
  s.pending.erase(0, ready);
  if (s.generated >= s.req->req.max_tokens)
    finish(s, finish_reason::length);
  else if (int64_t(s.tokens.size()) >= opts_.max_context)
    finish(s, finish_reason::context_full);
}

void engine::preempt(sequence& victim) {
  blocks_.seq_free(victim.seq);
  victim.seq = 0;
  victim.computed = 0;
  ++stats_.preemptions;
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const auto& p) { return p.get() == &victim; });
  waiting_.push_front(std::move(*it));
  running_.erase(it);
}

// Every decoding sequence needs a slot for its newest token; when the pool
// is full, the youngest sequence of the class served last gives its blocks up.
void engine::reserve_decode_slots() {
  for (size_t i = 0; i < running_.size();) {
    auto& s = *running_[i];
    if (s.finished || s.seq == 0
        || blocks_.seq_tokens(s.seq).size() >= s.tokens.size()) {
      ++i;
      continue;
    }
    block_copy copy;
    if (blocks_.seq_append(s.seq, s.tokens.back(), copy)) {
      if (copy.from >= 0)
        backend_->copy_block(copy.from, copy.to);
      ++i;
      continue;
    }
    if (running_.size() == 1) {
      finish(s, finish_reason::context_full); // Alone and still too big: end it.
      ++i;
      continue;
    }
    auto victim = std::min_element(running_.begin(), running_.end(), [](const auto& a, const auto& b) {
      if (a->req->req.cls != b->req->req.cls) // Batch before interactive.
        return base::job_class_before(b->req->req.cls, a->req->req.cls);
      return a->req->arrival > b->req->arrival;
    });
    bool self = victim->get() == &s;
    preempt(**victim);
    if (self)
      continue; // running_[i] is now the next sequence.
    i = 0;      // Indices moved; re-scan (already reserved ones skip quickly).
  }
}

void engine::admit(int& budget, std::vector<sequence*>& prefill) {
  std::stable_sort(waiting_.begin(), waiting_.end(), [](const auto& a, const auto& b) {
    if (a->req->req.cls != b->req->req.cls)
      return base::job_class_before(a->req->req.cls, b->req->req.cls);
    return a->req->arrival < b->req->arrival;
  });
  while (!waiting_.empty() && budget > 0) {
    auto& s = *waiting_.front();
    int64_t id = next_seq_++;
    auto cached = blocks_.seq_start(id, s.tokens);
    if (!cached)
      break; // The pool is full: wait for sequences to finish.
    s.seq = id;
    s.computed = *cached;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    prefill.push_back(running_.back().get());
    budget -= 1;
  }
}

void engine::fork_samples(sequence& s) {
  s.forked = true;
  for (int i = 1; i < s.req->req.n_samples; ++i) {
    auto p = s.req->req.sampling;
    p.seed += static_cast<uint64_t>(i);
    auto child = std::make_unique<sequence>(s.req, i, p);
    child->tokens = s.tokens;
    child->computed = s.computed;
    child->forked = true;
    child->seq = next_seq_++;
    blocks_.seq_fork(s.seq, child->seq);
    running_.push_back(std::move(child));
  }
}

void engine::drop_finished() {
  running_.erase(std::remove_if(running_.begin(), running_.end(),
                                [](const auto& s) { return s->finished; }),
                 running_.end());
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                [](const auto& s) { return s->finished; }),
                 waiting_.end());
  for (auto it = requests_.begin(); it != requests_.end();) {
    bool live = false;
    for (const auto& s : running_) live = live || s->req == it->second;
    for (const auto& s : waiting_) live = live || s->req == it->second;
    it = live ? std::next(it) : requests_.erase(it);
  }
}

bool engine::step() {
  for (auto& s : running_)
    if (s->req->cancelled) finish(*s, finish_reason::cancelled);
  for (auto& s : waiting_)
    if (s->req->cancelled) finish(*s, finish_reason::cancelled);
  drop_finished();
  if (running_.empty() && waiting_.empty())
    return false;
  reserve_decode_slots();
  int budget = opts_.max_batch_tokens;
  std::vector<sequence*> order;
  for (auto& s : running_)
    order.push_back(s.get());
  budget -= static_cast<int>(order.size());
  admit(budget, order);
  if (order.empty() && !waiting_.empty()) {
    // Nothing runs and the first waiting sequence does not fit even in an
    // empty pool: it never will.
    finish(*waiting_.front(), finish_reason::context_full);
    drop_finished();
    return true;
  }
  // Chunks: [computed, end) of each sequence, decode steps first.
  batch_.clear();
  std::vector<std::pair<sequence*, int32_t>> chunks; // sequence, chunk end
  int remaining = opts_.max_batch_tokens;
  const auto& blocks_of = [&](sequence* s) { return &blocks_.seq_blocks(s->seq); };
  for (auto* s : order) {
    int32_t want = int32_t(s->tokens.size()) - s->computed;
    int32_t take = std::min<int32_t>(want, remaining);
    if (take <= 0)
      continue;
    remaining -= take;
    int32_t end = s->computed + take;
    for (int32_t p = s->computed; p < end; ++p)
      batch_.push_back({s->tokens[size_t(p)], p, blocks_of(s), p == int32_t(s->tokens.size()) - 1});
    chunks.emplace_back(s, end);
  }
  if (batch_.empty())
    return !waiting_.empty() || !running_.empty();
  backend_->forward(batch_, logits_);
  ++stats_.steps;
  stats_.peak_running = std::max<int64_t>(stats_.peak_running, int64_t(running_.size()));
  const int n_vocab = model_->weights.hp.n_vocab;
  size_t row = 0;
  std::vector<float> scratch;
  for (auto& [s, end] : chunks) {
    bool prefill = end - s->computed > 1 || s->generated == 0;
    if (prefill)
      stats_.prefill_tokens += end - s->computed;
    s->computed = end;
    blocks_.seq_computed(s->seq, end);
    if (end != int32_t(s->tokens.size()))
      continue;
    float* lg = logits_.data() + row++ * size_t(n_vocab);
    if (!s->forked && s->req->req.n_samples > 1) {
      size_t first_child = running_.size();
      fork_samples(*s);
      for (size_t c = first_child; c < running_.size(); ++c) {
        scratch.assign(lg, lg + n_vocab);
        float lp = 0;
        auto& child = *running_[c];
        int32_t t = child.samp.sample(scratch.data(), n_vocab, child.tokens, lp);
        emit_token(child, t, lp);
      }
    }
    float lp = 0;
    int32_t t = s->samp.sample(lg, n_vocab, s->tokens, lp);
    emit_token(*s, t, lp);
  }
  drop_finished();
  return true;
}

void engine::run() {
  while (step()) {
  }
}

engine_stats engine::stats() const {
  auto st = stats_;
  st.blocks = blocks_.stats();
  return st;
}

} // namespace troupe::gpu
