#pragma once

#include <cstdint>
#include <vector>

#include "gpu/model/llama.hpp"
#include "gpu/status.hpp"

// A forward batch's integers packed on the host for one upload to the
// device: what the embedding gather, rope, the KV store and paged attention
// read (see attention.cuh's paged_batch). Plain C++; internal to the CUDA
// backend and tested on the host.

namespace troupe::gpu::cuda {

/// Invariants: ints holds, in order,
///   tokens [n_tokens] | pos [n_tokens] | table_at [n_tokens] |
///   want [n_want] | tables [...]
/// where want lists, in batch order, the indices of the tokens whose logits
/// are wanted, and tables[table_at[t] + i] == (*batch[t].blocks)[i] for
/// i <= pos[t] / block_tokens. Tokens sharing one block table (the same
/// vector) share its copy, which covers the largest position among them.
struct staged_batch {
  int n_tokens = 0;
  int n_want = 0;
  std::vector<int32_t> ints;

  size_t tokens_at() const { return 0; }
  size_t pos_at() const { return static_cast<size_t>(n_tokens); }
  size_t table_at_at() const { return 2 * static_cast<size_t>(n_tokens); }
  size_t want_at() const { return 3 * static_cast<size_t>(n_tokens); }
  size_t tables_at() const { return want_at() + static_cast<size_t>(n_want); }
};

/// Packs `batch` into `out` (its buffers reused). Returns invalid_argument,
/// naming the batch index, when a token id is outside [0, n_vocab), a
/// position is negative, a block table is missing or does not cover the
/// position, or a block id it needs is outside [0, n_blocks); `out` is
/// then unspecified. Precondition: block_tokens > 0.
status stage_batch(const std::vector<batch_token>& batch, int n_vocab, int block_tokens,
                   int64_t n_blocks, staged_batch& out);

} // namespace troupe::gpu::cuda
