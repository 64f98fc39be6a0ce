#include "gpu/kv/block_manager.hpp"

#include <xxhash.h>

#include <algorithm>
#include <string>

namespace troupe::gpu {

block_manager::block_manager(int64_t n_blocks, int block_tokens, bool prefix_caching)
  : block_tokens_(block_tokens), prefix_caching_(prefix_caching),
    blocks_(static_cast<size_t>(n_blocks)) {
  free_.reserve(blocks_.size());
  for (int64_t b = n_blocks - 1; b >= 0; --b)
    free_.push_back(static_cast<int32_t>(b));
}

uint64_t block_manager::chain_hash(uint64_t parent, const int32_t* tokens) const {
  return XXH3_64bits_withSeed(tokens, sizeof(int32_t) * static_cast<size_t>(block_tokens_),
                              parent);
}

std::optional<int32_t> block_manager::allocate() {
  int32_t b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    b = lru_.front(); // Evict the least recently used cached block.
    lru_.pop_front();
    auto& blk = blocks_[size_t(b)];
    blk.in_lru = false;
    auto range = cache_.equal_range(blk.hash);
    for (auto it = range.first; it != range.second; ++it)
      if (it->second == b) {
        cache_.erase(it);
        break;
      }
    blk.hashed = false;
    blk.tokens.clear();
  } else {
    return std::nullopt;
  }
  blocks_[size_t(b)].refs = 1;
  return b;
}

void block_manager::release(int32_t b) {
  auto& blk = blocks_[size_t(b)];
  if (--blk.refs > 0)
    return;
  if (blk.hashed) {
    blk.lru_pos = lru_.insert(lru_.end(), b);
    blk.in_lru = true;
  } else {
    free_.push_back(b);
  }
}

std::optional<int32_t> block_manager::seq_start(seq_id id, const std::vector<int32_t>& prompt) {
  const int64_t n = static_cast<int64_t>(prompt.size());
  // Longest run of cached full blocks, verified token by token.
  std::vector<int32_t> hits;
  if (prefix_caching_) {
    uint64_t parent = 0;
    for (int64_t start = 0; start + block_tokens_ <= n - 1; start += block_tokens_) {
      uint64_t h = chain_hash(parent, prompt.data() + start);
      int32_t found = -1;
      auto range = cache_.equal_range(h);
      for (auto it = range.first; it != range.second && found < 0; ++it) {
        const auto& t = blocks_[size_t(it->second)].tokens;
        if (std::equal(t.begin(), t.end(), prompt.begin() + start))
          found = it->second;
      }
      if (found < 0)
        break;
      hits.push_back(found);
      parent = h;
    }
  }
  int64_t fresh = blocks_needed(n) - static_cast<int64_t>(hits.size());
  int64_t evictable_hits = 0;
  for (int32_t b : hits)
    evictable_hits += blocks_[size_t(b)].refs == 0 ? 1 : 0;
  if (fresh > available() - evictable_hits)
    return std::nullopt;
  sequence s;
  s.tokens = prompt;
  for (int32_t b : hits) {
    auto& blk = blocks_[size_t(b)];
    if (blk.refs++ == 0 && blk.in_lru) {
      lru_.erase(blk.lru_pos);
      blk.in_lru = false;
    }
    s.blocks.push_back(b);
  }
  for (int64_t i = 0; i < fresh; ++i)
    s.blocks.push_back(*allocate());
  int32_t cached = static_cast<int32_t>(hits.size()) * block_tokens_;
  s.computed = cached;
  lookup_tokens_ += n;
  hit_tokens_ += cached;
  seqs_[id] = std::move(s);
  return cached;
}

bool block_manager::seq_append(seq_id id, int32_t token, block_copy& copy) {
  copy = {};
  auto& s = seqs_.at(id);
  const int64_t pos = static_cast<int64_t>(s.tokens.size());
  const size_t block_index = static_cast<size_t>(pos / block_tokens_);
  if (block_index == s.blocks.size()) {
    auto b = allocate();
    if (!b)
      return false;
    s.blocks.push_back(*b);
  } else if (blocks_[size_t(s.blocks[block_index])].refs > 1) {
    // Shared, partly filled (a fork): copy before writing.
    auto b = allocate();
    if (!b)
      return false;
    copy = {s.blocks[block_index], *b};
    release(s.blocks[block_index]);
    s.blocks[block_index] = *b;
  }
  s.tokens.push_back(token);
  return true;
}

