#pragma once

#include <cstddef>
#include <cstdint>

#include "gpu/ggml_type.hpp"
#include "gpu/status.hpp"

// The CUDA twin of gpu::cpu::matmul: dequantizing matrix-vector and
// matrix-matrix products with weights kept in their GGUF format on the
// device. The interface holds no CUDA types.

namespace troupe::gpu::cuda {

/// A weight matrix in device memory, laid out as cpu::weight_view:
/// `rows` rows of `cols` elements of `type`, row r at data + r * row_bytes.
/// Invariants: cols is a multiple of the type's block size; row_bytes ==
/// ggml_row_size(type, cols); data is device memory aligned to 4 bytes.
struct device_matrix {
  ggml_type type = ggml_type::f32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const void* data = nullptr;
};

/// True for the weight types matmul_device reads: F32, F16, BF16, Q8_0,
/// Q4_0, Q4_1, Q4_K, Q6_K.
bool matmul_supports(ggml_type t) noexcept;

/// y[t][r] = Σ_c w[r][c] · x[t][c] for t < n_tokens, plus the old y[t][r]
/// when `accumulate` (a residual add). x: [n_tokens, w.cols] f32 and y:
/// [n_tokens, w.rows] f32, device memory, not overlapping. Unlike the CPU
/// twin the activations stay f32 (the CPU quantizes them to 8 bits for
/// quantized weights), and sums run in f32 per warp; every token's result
/// is computed the same way whatever n_tokens is.
/// Enqueues on the default stream of the current device and returns
/// without waiting: invalid_argument for a bad shape or type, cuda_error
/// when the launch fails. Never throws.
status matmul_device(const device_matrix& w, const float* x, int64_t n_tokens, float* y,
                     bool accumulate = false) noexcept;

} // namespace troupe::gpu::cuda
