#include "gpu/cuda/rope.cuh"

#include <cmath>

#include <cuda_runtime.h>

#include "gpu/cuda/cuda_check.hpp"

namespace troupe::gpu::cuda {

namespace {

constexpr int rope_threads = 256;

// One thread per (token, head, pair): pair i of head h of token t.
__global__ void rope_kernel(float* __restrict__ v, const int32_t* __restrict__ pos,
                            const float* __restrict__ inv_freq, int n_heads, int head_dim,
                            int half_rot, float scale, int64_t total) {
  const int64_t job = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (job >= total)
    return;
  const int i = static_cast<int>(job % half_rot);
  const int64_t th = job / half_rot; // token * n_heads + head
  const int t = static_cast<int>(th / n_heads);
  const float p = static_cast<float>(pos[t]) / scale;
  float s, c;
  sincosf(p * inv_freq[i], &s, &c);
  float* x = v + th * head_dim + 2 * i;
  const float x0 = x[0], x1 = x[1];
  x[0] = x0 * c - x1 * s;
  x[1] = x0 * s + x1 * c;
}

} // namespace

std::vector<float> rope_inv_freq(int n_rot, float base) {
  std::vector<float> f(static_cast<size_t>(n_rot > 0 ? n_rot / 2 : 0));
  for (int i = 0; i < n_rot / 2; ++i)
    f[static_cast<size_t>(i)] = std::pow(base, -2.f * i / static_cast<float>(n_rot));
  return f;
}

status rope_device(float* v, const int32_t* pos, const float* inv_freq,
                   const rope_shape& s) noexcept {
  if (s.n_tokens == 0 || s.n_heads == 0)
    return {};
  if (s.n_tokens < 0 || s.n_heads < 0 || s.n_rot <= 0 || s.n_rot % 2 != 0
      || s.n_rot > s.head_dim || !(s.scale > 0))
    return status::failure(status_code::invalid_argument, "rope: bad shape");
  if (v == nullptr || pos == nullptr || inv_freq == nullptr)
    return status::failure(status_code::invalid_argument, "rope: null buffer");
  const int64_t total = int64_t{s.n_tokens} * s.n_heads * (s.n_rot / 2);
  const auto blocks = static_cast<unsigned>((total + rope_threads - 1) / rope_threads);
  rope_kernel<<<blocks, rope_threads>>>(v, pos, inv_freq, s.n_heads, s.head_dim, s.n_rot / 2,
                                        s.scale, total);
  return cuda_launched("rope: launch");
}

} // namespace troupe::gpu::cuda
