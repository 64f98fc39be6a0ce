#include "gpu/cuda/rms_norm.cuh"

#include <string>

#include <cuda_runtime.h>

#include "gpu/cuda/device.hpp"

namespace troupe::gpu::cuda {

namespace {

constexpr int block_threads = 256;
constexpr int warp_threads = 32;

// One block per row. Each thread sums a strided slice of x^2, warps reduce by
// shuffle, then warp 0 reduces the per-warp partial sums.
// x, y: [rows, cols]; w: [cols].
__global__ void rms_norm_kernel(const float* x, const float* w, float* y,
                                int cols, float eps) {
  __shared__ float warp_sums[block_threads / warp_threads];
  __shared__ float scale;
  const float* row_in = x + static_cast<size_t>(blockIdx.x) * cols;
  float* row_out = y + static_cast<size_t>(blockIdx.x) * cols;

  float sum = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x)
    sum += row_in[c] * row_in[c];
  for (int offset = warp_threads / 2; offset > 0; offset /= 2)
    sum += __shfl_down_sync(0xffffffffu, sum, offset);
  const int lane = threadIdx.x % warp_threads;
  const int warp = threadIdx.x / warp_threads;
  if (lane == 0)
    warp_sums[warp] = sum;
  __syncthreads();
  if (warp == 0) {
    sum = lane < static_cast<int>(blockDim.x) / warp_threads ? warp_sums[lane]
                                                            : 0.0f;
    for (int offset = warp_threads / 2; offset > 0; offset /= 2)
      sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0)
      scale = rsqrtf(sum / static_cast<float>(cols) + eps);
  }
  __syncthreads();
  for (int c = threadIdx.x; c < cols; c += blockDim.x)
    row_out[c] = row_in[c] * scale * w[c];
}

status cuda_failure(const char* what, cudaError_t err) {
  return status::failure(status_code::cuda_error,
                         std::string{what} + ": " + cudaGetErrorString(err));
}

// Owns one device allocation; frees it on every return path.
class device_buffer {
public:
  explicit device_buffer(std::size_t bytes) {
    err_ = cudaMalloc(&ptr_, bytes);
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() {
    if (ptr_ != nullptr)
      cudaFree(ptr_);
  }
  cudaError_t error() const {
    return err_;
  }
  float* get() const {
    return static_cast<float*>(ptr_);
  }

private:
  void* ptr_ = nullptr;
  cudaError_t err_ = cudaSuccess;
};

} // namespace

status rms_norm_device(const float* x, const float* w, float* y,
                       std::size_t rows, std::size_t cols, float eps) noexcept {
  if (auto st = rms_norm_async(x, w, y, rows, cols, eps); !st.ok())
    return st;
  if (auto err = cudaDeviceSynchronize(); err != cudaSuccess)
    return cuda_failure("rms_norm: execution", err);
  return {};
}

status rms_norm_async(const float* x, const float* w, float* y,
                      std::size_t rows, std::size_t cols, float eps) noexcept {
  if (rows == 0)
    return {};
  if (x == nullptr || w == nullptr || y == nullptr || cols == 0)
    return status::failure(status_code::invalid_argument,
                           "rms_norm: null buffer or zero columns");
  if (rows > 0x7fffffffu || cols > 0x7fffffffu)
    return status::failure(status_code::invalid_argument,
                           "rms_norm: shape exceeds 2^31-1");
  rms_norm_kernel<<<static_cast<unsigned>(rows), block_threads>>>(
    x, w, y, static_cast<int>(cols), eps);
  if (auto err = cudaGetLastError(); err != cudaSuccess)
    return cuda_failure("rms_norm: launch", err);
  return {};
}

status rms_norm(const float* x, const float* w, float* y, std::size_t rows,
                std::size_t cols, float eps) noexcept {
  if (auto st = device_require(); !st.ok())
    return st;
  if (rows == 0)
    return {};
  if (x == nullptr || w == nullptr || y == nullptr || cols == 0)
    return status::failure(status_code::invalid_argument,
                           "rms_norm: null buffer or zero columns");
  const std::size_t matrix_bytes = rows * cols * sizeof(float);
  device_buffer d_x{matrix_bytes};
  device_buffer d_w{cols * sizeof(float)};
  device_buffer d_y{matrix_bytes};
  for (const auto* buf : {&d_x, &d_w, &d_y})
    if (buf->error() != cudaSuccess)
      return cuda_failure("rms_norm: cudaMalloc", buf->error());
  if (auto err = cudaMemcpy(d_x.get(), x, matrix_bytes, cudaMemcpyHostToDevice);
      err != cudaSuccess)
    return cuda_failure("rms_norm: copy x to device", err);
  if (auto err = cudaMemcpy(d_w.get(), w, cols * sizeof(float),
                            cudaMemcpyHostToDevice);
      err != cudaSuccess)
    return cuda_failure("rms_norm: copy w to device", err);
  if (auto st = rms_norm_device(d_x.get(), d_w.get(), d_y.get(), rows, cols,
                                eps);
      !st.ok())
    return st;
  if (auto err = cudaMemcpy(y, d_y.get(), matrix_bytes, cudaMemcpyDeviceToHost);
      err != cudaSuccess)
    return cuda_failure("rms_norm: copy y to host", err);
  return {};
}

} // namespace troupe::gpu::cuda
