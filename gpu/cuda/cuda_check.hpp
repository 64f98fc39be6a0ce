#pragma once

#include <cuda_runtime_api.h>

#include "gpu/status.hpp"

// Turning CUDA runtime errors into status values. Internal to gpu/cuda/:
// only its .cu and .cpp files include it (it names CUDA types).

namespace troupe::gpu::cuda {

/// status_code::cuda_error with "<what>: <CUDA's description>". Clears the
/// runtime's last-error slot so a later, unrelated check does not report
/// this error again (sticky errors stay sticky in the driver regardless).
status cuda_failure(const char* what, cudaError_t err);

/// Success when `err` is cudaSuccess, else cuda_failure(what, err).
status cuda_check(const char* what, cudaError_t err);

/// The status of the kernel launch just made: catches bad launch
/// configurations at once; faults during execution surface at the next
/// synchronizing call.
status cuda_launched(const char* what);

} // namespace troupe::gpu::cuda
