#pragma once

#include "gpu/cpu/thread_pool.hpp"
#include "gpu/ggml_type.hpp"

#include <cstddef>
#include <cstdint>

namespace troupe::gpu::cpu {

/// A weight matrix as stored in GGUF: `rows` rows of `cols` elements each,
/// row-major, every row `row_bytes` long, elements of type `type`.
/// GGUF's shape [ne0, ne1] is cols = ne0, rows = ne1.
/// Invariants: cols is a multiple of the type's block size;
/// row_bytes == ggml_row_size(type, cols); data outlives the view.
struct weight_view {
  ggml_type type = ggml_type::f32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const void* data = nullptr;

  const void* row(int64_t r) const {
    return static_cast<const char*>(data) + static_cast<size_t>(r) * row_bytes;
  }
};

/// y = x · wᵀ for a batch: y[t][r] = Σ_c w[r][c] · x[t][c], t < n_tokens.
/// x: [n_tokens, w.cols] f32, finite; y: [n_tokens, w.rows] f32 (may not
/// alias x). Preconditions: w.type is F32, F16, BF16, Q8_0, Q4_0, Q4_1,
/// Q4_K or Q6_K. Quantized weights take the activations quantized to 8 bits
/// as llama.cpp does: per 32 values (Q8_0's scheme, f32 scale) for
/// Q4_0/Q4_1/Q8_0, per 256 (Q8_K) for Q4_K/Q6_K; float weights take x as
/// is. Each weight row is read from memory once per call whatever n_tokens
/// is, so batching streams amortizes weight traffic. Splits rows across
/// `pool`; called by the pool's owner thread only.
/// Results are deterministic and bit-identical whatever the pool size and
/// whether a token is computed alone or in a batch; they differ between
/// SIMD levels only by float rounding.
void matmul(const weight_view& w, const float* x, int64_t n_tokens, float* y,
            thread_pool& pool);

/// Converts `n` elements of type `t` (any ggml_type) at `src` to f32. `n`
/// must be a multiple of the type's block size. For an embedding lookup:
/// dequantize_row(w.type, w.row(token), dst, w.cols).
void dequantize_row(ggml_type t, const void* src, float* dst, int64_t n);

/// Converts `n` finite f32 values to type `t` (F32, F16, BF16, Q8_0, Q4_0,
/// Q4_1, Q4_K, Q6_K, Q8_K), writing ggml_row_size(t, n) bytes. Used to
/// synthesize models and by tests. The k-quants use plain
/// rounding, not llama.cpp's error search; gpu/cpu/quantize_k.hpp states
/// their error bounds.
void quantize_row(ggml_type t, const float* src, void* dst, int64_t n);

/// The SIMD level chosen at run time: "avx512", "avx2" or "scalar". Setting
/// TROUPE_SIMD=scalar|avx2|avx512 in the environment caps it (for tests and
/// benchmarks).
const char* simd_level();

} // namespace troupe::gpu::cpu
