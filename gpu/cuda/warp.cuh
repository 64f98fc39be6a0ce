#pragma once

// Warp-level helpers for the kernels. Device code only: included by .cu
// files, never by plain C++.

namespace troupe::gpu::cuda {

constexpr int warp_size = 32;

/// The sum of `v` over the 32 lanes of a full warp, returned to every lane.
/// Every lane of the warp must call it.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = warp_size / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

/// The maximum of `v` over the 32 lanes of a full warp, to every lane.
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = warp_size / 2; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

} // namespace troupe::gpu::cuda
