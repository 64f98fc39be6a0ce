#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "gpu/cpu/matmul.hpp"
#include "gpu/ggml_type.hpp"
#include "tests/gpu/rms_norm_reference.hpp"

// Helpers shared by the quantization, dot-product and matmul tests.

namespace troupe::gpu::test {

/// The weight types matmul supports, with the column counts they allow.
struct weight_type_case {
  ggml_type type;
  int64_t block; ///< columns must be a multiple of this
};

inline const std::vector<weight_type_case>& weight_types() {
  static const std::vector<weight_type_case> all = {
    {ggml_type::f32, 1},   {ggml_type::f16, 1},   {ggml_type::bf16, 1},
    {ggml_type::q8_0, 32}, {ggml_type::q4_0, 32}, {ggml_type::q4_1, 32},
    {ggml_type::q4_k, 256}, {ggml_type::q6_k, 256},
  };
  return all;
}

inline const char* type_name(ggml_type t) {
  return ggml_traits(static_cast<uint32_t>(t))->name.data();
}

/// Values from N(0, 1) with, every so often, a block-sized run of zeros, a
/// lone outlier, a run of one repeated value, or tiny magnitudes, so that
/// quantizers meet their edge cases.
inline std::vector<float> awkward_floats(size_t n, uint32_t seed) {
  std::mt19937 gen{seed};
  std::normal_distribution<float> normal{0.0f, 1.0f};
  std::uniform_int_distribution<int> pick{0, 9};
  std::vector<float> out(n);
  for (size_t i = 0; i < n; i += 32) {
    const int kind = pick(gen);
    for (size_t j = i; j < i + 32 && j < n; ++j) {
      const float v = normal(gen);
      switch (kind) {
      case 0: out[j] = 0.0f; break;
      case 1: out[j] = j == i + 5 ? 40.0f * v : v; break;
      case 2: out[j] = -1.25f; break;
      case 3: out[j] = 1e-6f * v; break;
      default: out[j] = v; break;
      }
    }
  }
  return out;
}

/// Random bytes: every bit pattern of quant bits, scales and mins.
inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 gen{seed};
  std::uniform_int_distribution<int> byte{0, 255};
  std::vector<uint8_t> out(n);
  for (auto& b : out)
    b = static_cast<uint8_t>(byte(gen));
  return out;
}

/// A zero-filled buffer whose start is 64-byte aligned, as act_q8 rows
/// need.
class aligned_bytes {
public:
  explicit aligned_bytes(size_t n)
    : p_(static_cast<uint8_t*>(::operator new(n + 1, std::align_val_t{64}))) {
    std::memset(p_, 0, n + 1);
  }
  ~aligned_bytes() { ::operator delete(p_, std::align_val_t{64}); }
  aligned_bytes(const aligned_bytes&) = delete;
  aligned_bytes& operator=(const aligned_bytes&) = delete;
  uint8_t* data() const { return p_; }

private:
  uint8_t* p_;
};

/// A weight matrix of `rows` x `cols` values of type `t`, quantized from
/// `values` (row-major floats).
struct weights {
  ggml_type type;
  int64_t rows, cols;
  std::vector<uint8_t> data;

  weights(ggml_type t, int64_t r, int64_t c, const std::vector<float>& values)
    : type(t), rows(r), cols(c), data(ggml_row_size(t, c) * r) {
    for (int64_t i = 0; i < r; ++i)
      cpu::quantize_row(t, values.data() + i * c, data.data() + i * row_bytes(), c);
  }

  size_t row_bytes() const { return ggml_row_size(type, cols); }

  cpu::weight_view view() const { return {type, rows, cols, row_bytes(), data.data()}; }

  std::vector<float> dequantized() const {
    std::vector<float> out(static_cast<size_t>(rows * cols));
    for (int64_t i = 0; i < rows; ++i)
      cpu::dequantize_row(type, data.data() + i * row_bytes(), out.data() + i * cols, cols);
    return out;
  }
};

/// What matmul should return within `bound`: the product of the dequantized
/// weights with the exact activations, in double, and a bound on the
/// error the activation quantization (8 bits per `act_block` values, scale
/// max|x| / 127) plus float rounding may add.
struct expected_product {
  std::vector<double> y;     // [n_tokens, rows]
  std::vector<double> bound; // [n_tokens, rows]
};

inline expected_product reference_matmul(const std::vector<float>& w, int64_t rows,
                                         int64_t cols, const std::vector<float>& x,
                                         int64_t n_tokens, int64_t act_block) {
  expected_product e{std::vector<double>(static_cast<size_t>(n_tokens * rows)),
                     std::vector<double>(static_cast<size_t>(n_tokens * rows))};
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xt = x.data() + t * cols;
    for (int64_t r = 0; r < rows; ++r) {
      const float* wr = w.data() + r * cols;
      double sum = 0.0, abs_sum = 0.0, quant_err = 0.0;
      for (int64_t b = 0; b < cols; b += act_block) {
        double amax = 0.0, w_abs = 0.0;
        for (int64_t i = b; i < b + act_block && i < cols; ++i) {
          sum += static_cast<double>(wr[i]) * xt[i];
          abs_sum += std::fabs(static_cast<double>(wr[i]) * xt[i]);
          amax = std::max(amax, std::fabs(static_cast<double>(xt[i])));
          w_abs += std::fabs(static_cast<double>(wr[i]));
        }
        if (act_block > 1)
          quant_err += amax / 127.0 / 2.0 * w_abs;
      }
      const size_t k = static_cast<size_t>(t * rows + r);
      e.y[k] = sum;
      e.bound[k] = 1.01 * quant_err + 2e-5 * (abs_sum + quant_err) + 1e-30;
    }
  }
  return e;
}

} // namespace troupe::gpu::test
