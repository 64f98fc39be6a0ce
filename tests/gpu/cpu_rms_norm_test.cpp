#include "gpu/cpu/rms_norm.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/backend.hpp"
#include "tests/gpu/rms_norm_reference.hpp"

namespace troupe::gpu {
namespace {

struct shape_case {
  std::size_t rows;
  std::size_t cols;
  float eps;
};

// Shapes of the real models (stories260K: 64, SmolLM2-135M: 576) plus odd
// sizes that do not divide any vector width.
const shape_case shape_cases[] = {
  {1, 1, 1e-5f}, {3, 7, 1e-5f}, {5, 64, 1e-5f}, {4, 576, 1e-5f},
  {2, 1000, 1e-6f}, {1, 4096, 1e-6f},
};

TEST(cpu_rms_norm, matches_double_precision_reference) {
  std::uint32_t seed = 1;
  for (const auto& sc : shape_cases) {
    SCOPED_TRACE(testing::Message() << sc.rows << "x" << sc.cols);
    const auto x = test::random_floats(sc.rows * sc.cols, seed++, 0.3f, 2.0f);
    const auto w = test::random_floats(sc.cols, seed++, 1.0f, 0.1f);
    std::vector<float> y(x.size());
    cpu::rms_norm(x.data(), w.data(), y.data(), sc.rows, sc.cols, sc.eps);
    const auto expected = test::rms_norm_double(x, w, sc.rows, sc.cols, sc.eps);
    for (std::size_t i = 0; i < y.size(); ++i)
      ASSERT_NEAR(y[i], expected[i], 1e-6 * (1.0 + std::fabs(expected[i])))
        << "at element " << i;
  }
}

TEST(cpu_rms_norm, output_rows_have_unit_rms_with_unit_gain) {
  const std::size_t rows = 8, cols = 256;
  const auto x = test::random_floats(rows * cols, 42, -1.0f, 5.0f);
  const std::vector<float> w(cols, 1.0f);
  std::vector<float> y(x.size());
  cpu::rms_norm(x.data(), w.data(), y.data(), rows, cols, 0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    double sum_sq = 0.0;
    for (std::size_t c = 0; c < cols; ++c)
      sum_sq += double{y[r * cols + c]} * y[r * cols + c];
    EXPECT_NEAR(std::sqrt(sum_sq / cols), 1.0, 1e-5) << "row " << r;
  }
}

TEST(cpu_rms_norm, works_in_place) {
  const std::size_t rows = 3, cols = 33;
  auto x = test::random_floats(rows * cols, 7);
  const auto w = test::random_floats(cols, 8, 1.0f, 0.5f);
  std::vector<float> out_of_place(x.size());
  cpu::rms_norm(x.data(), w.data(), out_of_place.data(), rows, cols, 1e-5f);
  cpu::rms_norm(x.data(), w.data(), x.data(), rows, cols, 1e-5f);
  EXPECT_EQ(x, out_of_place);
}

TEST(cpu_rms_norm, eps_keeps_zero_rows_finite) {
  const std::vector<float> x(16, 0.0f);
  const std::vector<float> w(16, 1.0f);
  std::vector<float> y(16, -1.0f);
  cpu::rms_norm(x.data(), w.data(), y.data(), 1, 16, 1e-5f);
  for (float v : y)
    EXPECT_EQ(v, 0.0f);
}

TEST(cpu_backend, cuda_absence_is_consistent) {
  if (!cuda_built()) {
    EXPECT_EQ(cuda_device_count(), 0);
    EXPECT_FALSE(cuda_available());
  } else {
    EXPECT_EQ(cuda_available(), cuda_device_count() > 0);
  }
}

} // namespace
} // namespace troupe::gpu
