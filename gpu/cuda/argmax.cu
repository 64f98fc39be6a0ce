#include "gpu/cuda/argmax.cuh"

#include <climits>

#include <cuda_runtime.h>

#include "gpu/cuda/cuda_check.hpp"
#include "gpu/cuda/warp.cuh"

namespace troupe::gpu::cuda {

namespace {

constexpr int argmax_threads = 256;
constexpr int argmax_warps = argmax_threads / warp_size;

// Whether candidate (v, i) beats (best, at): larger, or equal and earlier.
// NaN never wins; an index of INT_MAX means "nothing yet".
__device__ __forceinline__ bool beats(float v, int i, float best, int at) {
  return v > best || (v == best && i < at);
}

__device__ __forceinline__ void warp_argmax(float& best, int& at) {
#pragma unroll
  for (int offset = warp_size / 2; offset > 0; offset /= 2) {
    const float v = __shfl_xor_sync(0xffffffffu, best, offset);
    const int i = __shfl_xor_sync(0xffffffffu, at, offset);
    if (beats(v, i, best, at)) {
      best = v;
      at = i;
    }
  }
}

// One block per row: a strided scan per thread, then warps, then block.
__global__ void __launch_bounds__(argmax_threads)
  argmax_kernel(const float* __restrict__ x, int cols, int32_t* __restrict__ out) {
  __shared__ float warp_best[argmax_warps];
  __shared__ int warp_at[argmax_warps];
  const float* row = x + static_cast<size_t>(blockIdx.x) * cols;
  float best = -INFINITY;
  int at = INT_MAX;
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += argmax_threads)
    if (beats(row[c], c, best, at)) {
      best = row[c];
      at = c;
    }
  warp_argmax(best, at);
  const int lane = static_cast<int>(threadIdx.x) % warp_size;
  const int warp = static_cast<int>(threadIdx.x) / warp_size;
  if (lane == 0) {
    warp_best[warp] = best;
    warp_at[warp] = at;
  }
  __syncthreads();
  if (warp != 0)
    return;
  best = lane < argmax_warps ? warp_best[lane] : -INFINITY;
  at = lane < argmax_warps ? warp_at[lane] : INT_MAX;
  warp_argmax(best, at);
  if (lane == 0)
    out[blockIdx.x] = at == INT_MAX ? -1 : at;
}

} // namespace

status argmax_device(const float* x, int64_t rows, int64_t cols, int32_t* out) noexcept {
  if (rows <= 0)
    return {};
  if (cols <= 0 || cols >= INT_MAX || rows > INT_MAX)
    return status::failure(status_code::invalid_argument, "argmax: bad shape");
  if (x == nullptr || out == nullptr)
    return status::failure(status_code::invalid_argument, "argmax: null buffer");
  argmax_kernel<<<static_cast<unsigned>(rows), argmax_threads>>>(x, static_cast<int>(cols),
                                                                 out);
  return cuda_launched("argmax: launch");
}

} // namespace troupe::gpu::cuda
