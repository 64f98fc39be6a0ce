// make_cuda_backend in a build without CUDA (gpu/CMakeLists.txt compiles
// this file instead of cuda_backend.cpp), so callers need no #if.
#include "gpu/cuda/cuda_backend.hpp"

namespace troupe::gpu {

bool cuda_backend_available() noexcept {
  return false;
}

std::unique_ptr<cuda_backend> make_cuda_backend(const llama_weights&, size_t, int, int,
                                                std::string* error) {
  if (error != nullptr)
    *error = "this build of troupe has no CUDA backend (nvcc was not found at configure "
             "time, or TROUPE_CUDA=OFF)";
  return nullptr;
}

} // namespace troupe::gpu
