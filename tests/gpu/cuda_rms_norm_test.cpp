#include "gpu/cuda/rms_norm.cuh"

#include <cmath>
#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/backend.hpp"
#include "gpu/cpu/rms_norm.hpp"
#include "gpu/cuda/device.hpp"
#include "tests/gpu/rms_norm_reference.hpp"

namespace troupe::gpu {
namespace {

#define TROUPE_REQUIRE_CUDA_DEVICE()                                           \
  do {                                                                         \
    if (auto st = cuda::device_require(); !st.ok())                            \
      GTEST_SKIP() << "no CUDA device on this machine (" << st.message()       \
                   << "); the CUDA/CPU parity test needs one";                 \
  } while (false)

TEST(cuda_rms_norm, matches_cpu_reference) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const std::size_t shapes[][2] = {{1, 1}, {3, 7}, {5, 64}, {17, 576},
                                   {2, 1000}, {4, 4096}, {300, 33}};
  std::uint32_t seed = 100;
  for (const auto& shape : shapes) {
    const std::size_t rows = shape[0], cols = shape[1];
    SCOPED_TRACE(testing::Message() << rows << "x" << cols);
    const auto x = test::random_floats(rows * cols, seed++, 0.3f, 2.0f);
    const auto w = test::random_floats(cols, seed++, 1.0f, 0.1f);
    std::vector<float> want(x.size()), got(x.size());
    cpu::rms_norm(x.data(), w.data(), want.data(), rows, cols, 1e-5f);
    const auto st = cuda::rms_norm(x.data(), w.data(), got.data(), rows, cols,
                                   1e-5f);
    ASSERT_TRUE(st.ok()) << st.message();
    for (std::size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::fabs(want[i])))
        << "at element " << i;
  }
}

TEST(cuda_rms_norm, rejects_bad_arguments_as_values) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  std::vector<float> buf(4, 1.0f);
  const auto st = cuda::rms_norm(buf.data(), nullptr, buf.data(), 1, 4, 1e-5f);
  EXPECT_EQ(st.code(), status_code::invalid_argument);
}

// Runs where the others skip: without a device the wrapper must say so with a
// value, never throw or crash, so callers can fall back to the CPU backend.
TEST(cuda_rms_norm, reports_missing_device_as_value) {
  if (cuda_device_count() > 0)
    GTEST_SKIP() << "a CUDA device is present; the no-device path is not "
                    "reachable here";
  std::vector<float> x(8, 1.0f), w(8, 1.0f), y(8, 0.0f);
  const auto st = cuda::rms_norm(x.data(), w.data(), y.data(), 1, 8, 1e-5f);
  EXPECT_EQ(st.code(), status_code::no_device);
  EXPECT_FALSE(st.message().empty());
  EXPECT_EQ(y, std::vector<float>(8, 0.0f));
}

} // namespace
} // namespace troupe::gpu
