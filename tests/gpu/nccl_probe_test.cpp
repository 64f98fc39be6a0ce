#include "gpu/cuda/nccl_probe.hpp"

#include <gtest/gtest.h>

#include "gpu/cuda/device.hpp"

namespace troupe::gpu {
namespace {

TEST(nccl_probe, library_reports_a_version) {
  // Needs no device: ncclGetVersion only asks the library.
  EXPECT_GE(cuda::nccl_version(), 20000) << cuda::nccl_version_string();
  EXPECT_NE(cuda::nccl_version_string(), "unknown");
}

TEST(nccl_probe, single_rank_allreduce) {
  if (auto st = cuda::device_require(); !st.ok())
    GTEST_SKIP() << "no CUDA device on this machine (" << st.message()
                 << "); the NCCL allreduce probe needs one";
  const auto st = cuda::nccl_allreduce_probe(4099);
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(nccl_probe, missing_device_is_a_value) {
  if (cuda::device_count() > 0)
    GTEST_SKIP() << "a CUDA device is present; the no-device path is not "
                    "reachable here";
  EXPECT_EQ(cuda::nccl_allreduce_probe(16).code(), status_code::no_device);
}

} // namespace
} // namespace troupe::gpu
