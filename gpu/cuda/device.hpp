#pragma once

#include "gpu/status.hpp"

namespace troupe::gpu::cuda {

/// CUDA devices visible to this process, as cudaGetDeviceCount reports them;
/// 0 when there is no driver, no device, or the runtime cannot initialise.
/// Never throws; safe to call from any thread.
int device_count() noexcept;

/// Success when at least one device is usable; otherwise a status with
/// status_code::no_device whose message carries the CUDA runtime's reason
/// (for example "no CUDA-capable device is detected").
status device_require() noexcept;

} // namespace troupe::gpu::cuda
