#pragma once

#include <cstddef>

namespace troupe::gpu::cpu {

/// RMS normalisation of each row, then an elementwise gain:
///   y[r, c] = x[r, c] / sqrt(mean_c(x[r, c]^2) + eps) * w[c]
/// This is the reference every accelerator twin (gpu/cuda/rms_norm.cuh) is
/// checked against; the sum of squares is accumulated in double.
///
/// x: [rows, cols] row-major, w: [cols], y: [rows, cols] row-major.
/// y may be the same buffer as x (in place); other overlaps are not allowed.
/// Preconditions: cols > 0 unless rows == 0; eps > 0 or no row is all zeros;
/// the buffers hold rows * cols (w: cols) floats. The caller owns all buffers.
/// Pure function: safe to call from any thread.
void rms_norm(const float* x, const float* w, float* y, std::size_t rows,
              std::size_t cols, float eps) noexcept;

} // namespace troupe::gpu::cpu
