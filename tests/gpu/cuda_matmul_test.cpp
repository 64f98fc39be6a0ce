// CUDA matmul against its CPU twin: every weight type, row counts that
// leave partial blocks of four warps, columns that are and are not
// multiples of the decode chunk, and batches below, at and past the token
// tile. Two references: the double-precision product of the dequantized
// weights with the exact activations (what the device computes, so the
// bound is tight and catches a misplaced nibble or scale), and
// cpu::matmul (which quantizes the activations for quantized weights, so
// its own bound is added).
#include "gpu/cuda/matmul.cuh"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/cpu/matmul.hpp"
#include "gpu/cpu/thread_pool.hpp"
#include "tests/gpu/cuda_test_util.hpp"
#include "tests/gpu/quant_reference.hpp"

namespace troupe::gpu {
namespace {

struct shape {
  int64_t rows, n_tokens;
};

const shape shapes[] = {{1, 1}, {5, 1}, {37, 3}, {64, 8}, {67, 9}, {130, 17}};

std::vector<int64_t> column_counts(int64_t block) {
  if (block == 1)
    return {1, 17, 64, 172, 333};
  if (block == 32)
    return {32, 96, 544, 1376};
  return {256, 768, 2048};
}

int64_t act_block(ggml_type t) {
  switch (t) {
  case ggml_type::q8_0:
  case ggml_type::q4_0:
  case ggml_type::q4_1: return 32;
  case ggml_type::q4_k:
  case ggml_type::q6_k: return 256;
  default: return 1;
  }
}

cuda::device_matrix on_device(const test::weights& w, const cuda::device_buffer& data) {
  return {w.type, w.rows, w.cols, w.row_bytes(), data.data()};
}

TEST(cuda_matmul, matches_cpu_for_every_type_and_shape) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  cpu::thread_pool pool(2);
  uint32_t seed = 3000;
  for (const auto& c : test::weight_types()) {
    for (int64_t cols : column_counts(c.block)) {
      for (const shape& s : shapes) {
        SCOPED_TRACE(testing::Message() << test::type_name(c.type) << " " << s.rows << "x"
                                        << cols << " tokens " << s.n_tokens);
        const test::weights w(c.type, s.rows, cols,
                              test::awkward_floats(size_t(s.rows * cols), seed++));
        const auto x = test::random_floats(size_t(s.n_tokens * cols), seed++);
        const auto exact = test::reference_matmul(w.dequantized(), s.rows, cols, x, s.n_tokens, 1);
        const auto cpu_bound = test::reference_matmul(w.dequantized(), s.rows, cols, x,
                                                      s.n_tokens, act_block(c.type));
        std::vector<float> want(size_t(s.n_tokens * s.rows));
        cpu::matmul(w.view(), x.data(), s.n_tokens, want.data(), pool);

        cuda::device_buffer dw, dx, dy;
        ASSERT_NO_FATAL_FAILURE(test::to_device(w.data, dw));
        ASSERT_NO_FATAL_FAILURE(test::to_device(x, dx));
        ASSERT_NO_FATAL_FAILURE(test::device_zeros<float>(want.size(), dy));
        const auto st = cuda::matmul_device(on_device(w, dw), dx.as<float>(), s.n_tokens,
                                            dy.as<float>());
        ASSERT_TRUE(st.ok()) << st.message();
        std::vector<float> got;
        ASSERT_NO_FATAL_FAILURE(test::from_device(dy, want.size(), got));
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i], exact.y[i], exact.bound[i]) << "output " << i << " vs exact";
          ASSERT_NEAR(got[i], want[i], exact.bound[i] + cpu_bound.bound[i])
            << "output " << i << " vs cpu::matmul";
        }
      }
    }
  }
}

TEST(cuda_matmul, accumulate_adds_to_the_output) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const int64_t rows = 45, cols = 96, n_tokens = 11;
  const test::weights w(ggml_type::q4_1, rows, cols, test::awkward_floats(rows * cols, 41));
  const auto x = test::random_floats(size_t(n_tokens * cols), 42);
  const auto y0 = test::random_floats(size_t(n_tokens * rows), 43);
  const auto exact = test::reference_matmul(w.dequantized(), rows, cols, x, n_tokens, 1);
  cuda::device_buffer dw, dx, dy;
  ASSERT_NO_FATAL_FAILURE(test::to_device(w.data, dw));
  ASSERT_NO_FATAL_FAILURE(test::to_device(x, dx));
  ASSERT_NO_FATAL_FAILURE(test::to_device(y0, dy));
  ASSERT_TRUE(cuda::matmul_device(on_device(w, dw), dx.as<float>(), n_tokens, dy.as<float>(),
                                  true)
                .ok());
  std::vector<float> got;
  ASSERT_NO_FATAL_FAILURE(test::from_device(dy, y0.size(), got));
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], y0[i] + exact.y[i], exact.bound[i] + 1e-6 * std::fabs(y0[i])) << i;
}

TEST(cuda_matmul, a_token_gets_the_same_result_alone_or_in_a_batch) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const int64_t rows = 33, cols = 512, n_tokens = 13;
  for (const auto& c : test::weight_types()) {
    SCOPED_TRACE(test::type_name(c.type));
    const test::weights w(c.type, rows, cols, test::awkward_floats(rows * cols, 51));
    const auto x = test::random_floats(size_t(n_tokens * cols), 52);
    cuda::device_buffer dw, dx, dy, d1;
    ASSERT_NO_FATAL_FAILURE(test::to_device(w.data, dw));
    ASSERT_NO_FATAL_FAILURE(test::to_device(x, dx));
    ASSERT_NO_FATAL_FAILURE(test::device_zeros<float>(size_t(n_tokens * rows), dy));
    ASSERT_NO_FATAL_FAILURE(test::device_zeros<float>(size_t(rows), d1));
    ASSERT_TRUE(cuda::matmul_device(on_device(w, dw), dx.as<float>(), n_tokens, dy.as<float>())
                  .ok());
    std::vector<float> batched, single;
    ASSERT_NO_FATAL_FAILURE(test::from_device(dy, size_t(n_tokens * rows), batched));
    for (int64_t t = 0; t < n_tokens; ++t) {
      ASSERT_TRUE(cuda::matmul_device(on_device(w, dw), dx.as<float>() + t * cols, 1,
                                      d1.as<float>())
                    .ok());
      ASSERT_NO_FATAL_FAILURE(test::from_device(d1, size_t(rows), single));
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_NEAR(batched[size_t(t * rows + r)], single[size_t(r)],
                    1e-6f * (1.f + std::fabs(single[size_t(r)])))
          << "token " << t << " row " << r;
    }
  }
}

TEST(cuda_matmul, bad_arguments_are_values) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  cuda::device_buffer buf;
  ASSERT_TRUE(buf.allocate(4096).ok());
  auto* p = buf.as<float>();
  cuda::device_matrix m{ggml_type::q8_k, 4, 256, ggml_row_size(ggml_type::q8_k, 256), p};
  EXPECT_EQ(cuda::matmul_device(m, p, 1, p).code(), status_code::invalid_argument);
  m = {ggml_type::q8_0, 4, 48, 0, p};
  EXPECT_EQ(cuda::matmul_device(m, p, 1, p).code(), status_code::invalid_argument);
  m = {ggml_type::f32, 4, 8, 32, nullptr};
  EXPECT_EQ(cuda::matmul_device(m, p, 1, p).code(), status_code::invalid_argument);
  EXPECT_TRUE(cuda::matmul_device(m, p, 0, p).ok()) << "an empty batch is a no-op";
}

} // namespace
} // namespace troupe::gpu
