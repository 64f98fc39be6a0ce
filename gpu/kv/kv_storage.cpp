#include "gpu/kv/kv_storage.hpp"

#include <algorithm>

namespace troupe::gpu {

kv_storage::kv_storage(int n_layers, int n_kv_heads, int head_dim, int block_tokens,
                       int64_t n_blocks)
  : n_layers_(n_layers), n_kv_heads_(n_kv_heads), head_dim_(head_dim),
    block_tokens_(block_tokens), n_blocks_(n_blocks),
    keys_(layer_block_floats() * static_cast<size_t>(n_blocks) * n_layers),
    values_(keys_.size()) {}

void kv_storage::copy_block(int32_t from, int32_t to) {
  for (int l = 0; l < n_layers_; ++l) {
    std::copy_n(key(l, from, 0), layer_block_floats(), key(l, to, 0));
    std::copy_n(value(l, from, 0), layer_block_floats(), value(l, to, 0));
  }
}

int64_t kv_storage::blocks_for_budget(size_t bytes, int n_layers, int n_kv_heads, int head_dim,
                                      int block_tokens) {
  size_t per_block = 2 * sizeof(float) * static_cast<size_t>(n_layers) * n_kv_heads * head_dim
                     * static_cast<size_t>(block_tokens);
  return per_block == 0 ? 0 : static_cast<int64_t>(bytes / per_block);
}

} // namespace troupe::gpu
