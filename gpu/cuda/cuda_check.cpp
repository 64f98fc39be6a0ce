#include "gpu/cuda/cuda_check.hpp"

#include <string>

namespace troupe::gpu::cuda {

status cuda_failure(const char* what, cudaError_t err) {
  cudaGetLastError();
  return status::failure(status_code::cuda_error,
                         std::string{what} + ": " + cudaGetErrorString(err));
}

status cuda_check(const char* what, cudaError_t err) {
  return err == cudaSuccess ? status{} : cuda_failure(what, err);
}

status cuda_launched(const char* what) {
  return cuda_check(what, cudaGetLastError());
}

} // namespace troupe::gpu::cuda
