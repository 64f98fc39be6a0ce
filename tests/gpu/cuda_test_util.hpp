#pragma once

#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/cuda/device.hpp"
#include "gpu/cuda/device_buffer.hpp"

// Helpers of the CUDA parity tests (cuda_*_test.cpp): skipping without a
// device, and moving vectors to and from device memory with gtest
// assertions on every step.

/// Skips the current test, saying why, when no CUDA device is usable.
#define TROUPE_REQUIRE_CUDA_DEVICE()                                                             \
  do {                                                                                            \
    if (auto st_ = ::troupe::gpu::cuda::device_require(); !st_.ok())                             \
      GTEST_SKIP() << "no CUDA device on this machine (" << st_.message()                        \
                   << "); the CUDA/CPU parity test needs one";                                    \
  } while (false)

namespace troupe::gpu::test {

/// A device copy of `v`; fails the test (fatally) when that is impossible.
template <class T>
void to_device(const std::vector<T>& v, cuda::device_buffer& out) {
  status st;
  out = cuda::device_copy(v, st);
  ASSERT_TRUE(st.ok()) << st.message();
}

/// A device buffer of n zeroed T.
template <class T>
void device_zeros(size_t n, cuda::device_buffer& out) {
  ASSERT_TRUE(out.allocate(n * sizeof(T)).ok());
  ASSERT_TRUE(out.zero().ok());
}

/// The first n values of T in `b`, after all queued work; fails the test
/// when the work or the copy failed.
template <class T>
void from_device(const cuda::device_buffer& b, size_t n, std::vector<T>& out) {
  out.assign(n, T{});
  const auto st = b.download(out.data(), n * sizeof(T));
  ASSERT_TRUE(st.ok()) << st.message();
}

} // namespace troupe::gpu::test
