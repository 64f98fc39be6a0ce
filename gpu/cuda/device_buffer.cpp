#include "gpu/cuda/device_buffer.hpp"

#include <utility>

#include <cuda_runtime_api.h>

#include "gpu/cuda/cuda_check.hpp"
#include "gpu/cuda/device.hpp"

namespace troupe::gpu::cuda {

device_buffer::~device_buffer() {
  reset();
}

device_buffer::device_buffer(device_buffer&& other) noexcept
  : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

device_buffer& device_buffer::operator=(device_buffer&& other) noexcept {
  if (this != &other) {
    reset();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

status device_buffer::allocate(std::size_t bytes) noexcept {
  reset();
  if (bytes == 0)
    return {};
  if (auto st = device_require(); !st.ok())
    return st;
  void* p = nullptr;
  if (auto err = cudaMalloc(&p, bytes); err != cudaSuccess)
    return cuda_failure("cudaMalloc", err);
  ptr_ = p;
  bytes_ = bytes;
  return {};
}

void device_buffer::reset() noexcept {
  if (ptr_ != nullptr)
    cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

status device_buffer::upload(const void* src, std::size_t bytes, std::size_t at) noexcept {
  if (bytes == 0)
    return {};
  if (at + bytes > bytes_)
    return status::failure(status_code::invalid_argument, "device_buffer: upload past the end");
  return cuda_check("copy to device",
                    cudaMemcpy(static_cast<char*>(ptr_) + at, src, bytes, cudaMemcpyHostToDevice));
}

status device_buffer::download(void* dst, std::size_t bytes, std::size_t at) const noexcept {
  if (bytes == 0)
    return {};
  if (at + bytes > bytes_)
    return status::failure(status_code::invalid_argument, "device_buffer: download past the end");
  return cuda_check("copy to host", cudaMemcpy(dst, static_cast<const char*>(ptr_) + at, bytes,
                                               cudaMemcpyDeviceToHost));
}

status device_buffer::zero() noexcept {
  if (bytes_ == 0)
    return {};
  return cuda_check("cudaMemset", cudaMemset(ptr_, 0, bytes_));
}

status device_synchronize() noexcept {
  return cuda_check("device synchronize", cudaDeviceSynchronize());
}

} // namespace troupe::gpu::cuda
