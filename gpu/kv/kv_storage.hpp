#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace troupe::gpu {

/// The memory of a paged KV cache on the CPU: keys and values for
/// `n_blocks` blocks of `block_tokens` positions, for every layer. Which
/// block belongs to which sequence is the block manager's business
/// (kv/block_manager.hpp); this class only stores.
/// Layout per layer, keys and values alike:
///   // [n_blocks, block_tokens, n_kv_heads, head_dim] f32
/// Invariants: all dimensions positive; storage never reallocates.
class kv_storage {
public:
  kv_storage(int n_layers, int n_kv_heads, int head_dim, int block_tokens, int64_t n_blocks);

  /// Keys of one position: [n_kv_heads, head_dim].
  float* key(int layer, int32_t block, int slot) { return at(keys_, layer, block, slot); }
  float* value(int layer, int32_t block, int slot) { return at(values_, layer, block, slot); }
  const float* key(int layer, int32_t block, int slot) const {
    return const_cast<kv_storage*>(this)->key(layer, block, slot);
  }
  const float* value(int layer, int32_t block, int slot) const {
    return const_cast<kv_storage*>(this)->value(layer, block, slot);
  }

  /// Copies every layer's keys and values of block `from` into `to` (for
  /// copy-on-write of a shared, partly filled block).
  void copy_block(int32_t from, int32_t to);

  int block_tokens() const { return block_tokens_; }
  int64_t n_blocks() const { return n_blocks_; }
  /// Bytes of keys and values held for one block (all layers).
  size_t block_bytes() const { return 2 * layer_block_floats() * n_layers_ * sizeof(float); }

  /// Blocks that fit in `bytes` for this shape.
  static int64_t blocks_for_budget(size_t bytes, int n_layers, int n_kv_heads, int head_dim,
                                   int block_tokens);

private:
  size_t layer_block_floats() const {
    return static_cast<size_t>(block_tokens_) * n_kv_heads_ * head_dim_;
  }
  float* at(std::vector<float>& v, int layer, int32_t block, int slot) {
    size_t per_layer = layer_block_floats() * static_cast<size_t>(n_blocks_);
    return v.data() + per_layer * layer + layer_block_floats() * block
           + static_cast<size_t>(slot) * n_kv_heads_ * head_dim_;
  }

  int n_layers_, n_kv_heads_, head_dim_, block_tokens_;
  int64_t n_blocks_;
  std::vector<float> keys_;
  std::vector<float> values_;
};

} // namespace troupe::gpu
