#include "gpu/engine/backend.hpp"

#include "gpu/cpu/matmul.hpp"

#include <algorithm>

namespace troupe::gpu {

namespace {

class cpu_backend final : public llama_backend {
public:
  cpu_backend(const llama_weights& w, int threads, size_t kv_bytes, int block_tokens)
    : w_(w), pool_(std::max(1, threads)),
      kv_(w.hp.n_layer, w.hp.n_head_kv, w.hp.head_dim, block_tokens,
          kv_storage::blocks_for_budget(kv_bytes, w.hp.n_layer, w.hp.n_head_kv, w.hp.head_dim,
                                        block_tokens)) {}

  void forward(const std::vector<batch_token>& batch, std::vector<float>& logits) override {
    llama_forward(w_, batch, kv_, pool_, ws_, logits);
  }
  void copy_block(int32_t from, int32_t to) override { kv_.copy_block(from, to); }
  int64_t n_blocks() const override { return kv_.n_blocks(); }
  std::string describe() const override {
    return std::string("cpu (") + cpu::simd_level() + ", " + std::to_string(pool_.size())
           + (pool_.size() == 1 ? " thread)" : " threads)");
  }

private:
  const llama_weights& w_;
  cpu::thread_pool pool_;
  kv_storage kv_;
  llama_workspace ws_;
};

} // namespace

std::unique_ptr<llama_backend> make_cpu_backend(const llama_weights& w, int threads,
                                                size_t kv_bytes, int block_tokens) {
  return std::make_unique<cpu_backend>(w, threads, kv_bytes, block_tokens);
}

} // namespace troupe::gpu
