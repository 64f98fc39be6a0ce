#include "gpu/cpu/kernels.hpp"
#include "gpu/cpu/matmul.hpp"
#include "gpu/cpu/thread_pool.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/gpu/quant_reference.hpp"

// matmul against a double-precision product of the dequantized weights,
// for every type, SIMD level, tile remainder and thread count.

namespace troupe::gpu {
namespace {

struct shape {
  int64_t rows, n_tokens;
};

// Rows that leave every tile remainder and an odd split between threads;
// token counts below, at and past the tile widths.
const shape shapes[] = {{1, 1}, {3, 2}, {7, 17}, {37, 5}, {130, 16}, {5, 3}};

std::vector<int64_t> column_counts(int64_t block) {
  if (block == 1)
    return {1, 17, 64, 172, 512};
  if (block == 32)
    return {32, 96, 544, 1376, 4096};
  return {256, 768, 4096};
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

std::string level_name(cpu::simd s) {
  return s == cpu::simd::avx512 ? "avx512" : s == cpu::simd::avx2 ? "avx2" : "scalar";
}

class cpu_matmul : public testing::TestWithParam<cpu::simd> {};

TEST_P(cpu_matmul, matches_double_reference_with_one_and_two_threads) {
  const cpu::kernel_set* ks = cpu::kernels_for(GetParam());
  if (!ks)
    GTEST_SKIP() << "this CPU or build lacks the level";
  cpu::thread_pool one(1), two(2);
  uint32_t seed = 1;
  for (const auto& c : test::weight_types()) {
    for (int64_t cols : column_counts(c.block)) {
      for (const shape& s : shapes) {
        if (cols * s.rows * s.n_tokens > (int64_t{1} << 22))
          continue; // the reference is slow; the large cases add nothing
        SCOPED_TRACE(testing::Message() << test::type_name(c.type) << " " << s.rows << "x"
                                        << cols << " tokens " << s.n_tokens);
        const test::weights w(c.type, s.rows, cols,
                              test::awkward_floats(size_t(s.rows * cols), seed++));
        const auto x = test::random_floats(size_t(s.n_tokens * cols), seed++);
        const auto want = test::reference_matmul(w.dequantized(), s.rows, cols, x, s.n_tokens,
                                                 act_block(c.type));
        std::vector<float> y1(size_t(s.n_tokens * s.rows), NAN), y2(y1.size(), NAN);
        cpu::matmul_with(*ks, w.view(), x.data(), s.n_tokens, y1.data(), one);
        cpu::matmul_with(*ks, w.view(), x.data(), s.n_tokens, y2.data(), two);
        for (size_t i = 0; i < y1.size(); ++i) {
          ASSERT_NEAR(y1[i], want.y[i], want.bound[i]) << "output " << i;
          ASSERT_EQ(y1[i], y2[i]) << "thread count changed output " << i;
        }
      }
    }
  }
}

TEST_P(cpu_matmul, batching_does_not_change_any_token) {
  const cpu::kernel_set* ks = cpu::kernels_for(GetParam());
  if (!ks)
    GTEST_SKIP() << "this CPU or build lacks the level";
  cpu::thread_pool pool(2);
  const int64_t rows = 45, cols = 512, n_tokens = 17;
  for (const auto& c : test::weight_types()) {
    SCOPED_TRACE(test::type_name(c.type));
    const test::weights w(c.type, rows, cols, test::awkward_floats(rows * cols, 11));
    const auto x = test::awkward_floats(n_tokens * cols, 12);
    std::vector<float> batched(n_tokens * rows), single(rows);
    cpu::matmul_with(*ks, w.view(), x.data(), n_tokens, batched.data(), pool);
    for (int64_t t = 0; t < n_tokens; ++t) {
      cpu::matmul_with(*ks, w.view(), x.data() + t * cols, 1, single.data(), pool);
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_EQ(batched[t * rows + r], single[r]) << "token " << t << " row " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(levels, cpu_matmul,
                         testing::Values(cpu::simd::scalar, cpu::simd::avx2, cpu::simd::avx512),
                         [](const testing::TestParamInfo<cpu::simd>& info) {
                           return level_name(info.param);
                         });

TEST(cpu_matmul_public, uses_the_active_level_and_skips_empty_batches) {
  cpu::thread_pool pool(2);
  const int64_t rows = 9, cols = 64;
  const test::weights w(ggml_type::q8_0, rows, cols, test::random_floats(rows * cols, 21));
  const auto x = test::random_floats(cols * 2, 22);
  std::vector<float> y(rows * 2, NAN), ref(rows * 2, NAN);
  cpu::matmul(w.view(), x.data(), 0, y.data(), pool);
  EXPECT_TRUE(std::isnan(y[0]));
  cpu::matmul(w.view(), x.data(), 2, y.data(), pool);
  cpu::matmul_with(cpu::kernels_active(), w.view(), x.data(), 2, ref.data(), pool);
  EXPECT_EQ(y, ref);
}

TEST(cpu_matmul_public, dequantize_row_reads_an_embedding_row) {
  const int64_t rows = 4, cols = 64;
  const auto values = test::random_floats(rows * cols, 23);
  const test::weights w(ggml_type::q8_0, rows, cols, values);
  std::vector<float> row(cols);
  cpu::dequantize_row(ggml_type::q8_0, w.view().row(2), row.data(), cols);
  for (int64_t i = 0; i < cols; ++i)
    EXPECT_NEAR(row[i], values[2 * cols + i], 0.02);
}

} // namespace
} // namespace troupe::gpu
