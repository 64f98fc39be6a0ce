#include "gpu/cuda/gather_rows.cuh"

#include <climits>
#include <cmath>

#include <cuda_runtime.h>

#include "gpu/cuda/cuda_check.hpp"
#include "gpu/cuda/dequant.cuh"

namespace troupe::gpu::cuda {

namespace {

constexpr int gather_threads = 128;

// One block per output row; threads stride over its chunks (quantized
// types) or elements (float types).
template <ggml_type T>
__global__ void gather_kernel(const uint8_t* __restrict__ table, size_t row_bytes, int rows,
                              int cols, const int32_t* __restrict__ ids,
                              float* __restrict__ out) {
  const int32_t id = ids[blockIdx.x];
  float* dst = out + static_cast<size_t>(blockIdx.x) * cols;
  if (id < 0 || id >= rows) {
    for (int e = static_cast<int>(threadIdx.x); e < cols; e += gather_threads)
      dst[e] = NAN;
    return;
  }
  const uint8_t* row = table + static_cast<size_t>(id) * row_bytes;
  if constexpr (is_float_type(T)) {
    for (int e = static_cast<int>(threadIdx.x); e < cols; e += gather_threads)
      dst[e] = decode_element<T>(row, e);
  } else {
    for (int c = static_cast<int>(threadIdx.x); c < cols / chunk_elems; c += gather_threads)
      decode_chunk<T>(row, c, dst + chunk_elems * c);
  }
}

template <ggml_type T>
void launch(const device_matrix& m, const int32_t* ids, int64_t n, float* out) {
  gather_kernel<T><<<static_cast<unsigned>(n), gather_threads>>>(
    static_cast<const uint8_t*>(m.data), m.row_bytes, static_cast<int>(m.rows),
    static_cast<int>(m.cols), ids, out);
}

status invalid(const char* why) {
  return status::failure(status_code::invalid_argument, std::string{"gather_rows: "} + why);
}

} // namespace

status gather_rows_device(const device_matrix& m, const int32_t* ids, int64_t n,
                          float* out) noexcept {
  if (n <= 0)
    return {};
  if (!dequant_supported(m.type))
    return invalid("unsupported type");
  const auto* traits = ggml_traits(static_cast<uint32_t>(m.type));
  if (m.cols <= 0 || m.cols % traits->block_size != 0
      || m.row_bytes != ggml_row_size(m.type, m.cols))
    return invalid("columns do not fit the type's blocks");
  if (m.rows > INT_MAX || m.cols > INT_MAX || n > INT_MAX)
    return invalid("shape too large");
  if (m.data == nullptr || ids == nullptr || out == nullptr)
    return invalid("null buffer");
  switch (m.type) {
  case ggml_type::f32: launch<ggml_type::f32>(m, ids, n, out); break;
  case ggml_type::f16: launch<ggml_type::f16>(m, ids, n, out); break;
  case ggml_type::bf16: launch<ggml_type::bf16>(m, ids, n, out); break;
  case ggml_type::q8_0: launch<ggml_type::q8_0>(m, ids, n, out); break;
  case ggml_type::q4_0: launch<ggml_type::q4_0>(m, ids, n, out); break;
  case ggml_type::q4_1: launch<ggml_type::q4_1>(m, ids, n, out); break;
  case ggml_type::q4_k: launch<ggml_type::q4_k>(m, ids, n, out); break;
  case ggml_type::q6_k: launch<ggml_type::q6_k>(m, ids, n, out); break;
  default: return invalid("unsupported type");
  }
  return cuda_launched("gather_rows: launch");
}

} // namespace troupe::gpu::cuda
