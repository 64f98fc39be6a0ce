#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "gpu/engine/backend.hpp"
#include "gpu/model/llama.hpp"
#include "gpu/status.hpp"

// The CUDA backend of the engine: the Llama forward pass on one GPU, with
// the model's weights and the paged KV pool in device memory. Plain C++
// interface (no CUDA types). In a build without CUDA the same functions
// exist and report that the backend is not built, so callers (the
// launcher's --device option) need no #if.

namespace troupe::gpu {

/// A llama_backend on a CUDA device. KV layout per layer, keys and values
/// alike, as kv_storage on the CPU:
///   // [n_blocks, block_tokens, n_kv_heads, head_dim] f32
/// forward() and copy_block() never throw. When a batch is invalid (a token
/// outside the vocabulary, a position its block table does not cover, a
/// block id outside the pool) or the device fails, forward() fills
/// `logits` with NaN ([n_wanted, n_vocab], as on success) and last_status()
/// says why; a device failure is sticky: every later call fails the same
/// way. Called from one thread at a time (the engine's owner), any thread.
class cuda_backend : public llama_backend {
public:
  /// Success, or why the most recent forward() or copy_block() failed.
  virtual status last_status() const = 0;
};

/// True when this build has the CUDA backend and a device is usable.
bool cuda_backend_available() noexcept;

/// Uploads `w` to CUDA device `device` (cudaMalloc + cudaMemcpy, once; `w`
/// need not outlive the backend) and allocates a KV pool of as many blocks
/// of `block_tokens` positions as fit in `kv_bytes` (same count as the CPU
/// backend for the same budget). Returns nullptr and sets *error (when
/// error is not null) to a sentence saying why: the build has no CUDA, no
/// driver or device, no such device, a weight type or shape the kernels do
/// not support, a budget below one block, or out of device memory (with
/// the sizes involved). Never throws for any of these.
std::unique_ptr<cuda_backend> make_cuda_backend(const llama_weights& w, size_t kv_bytes,
                                                int block_tokens, int device,
                                                std::string* error);

} // namespace troupe::gpu
