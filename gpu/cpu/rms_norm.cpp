#include "gpu/cpu/rms_norm.hpp"

#include <cmath>

namespace troupe::gpu::cpu {

void rms_norm(const float* x, const float* w, float* y, std::size_t rows,
              std::size_t cols, float eps) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row_in = x + r * cols;
    float* row_out = y + r * cols;
    double sum_sq = 0.0;
    for (std::size_t c = 0; c < cols; ++c)
      sum_sq += static_cast<double>(row_in[c]) * row_in[c];
    // The scale is computed before writing so that y may alias x.
    const double mean = sum_sq / static_cast<double>(cols);
    const auto scale = static_cast<float>(1.0 / std::sqrt(mean + eps));
    for (std::size_t c = 0; c < cols; ++c)
      row_out[c] = row_in[c] * scale * w[c];
  }
}

} // namespace troupe::gpu::cpu
