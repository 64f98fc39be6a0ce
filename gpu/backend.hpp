#pragma once

namespace troupe::gpu {

/// True when this build contains the CUDA backend (nvcc was found at
/// configure time). Says nothing about whether a device is present.
bool cuda_built() noexcept;

/// CUDA devices this process can use: 0 when the CUDA backend is not built,
/// when there is no driver, or when there is no device. Never throws; safe to
/// call from any thread.
int cuda_device_count() noexcept;

/// True when the CUDA backend is built and at least one device is usable.
/// When false, callers use the CPU reference backend (gpu/cpu/).
bool cuda_available() noexcept;

} // namespace troupe::gpu
