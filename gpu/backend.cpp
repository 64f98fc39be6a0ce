#include "gpu/backend.hpp"

#if TROUPE_HAVE_CUDA
#  include "gpu/cuda/device.hpp"
#endif

namespace troupe::gpu {

bool cuda_built() noexcept {
  return TROUPE_HAVE_CUDA != 0;
}

int cuda_device_count() noexcept {
#if TROUPE_HAVE_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

bool cuda_available() noexcept {
  return cuda_device_count() > 0;
}

} // namespace troupe::gpu
