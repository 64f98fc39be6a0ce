#include "gpu/cuda/swiglu.cuh"

#include <cuda_runtime.h>

#include "gpu/cuda/cuda_check.hpp"

namespace troupe::gpu::cuda {

namespace {

constexpr int swiglu_threads = 256;

__global__ void swiglu_kernel(float* __restrict__ gate, const float* __restrict__ up,
                              int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  const float g = gate[i];
  gate[i] = g / (1.f + expf(-g)) * up[i];
}

} // namespace

status swiglu_device(float* gate, const float* up, int64_t n) noexcept {
  if (n <= 0)
    return {};
  if (gate == nullptr || up == nullptr)
    return status::failure(status_code::invalid_argument, "swiglu: null buffer");
  const auto blocks = static_cast<unsigned>((n + swiglu_threads - 1) / swiglu_threads);
  swiglu_kernel<<<blocks, swiglu_threads>>>(gate, up, n);
  return cuda_launched("swiglu: launch");
}

} // namespace troupe::gpu::cuda
