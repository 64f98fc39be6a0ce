#pragma once

#include <string>
#include <vector>

#include "gpu/cuda/device_buffer.hpp"
#include "gpu/cuda/matmul.cuh"
#include "gpu/model/llama.hpp"
#include "gpu/status.hpp"

// A Llama model's weights copied once to device memory, in their GGUF
// formats, for the CUDA backend. Internal to gpu/cuda/.

namespace troupe::gpu::cuda {

struct device_layer {
  const float* attn_norm = nullptr; // [n_embd]
  device_matrix wq, wk, wv, wo;
  const float* ffn_norm = nullptr;  // [n_embd]
  device_matrix w_gate, w_up, w_down;
};

/// Invariants: every pointer points into `arena`, which lives as long as
/// this object; matrices have the shapes and types of the host model;
/// `output` shares tok_embd's memory when the model ties them.
struct device_weights {
  device_buffer arena;
  device_matrix tok_embd;           // [n_vocab, n_embd]
  device_matrix output;             // [n_vocab, n_embd]
  const float* output_norm = nullptr; // [n_embd]
  const float* rope_inv_freq = nullptr; // [n_rot / 2], see rope_inv_freq()
  std::vector<device_layer> layers;
};

/// Why `w` cannot run on the device (a weight type without a CUDA kernel,
/// a head wider than the attention kernel takes, a view that is not the
/// shape the hyperparameters say), or an empty string when it can.
std::string weights_unsupported(const llama_weights& w);

/// Copies `w` (host memory) into one allocation on the current device,
/// uploading a matrix shared by several views (tied embeddings) once.
/// Precondition: weights_unsupported(w) is empty. Fails with cuda_error
/// (saying how much memory was needed and how much is free) when the
/// device is out of memory or a copy fails; `out` is then unchanged.
status weights_upload(const llama_weights& w, device_weights& out);

} // namespace troupe::gpu::cuda
