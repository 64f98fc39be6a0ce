#include "gpu/cuda/matmul.cuh"

#include <climits>

#include <cuda_runtime.h>

#include "gpu/cuda/cuda_check.hpp"
#include "gpu/cuda/dequant.cuh"
#include "gpu/cuda/warp.cuh"

namespace troupe::gpu::cuda {

namespace {

constexpr int rows_per_block = 4; // one warp per weight row
constexpr int batch_tile = 8;     // tokens one warp serves per weight read

// One warp per weight row r, for tokens [t0, t0 + NT) of the batch. Lane l
// decodes chunks l, l + 32, ... of the row into registers once and applies
// each to all NT tokens; float rows end with up to 7 elements read one by
// one. Each lane's partial sums are then added across the warp.
// w: [rows] rows of row_bytes; x: [n_tokens, cols]; y: [n_tokens, rows].
template <ggml_type T, int NT>
__global__ void __launch_bounds__(rows_per_block * warp_size)
  matmul_kernel(const uint8_t* __restrict__ w, size_t row_bytes, int rows, int cols,
                const float* __restrict__ x, int n_tokens, float* __restrict__ y,
                bool accumulate) {
  const int lane = static_cast<int>(threadIdx.x) % warp_size;
  const int r = static_cast<int>(blockIdx.x) * rows_per_block
                + static_cast<int>(threadIdx.x) / warp_size;
  if (r >= rows)
    return; // the whole warp leaves together; no block-wide barrier follows
  const int t0 = static_cast<int>(blockIdx.y) * NT;
  const int nt = min(NT, n_tokens - t0);
  const uint8_t* row = w + static_cast<size_t>(r) * row_bytes;
  const float* xt = x + static_cast<size_t>(t0) * cols;
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t)
    acc[t] = 0.f;
  const int n_chunks = cols / chunk_elems;
  for (int c = lane; c < n_chunks; c += warp_size) {
    float wv[chunk_elems];
    decode_chunk<T>(row, c, wv);
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < nt) {
        const float* xc = xt + static_cast<size_t>(t) * cols + chunk_elems * c;
#pragma unroll
        for (int i = 0; i < chunk_elems; ++i)
          acc[t] = fmaf(wv[i], xc[i], acc[t]);
      }
    }
  }
  if constexpr (is_float_type(T)) {
    for (int e = n_chunks * chunk_elems + lane; e < cols; e += warp_size) {
      const float wv = decode_element<T>(row, e);
#pragma unroll
      for (int t = 0; t < NT; ++t)
        if (t < nt)
          acc[t] = fmaf(wv, xt[static_cast<size_t>(t) * cols + e], acc[t]);
    }
  }
#pragma unroll
  for (int t = 0; t < NT; ++t)
    acc[t] = warp_sum(acc[t]);
  if (lane == 0) {
#pragma unroll
    for (int t = 0; t < NT; ++t) {
      if (t < nt) {
        float* out = y + static_cast<size_t>(t0 + t) * rows + r;
        *out = accumulate ? *out + acc[t] : acc[t];
      }
    }
  }
}

template <ggml_type T>
void launch(const device_matrix& w, const float* x, int n_tokens, float* y, bool accumulate) {
  const auto* data = static_cast<const uint8_t*>(w.data);
  const int rows = static_cast<int>(w.rows), cols = static_cast<int>(w.cols);
  const unsigned row_blocks = static_cast<unsigned>((rows + rows_per_block - 1) / rows_per_block);
  const dim3 threads(rows_per_block * warp_size);
  if (n_tokens == 1) {
    matmul_kernel<T, 1><<<dim3(row_blocks, 1), threads>>>(data, w.row_bytes, rows, cols, x, 1,
                                                           y, accumulate);
    return;
  }
  const unsigned tiles = static_cast<unsigned>((n_tokens + batch_tile - 1) / batch_tile);
  matmul_kernel<T, batch_tile><<<dim3(row_blocks, tiles), threads>>>(
    data, w.row_bytes, rows, cols, x, n_tokens, y, accumulate);
}

status invalid(const char* why) {
  return status::failure(status_code::invalid_argument, std::string{"matmul: "} + why);
}

} // namespace

bool matmul_supports(ggml_type t) noexcept {
  return dequant_supported(t);
}

status matmul_device(const device_matrix& w, const float* x, int64_t n_tokens, float* y,
                     bool accumulate) noexcept {
  if (n_tokens <= 0 || w.rows <= 0)
    return {};
  if (!matmul_supports(w.type))
    return invalid("unsupported weight type");
  const auto* traits = ggml_traits(static_cast<uint32_t>(w.type));
  if (w.cols <= 0 || w.cols % traits->block_size != 0
      || w.row_bytes != ggml_row_size(w.type, w.cols))
    return invalid("columns do not fit the type's blocks");
  if (w.data == nullptr || x == nullptr || y == nullptr)
    return invalid("null buffer");
  // Grid rows are capped at 65535 tiles of batch_tile tokens.
  if (w.rows > INT_MAX || w.cols > INT_MAX || n_tokens > int64_t{65535} * batch_tile)
    return invalid("shape too large");
  const int n = static_cast<int>(n_tokens);
  switch (w.type) {
  case ggml_type::f32: launch<ggml_type::f32>(w, x, n, y, accumulate); break;
  case ggml_type::f16: launch<ggml_type::f16>(w, x, n, y, accumulate); break;
  case ggml_type::bf16: launch<ggml_type::bf16>(w, x, n, y, accumulate); break;
  case ggml_type::q8_0: launch<ggml_type::q8_0>(w, x, n, y, accumulate); break;
  case ggml_type::q4_0: launch<ggml_type::q4_0>(w, x, n, y, accumulate); break;
  case ggml_type::q4_1: launch<ggml_type::q4_1>(w, x, n, y, accumulate); break;
  case ggml_type::q4_k: launch<ggml_type::q4_k>(w, x, n, y, accumulate); break;
  case ggml_type::q6_k: launch<ggml_type::q6_k>(w, x, n, y, accumulate); break;
  default: return invalid("unsupported weight type");
  }
  return cuda_launched("matmul: launch");
}

} // namespace troupe::gpu::cuda
