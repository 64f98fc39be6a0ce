#pragma once

#include <cstddef>
#include <vector>

#include "gpu/status.hpp"

// Device memory for the CUDA backend and the parity tests: plain cudaMalloc
// (never managed memory), owned by one object. The interface names no CUDA
// types, so plain C++ callers (tests) can use it.

namespace troupe::gpu::cuda {

/// One allocation on the current device.
/// Invariants: data() is null exactly when bytes() == 0; the memory lives
/// until the destructor, reset() or a move-assignment replaces it.
/// Not thread-safe; the device current at allocate() must be current when
/// the buffer is used and freed.
class device_buffer {
public:
  device_buffer() = default;
  ~device_buffer();
  device_buffer(device_buffer&& other) noexcept;
  device_buffer& operator=(device_buffer&& other) noexcept;
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;

  /// Frees what the buffer held, then allocates `bytes` (uninitialized).
  /// On failure the buffer is empty and the status is cuda_error (out of
  /// memory included) or no_device. bytes == 0 frees and succeeds.
  status allocate(std::size_t bytes) noexcept;

  /// Frees the memory; the buffer is empty afterwards.
  void reset() noexcept;

  /// Copies `bytes` from host memory `src` to offset `at`; waits for it.
  /// Precondition: at + bytes <= this->bytes().
  status upload(const void* src, std::size_t bytes, std::size_t at = 0) noexcept;

  /// Copies `bytes` from offset `at` to host memory `dst`, after all work
  /// queued on the default stream; reports a fault of that work as
  /// cuda_error. Precondition: at + bytes <= this->bytes().
  status download(void* dst, std::size_t bytes, std::size_t at = 0) const noexcept;

  /// Sets every byte to zero.
  status zero() noexcept;

  void* data() const noexcept { return ptr_; }
  std::size_t bytes() const noexcept { return bytes_; }

  /// The memory as an array of T (device pointer).
  template <class T>
  T* as() const noexcept {
    return static_cast<T*>(ptr_);
  }

private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

/// A buffer holding a copy of `values`, or the failure (into `st`).
template <class T>
device_buffer device_copy(const std::vector<T>& values, status& st) {
  device_buffer b;
  st = b.allocate(values.size() * sizeof(T));
  if (st.ok())
    st = b.upload(values.data(), values.size() * sizeof(T));
  return b;
}

/// Waits for all work on the current device; a fault of that work is
/// returned as cuda_error.
status device_synchronize() noexcept;

} // namespace troupe::gpu::cuda