void block_manager::seq_computed(seq_id id, int32_t n) {
  auto& s = seqs_.at(id);
  if (!prefix_caching_ || n <= s.computed) {
    s.computed = std::max(s.computed, n);
    return;
  }
  uint64_t parent = 0;
  for (int32_t start = 0; start + block_tokens_ <= n; start += block_tokens_) {
    auto& blk = blocks_[size_t(s.blocks[size_t(start / block_tokens_)])];
    uint64_t h = chain_hash(parent, s.tokens.data() + start);
    if (start + block_tokens_ > s.computed && !blk.hashed) {
      blk.hash = h;
      blk.hashed = true;
      blk.tokens.assign(s.tokens.begin() + start, s.tokens.begin() + start + block_tokens_);
      cache_.emplace(h, s.blocks[size_t(start / block_tokens_)]);
    }
    parent = h;
  }
  s.computed = n;
}

void block_manager::seq_fork(seq_id parent, seq_id child) {
  sequence s = seqs_.at(parent);
  for (int32_t b : s.blocks)
    ++blocks_[size_t(b)].refs;
  seqs_[child] = std::move(s);
}

void block_manager::seq_free(seq_id id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end())
    return;
  // Release the tail first so the LRU order keeps prefixes longest.
  for (auto b = it->second.blocks.rbegin(); b != it->second.blocks.rend(); ++b)
    release(*b);
  seqs_.erase(it);
}

block_stats block_manager::stats() const {
  block_stats st;
  st.total = static_cast<int64_t>(blocks_.size());
  st.free = static_cast<int64_t>(free_.size());
  st.cached = static_cast<int64_t>(lru_.size());
  st.used = st.total - st.free - st.cached;
  st.prefix_lookup_tokens = lookup_tokens_;
  st.prefix_hit_tokens = hit_tokens_;
  std::vector<bool> seen(blocks_.size());
  for (const auto& [id, s] : seqs_) {
    for (int32_t b : s.blocks)
      if (!seen[size_t(b)]) {
        seen[size_t(b)] = true;
        st.allocated_slots += block_tokens_;
      }
  }
  // A shared block's slots are filled by the longest sequence using it.
  std::vector<int32_t> fill(blocks_.size());
  for (const auto& [id, s] : seqs_)
    for (size_t i = 0; i < s.blocks.size(); ++i) {
      int64_t in_block = std::min<int64_t>(block_tokens_,
                                           int64_t(s.tokens.size()) - int64_t(i) * block_tokens_);
      fill[size_t(s.blocks[i])] = std::max<int32_t>(fill[size_t(s.blocks[i])],
                                                    static_cast<int32_t>(std::max<int64_t>(0, in_block)));
    }
  for (int32_t f : fill)
    st.filled_slots += f;
  return st;
}

std::string block_manager::validate() const {
  std::vector<int32_t> refs(blocks_.size());
  for (const auto& [id, s] : seqs_) {
    if (static_cast<int64_t>(s.blocks.size()) < blocks_needed(int64_t(s.tokens.size())))
      return "sequence " + std::to_string(id) + " has too few blocks";
    for (int32_t b : s.blocks)
      ++refs[size_t(b)];
  }
  std::vector<int> state(blocks_.size()); // 1 free, 2 cached
  for (int32_t b : free_) {
    if (state[size_t(b)]) return "block " + std::to_string(b) + " freed twice";
    state[size_t(b)] = 1;
  }
  for (int32_t b : lru_) {
    if (state[size_t(b)]) return "block " + std::to_string(b) + " both free and cached";
    state[size_t(b)] = 2;
  }
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const auto& blk = blocks_[b];
    if (blk.refs != refs[b])
      return "block " + std::to_string(b) + " refcount " + std::to_string(blk.refs)
             + " but " + std::to_string(refs[b]) + " users";
    if (refs[b] > 0 && state[b] != 0)
      return "block " + std::to_string(b) + " in use and free/cached";
    if (refs[b] == 0 && state[b] == 0)
      return "block " + std::to_string(b) + " leaked";
    if (state[b] == 2 && !blk.hashed)
      return "block " + std::to_string(b) + " cached without a hash";
  }
  return {};
}

} // namespace troupe::gpu
