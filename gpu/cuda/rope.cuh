#pragma once

#include <cstdint>
#include <vector>

#include "gpu/status.hpp"

// Rotary position embedding on the device, the twin of the CPU forward's
// rope (gpu/model/llama_forward.cpp): GGUF Llama's non-NeoX layout, pairs
// (2i, 2i + 1) of the first n_rot dimensions of every head rotated by
// (pos / scale) * base^(-2i / n_rot). No CUDA types in the interface.

namespace troupe::gpu::cuda {

/// base^(-2i / n_rot) for i < n_rot / 2, computed on the host with the CPU
/// forward's own expression, so both sides rotate by the same angles up to
/// the last bit of sin and cos. Upload it once per model.
std::vector<float> rope_inv_freq(int n_rot, float base);

/// Shape of one rope launch.
struct rope_shape {
  int n_tokens = 0;
  int n_heads = 0;  ///< heads in each token's row
  int head_dim = 0;
  int n_rot = 0;    ///< even, <= head_dim
  float scale = 1;  ///< linear position scaling: positions are divided by it
};

/// Rotates v: [n_tokens, n_heads, head_dim] f32 in place, token t at
/// position pos[t]. v, pos: [n_tokens] int32 and inv_freq: [n_rot / 2]
/// (rope_inv_freq) are device memory. Enqueues on the default stream;
/// returns invalid_argument for a bad shape, cuda_error when the launch
/// fails. Never throws.
status rope_device(float* v, const int32_t* pos, const float* inv_freq,
                   const rope_shape& s) noexcept;

} // namespace troupe::gpu::cuda
