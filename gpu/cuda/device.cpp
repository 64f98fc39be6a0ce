#include "gpu/cuda/device.hpp"

#include <string>

#include <cuda_runtime_api.h>

namespace troupe::gpu::cuda {

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    // Clear the sticky error so later runtime calls report their own errors.
    cudaGetLastError();
    return 0;
  }
  return count;
}

status device_require() noexcept {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return status::failure(status_code::no_device,
                           std::string{"no usable CUDA device: "}
                             + cudaGetErrorString(err));
  }
  if (count == 0)
    return status::failure(status_code::no_device,
                           "no usable CUDA device: the driver reports 0");
  return {};
}

} // namespace troupe::gpu::cuda
