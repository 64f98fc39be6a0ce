#pragma once

#include <cstddef>
#include <string>

#include "gpu/status.hpp"

// A check that the NCCL transport is installed and works, used by set-up
// verification and the gpu tests before multi-GPU work relies on it.

namespace troupe::gpu::cuda {

/// The NCCL library's version code (major * 10000 + minor * 100 + patch for
/// NCCL >= 2.9, e.g. 22809 for 2.28.9), or 0 when ncclGetVersion fails. Needs
/// no device. Never throws.
int nccl_version() noexcept;

/// nccl_version() as "major.minor.patch", or "unknown" when it is 0.
std::string nccl_version_string();

/// Creates a single-rank communicator on device 0 (ncclCommInitAll), sums a
/// buffer of `count` floats with ncclAllReduce and checks that the result
/// equals the input (the sum over one rank). Returns status_code::no_device
/// without a device, nccl_error or cuda_error when a call fails, mismatch when
/// the reduced values are wrong. Precondition: count > 0. Never throws.
status nccl_allreduce_probe(std::size_t count) noexcept;

} // namespace troupe::gpu::cuda
