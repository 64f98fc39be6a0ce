#include "gpu/cuda/nccl_probe.hpp"

#include <vector>

#include <cuda_runtime_api.h>
#include <nccl.h>

#include "gpu/cuda/device.hpp"

namespace troupe::gpu::cuda {

namespace {

status cuda_failure(const char* what, cudaError_t err) {
  return status::failure(status_code::cuda_error,
                         std::string{what} + ": " + cudaGetErrorString(err));
}

status nccl_failure(const char* what, ncclResult_t err) {
  return status::failure(status_code::nccl_error,
                         std::string{what} + ": " + ncclGetErrorString(err));
}

// Owns the communicator, stream and buffers of one probe; releases them on
// every return path.
struct probe_resources {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  float* send = nullptr;
  float* recv = nullptr;

  probe_resources() = default;
  probe_resources(const probe_resources&) = delete;
  probe_resources& operator=(const probe_resources&) = delete;
  ~probe_resources() {
    if (send != nullptr)
      cudaFree(send);
    if (recv != nullptr)
      cudaFree(recv);
    if (stream != nullptr)
      cudaStreamDestroy(stream);
    if (comm != nullptr)
      ncclCommDestroy(comm);
  }
};

} // namespace

int nccl_version() noexcept {
  int version = 0;
  if (ncclGetVersion(&version) != ncclSuccess)
    return 0;
  return version;
}

std::string nccl_version_string() {
  const int v = nccl_version();
  if (v == 0)
    return "unknown";
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "."
         + std::to_string(v % 100);
}

namespace {

// Allocates the communicator, stream and buffers of `count` floats.
status probe_setup(probe_resources& res, std::size_t count) {
  int device = 0;
  if (auto err = ncclCommInitAll(&res.comm, 1, &device); err != ncclSuccess)
    return nccl_failure("ncclCommInitAll", err);
  if (auto err = cudaStreamCreate(&res.stream); err != cudaSuccess)
    return cuda_failure("cudaStreamCreate", err);
  const std::size_t bytes = count * sizeof(float);
  if (auto err = cudaMalloc(reinterpret_cast<void**>(&res.send), bytes);
      err != cudaSuccess)
    return cuda_failure("cudaMalloc", err);
  if (auto err = cudaMalloc(reinterpret_cast<void**>(&res.recv), bytes);
      err != cudaSuccess)
    return cuda_failure("cudaMalloc", err);
  return {};
}

// Sums `host` over the one rank into `reduced`.
status probe_allreduce(probe_resources& res, const std::vector<float>& host,
                       std::vector<float>& reduced) {
  const std::size_t bytes = host.size() * sizeof(float);
  if (auto err = cudaMemcpy(res.send, host.data(), bytes,
                            cudaMemcpyHostToDevice);
      err != cudaSuccess)
    return cuda_failure("cudaMemcpy to device", err);
  if (auto err = ncclAllReduce(res.send, res.recv, host.size(), ncclFloat,
                               ncclSum, res.comm, res.stream);
      err != ncclSuccess)
    return nccl_failure("ncclAllReduce", err);
  if (auto err = cudaStreamSynchronize(res.stream); err != cudaSuccess)
    return cuda_failure("cudaStreamSynchronize", err);
  reduced.resize(host.size());
  if (auto err = cudaMemcpy(reduced.data(), res.recv, bytes,
                            cudaMemcpyDeviceToHost);
      err != cudaSuccess)
    return cuda_failure("cudaMemcpy to host", err);
  return {};
}

} // namespace

status nccl_allreduce_probe(std::size_t count) noexcept {
  if (count == 0)
    return status::failure(status_code::invalid_argument,
                           "nccl_allreduce_probe: count must be > 0");
  if (auto st = device_require(); !st.ok())
    return st;
  probe_resources res;
  if (auto st = probe_setup(res, count); !st.ok())
    return st;
  std::vector<float> host(count);
  for (std::size_t i = 0; i < count; ++i)
    host[i] = static_cast<float>(i % 1024) - 512.0f;
  std::vector<float> reduced;
  if (auto st = probe_allreduce(res, host, reduced); !st.ok())
    return st;
  for (std::size_t i = 0; i < count; ++i)
    if (reduced[i] != host[i])
      return status::failure(status_code::mismatch,
                             "ncclAllReduce over one rank changed element "
                               + std::to_string(i));
  return {};
}

} // namespace troupe::gpu::cuda
