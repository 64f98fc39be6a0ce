#pragma once

#include <cstddef>

#include "gpu/status.hpp"

// The CUDA twin of gpu/cpu/rms_norm.hpp. The interface holds no CUDA types so
// that plain C++ callers (actors, tests) can include it.

namespace troupe::gpu::cuda {

/// Launches the RMSNorm kernel on the current device and default stream and
/// waits for it. Same contract and layout as gpu::cpu::rms_norm, but x, w and
/// y are device pointers: x, y: [rows, cols] row-major, w: [cols].
/// Returns status_code::invalid_argument for a null pointer with rows > 0 or
/// cols == 0 with rows > 0, status_code::cuda_error for launch or execution
/// failures. Never throws.
status rms_norm_device(const float* x, const float* w, float* y,
                       std::size_t rows, std::size_t cols, float eps) noexcept;

/// rms_norm_device without the wait: enqueues the kernel on the default
/// stream of the current device and returns; faults during execution
/// surface at the next synchronizing call. For the CUDA backend, which
/// queues a whole forward pass and waits once.
status rms_norm_async(const float* x, const float* w, float* y,
                      std::size_t rows, std::size_t cols, float eps) noexcept;

/// Host-memory convenience around rms_norm_device: copies x and w to device 0,
/// runs the kernel, copies y back. Buffers are host memory owned by the
/// caller; y may alias x. Returns status_code::no_device (not an exception)
/// when there is no driver or device, so callers can fall back to the CPU.
status rms_norm(const float* x, const float* w, float* y, std::size_t rows,
                std::size_t cols, float eps) noexcept;

} // namespace troupe::gpu::cuda
