#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe::gpu {

/// Counters of a block manager, for load reports and benchmarks.
struct block_stats {
  int64_t total = 0;
  int64_t used = 0;   ///< Referenced by at least one sequence.
  int64_t cached = 0; ///< Unreferenced but kept for prefix reuse (evictable).
  int64_t free = 0;   ///< Holding nothing.
  int64_t prefix_lookup_tokens = 0; ///< Prompt tokens offered to the cache.
  int64_t prefix_hit_tokens = 0;    ///< Of those, found already computed.
  int64_t allocated_slots = 0;      ///< Slots in blocks held by sequences.
  int64_t filled_slots = 0;         ///< Of those, holding a position.

  double prefix_hit_rate() const {
    return prefix_lookup_tokens ? double(prefix_hit_tokens) / double(prefix_lookup_tokens) : 0;
  }
  /// Allocated but unused slots as a share of allocated slots.
  double waste() const {
    return allocated_slots ? double(allocated_slots - filled_slots) / double(allocated_slots) : 0;
  }
};

/// A block copy the caller must perform on the KV storage before writing
/// (copy-on-write of a shared, partly filled block).
struct block_copy {
  int32_t from = -1;
  int32_t to = -1;
};

/// Bookkeeping of a paged KV pool of `n_blocks` blocks of `block_tokens`
/// positions: per-sequence block tables, reference counts, prefix caching
/// and eviction. Stores no keys or values itself (see kv_storage).
///
/// Prefix caching: a full block is identified by a hash chain, the hash of
/// its parent block's hash and its own tokens; cached blocks are shared
/// between sequences whose token prefixes agree and are verified token by
/// token, so a hash collision cannot alias two prefixes. Unreferenced cached
/// blocks stay until evicted, least recently used first.
///
/// Invariants: every block is in exactly one state: free, cached
/// (refcount 0, in the hash map) or used (refcount > 0); a used full block
/// is never written again; a shared partly filled block is copied before a
/// write. Not thread-safe: owned by one engine.
class block_manager {
public:
  using seq_id = int64_t;

  block_manager(int64_t n_blocks, int block_tokens, bool prefix_caching = true);

  /// Starts sequence `id` with `prompt` (at least one token) and reserves
  /// blocks for it, reusing cached blocks for its longest cached prefix
  /// (at most prompt.size() - 1 tokens, so the last one is always computed).
  /// Returns how many leading tokens are already in the cache, or nullopt
  /// (and changes nothing) when the pool cannot hold the prompt.
  std::optional<int32_t> seq_start(seq_id id, const std::vector<int32_t>& prompt);

  /// Records that `token` will be written at the sequence's next position
  /// (its length before the call) and makes sure a writable slot exists:
  /// may allocate a block, or copy a shared last block (returned in
  /// `copy`). Returns false (and changes nothing) when the pool is full.
  bool seq_append(seq_id id, int32_t token, block_copy& copy);

  /// Marks positions [0, n) of the sequence computed: full blocks among
  /// them join the prefix cache.
  void seq_computed(seq_id id, int32_t n);

  /// `child` shares every block of `parent` (which must exist).
  void seq_fork(seq_id parent, seq_id child);

  /// Ends the sequence; its computed full blocks stay cached.
  void seq_free(seq_id id);

  bool has(seq_id id) const { return seqs_.count(id) != 0; }
  const std::vector<int32_t>& seq_blocks(seq_id id) const { return seqs_.at(id).blocks; }
  const std::vector<int32_t>& seq_tokens(seq_id id) const { return seqs_.at(id).tokens; }

  /// Blocks a new prompt of `n_tokens` would need, ignoring the cache.
  int64_t blocks_needed(int64_t n_tokens) const { return (n_tokens + block_tokens_ - 1) / block_tokens_; }
  /// Blocks that can be had now (free plus evictable).
  int64_t available() const { return static_cast<int64_t>(free_.size() + lru_.size()); }

  block_stats stats() const;
  int block_tokens() const { return block_tokens_; }

  /// Checks every invariant; returns a description of the first violation,
  /// or "" (for tests).
  std::string validate() const;

private:
  struct block {
    int32_t refs = 0;
    uint64_t hash = 0;
    bool hashed = false; ///< Full, computed, and in the hash map.
    std::vector<int32_t> tokens; ///< The tokens it holds, when hashed.
    std::list<int32_t>::iterator lru_pos;
    bool in_lru = false;
  };
  struct sequence {
    std::vector<int32_t> tokens;
    std::vector<int32_t> blocks;
    int32_t computed = 0;
  };

  std::optional<int32_t> allocate();
  void release(int32_t b);
  uint64_t chain_hash(uint64_t parent, const int32_t* tokens) const;

  int block_tokens_;
  bool prefix_caching_;
  std::vector<block> blocks_;
  std::vector<int32_t> free_;
  std::list<int32_t> lru_; ///< Cached, unreferenced blocks; front is oldest.
  std::unordered_multimap<uint64_t, int32_t> cache_;
  std::unordered_map<seq_id, sequence> seqs_;
  int64_t lookup_tokens_ = 0;
  int64_t hit_tokens_ = 0;
};

} // namespace troupe::gpu
