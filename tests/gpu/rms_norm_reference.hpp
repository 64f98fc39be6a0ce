#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

// Helpers shared by the CPU unit test and the CUDA parity test.

namespace troupe::gpu::test {

/// `n` floats drawn from N(mean, stddev) with a fixed seed, so failures
/// reproduce.
inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed,
                                        float mean = 0.0f,
                                        float stddev = 1.0f) {
  std::mt19937 gen{seed};
  std::normal_distribution<float> dist{mean, stddev};
  std::vector<float> out(n);
  for (auto& v : out)
    v = dist(gen);
  return out;
}

/// RMSNorm written the obvious way, entirely in double precision.
/// x: [rows, cols], w: [cols]; returns [rows, cols].
inline std::vector<double> rms_norm_double(const std::vector<float>& x,
                                           const std::vector<float>& w,
                                           std::size_t rows, std::size_t cols,
                                           double eps) {
  std::vector<double> y(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    double sum_sq = 0.0;
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = x[r * cols + c];
      sum_sq += v * v;
    }
    const double inv_rms = 1.0 / std::sqrt(sum_sq / cols + eps);
    for (std::size_t c = 0; c < cols; ++c)
      y[r * cols + c] = x[r * cols + c] * inv_rms * w[c];
  }
  return y;
}

} // namespace troupe::gpu::test
