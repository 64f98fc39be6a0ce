#pragma once

#include <cstdint>

#include "gpu/status.hpp"

// Greedy decoding on the device: the index of each row's largest value,
// so only one int per token crosses to the host. The CPU twin is the
// sampler's greedy path (std::max_element, gpu/engine/sampler.cpp).

namespace troupe::gpu::cuda {

/// out[r] = the lowest index c with x[r][c] maximal over the row's non-NaN
/// values (ties go to the lowest id, as the CPU sampler's greedy path),
/// or -1 when the row holds only NaN. x: [rows, cols] f32, out: [rows]
/// int32, device memory. Enqueues on the default stream; invalid_argument
/// for a bad shape, cuda_error when the launch fails. Never throws.
status argmax_device(const float* x, int64_t rows, int64_t cols, int32_t* out) noexcept;

} // namespace troupe::gpu::cuda
