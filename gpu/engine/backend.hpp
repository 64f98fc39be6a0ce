#pragma once

#include "gpu/cpu/thread_pool.hpp"
#include "gpu/kv/kv_storage.hpp"
#include "gpu/model/llama.hpp"

#include <memory>
#include <string>
#include <vector>

namespace troupe::gpu {

/// Where the engine runs the model: the KV pool's memory and the forward
/// pass. The engine keeps the bookkeeping (block_manager) and hands the
/// backend only block ids, so CPU and CUDA backends share one scheduler.
class llama_backend {
public:
  virtual ~llama_backend() = default;

  /// Runs one batch (see llama_forward) and fills `logits` [n_wanted, n_vocab].
  virtual void forward(const std::vector<batch_token>& batch, std::vector<float>& logits) = 0;

  /// Copies every layer's keys and values of block `from` into `to`.
  virtual void copy_block(int32_t from, int32_t to) = 0;

  /// Blocks of KV memory this backend holds.
  virtual int64_t n_blocks() const = 0;

  /// "cpu (avx512, 2 threads)", "cuda (NVIDIA H100, sm_90)".
  virtual std::string describe() const = 0;
};

/// The CPU reference backend: llama_forward over a kv_storage of as many
/// blocks as fit in `kv_bytes`, on `threads` cores.
std::unique_ptr<llama_backend> make_cpu_backend(const llama_weights& w, int threads,
                                                size_t kv_bytes, int block_tokens);

} // namespace troupe::gpu
