#include "gpu/cuda/cuda_batch.hpp"

#include <algorithm>
#include <string>

namespace troupe::gpu::cuda {

namespace {

status bad_token(size_t i, const std::string& why) {
  return status::failure(status_code::invalid_argument,
                         "forward: batch token " + std::to_string(i) + ": " + why);
}

// One distinct block table of the batch: how many entries the batch needs.
struct table_use {
  const std::vector<int32_t>* blocks;
  size_t need;
  int32_t at = 0;
};

} // namespace

status stage_batch(const std::vector<batch_token>& batch, int n_vocab, int block_tokens,
                   int64_t n_blocks, staged_batch& out) {
  const size_t n = batch.size();
  std::vector<table_use> tables;
  std::vector<size_t> table_of(n);
  out.n_tokens = static_cast<int>(n);
  out.n_want = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto& t = batch[i];
    if (t.token < 0 || t.token >= n_vocab)
      return bad_token(i, "token id " + std::to_string(t.token) + " is outside the vocabulary");
    if (t.pos < 0)
      return bad_token(i, "negative position");
    if (t.blocks == nullptr)
      return bad_token(i, "no block table");
    const size_t need = static_cast<size_t>(t.pos / block_tokens) + 1;
    if (t.blocks->size() < need)
      return bad_token(i, "the block table does not cover position " + std::to_string(t.pos));
    auto it = std::find_if(tables.begin(), tables.end(),
                           [&](const table_use& u) { return u.blocks == t.blocks; });
    if (it == tables.end())
      it = tables.insert(tables.end(), table_use{t.blocks, need});
    it->need = std::max(it->need, need);
    table_of[i] = static_cast<size_t>(it - tables.begin());
    out.n_want += t.want_logits ? 1 : 0;
  }
  auto& v = out.ints;
  v.assign(out.tables_at(), 0);
  for (auto& u : tables) {
    u.at = static_cast<int32_t>(v.size() - out.tables_at());
    for (size_t b = 0; b < u.need; ++b) {
      const int32_t id = (*u.blocks)[b];
      if (id < 0 || id >= n_blocks)
        return status::failure(status_code::invalid_argument,
                               "forward: block id " + std::to_string(id)
                                 + " is outside the pool of " + std::to_string(n_blocks));
      v.push_back(id);
    }
  }
  size_t want = out.want_at();
  for (size_t i = 0; i < n; ++i) {
    v[out.tokens_at() + i] = batch[i].token;
    v[out.pos_at() + i] = batch[i].pos;
    v[out.table_at_at() + i] = tables[table_of[i]].at;
    if (batch[i].want_logits)
      v[want++] = static_cast<int32_t>(i);
  }
  return {};
}

} // namespace troupe::gpu::cuda
