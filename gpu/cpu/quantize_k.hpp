#pragma once

#include "gpu/cpu/quant_block.hpp"

#include <cstdint>

// Scalar quantizers and dequantizers of the k-quant blocks, nb super-blocks
// of 256 values each. Internal to gpu/cpu/; quantize_row/dequantize_row
// are the public entry points.
//
// The quantizers are plain rounding, not ggml's error-minimising search, and
// never clip: sub-block scales and mins are rounded up, so every value lies
// inside its sub-block's quantized range. The element error is therefore at
// most half a quantization step:
//   Q4_K: |x - x'| <= d * sc[j] / 2, where d * sc[j] exceeds
//         (max_j - min(0, min_j)) / 15 by at most d + dmin / 15;
//   Q6_K: |x - x'| <= d * sc[j] / 2, where d * sc[j] exceeds
//         max_j |x| / 31 by at most d (d = the block's largest step / 127);
//   Q8_K: |x - x'| <= max|x| / 254.

namespace troupe::gpu::cpu {

void quantize_q4_k(const float* x, block_q4_k* out, int64_t nb);
void dequantize_q4_k(const block_q4_k* in, float* y, int64_t nb);

void quantize_q6_k(const float* x, block_q6_k* out, int64_t nb);
void dequantize_q6_k(const block_q6_k* in, float* y, int64_t nb);

/// Q8_K as the k-quant kernels expect it: |q| <= 127, bsums filled in.
void quantize_q8_k(const float* x, block_q8_k* out, int64_t nb);
void dequantize_q8_k(const block_q8_k* in, float* y, int64_t nb);

} // namespace troupe::gpu::cpu
