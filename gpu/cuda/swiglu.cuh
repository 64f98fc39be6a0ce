#pragma once

#include <cstdint>

#include "gpu/status.hpp"

// The SwiGLU activation of the feed-forward block on the device, the twin
// of the CPU forward's loop (gpu/model/llama_forward.cpp). No CUDA types.

namespace troupe::gpu::cuda {

/// gate[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i]
/// for i < n. gate, up: [n] f32 device memory, not overlapping. Enqueues on
/// the default stream; cuda_error when the launch fails, invalid_argument
/// for null buffers. Never throws.
status swiglu_device(float* gate, const float* up, int64_t n) noexcept;

} // namespace troupe::gpu::cuda
