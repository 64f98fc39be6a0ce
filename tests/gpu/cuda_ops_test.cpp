// The CUDA backend's small kernels against their CPU twins: RoPE and
// SwiGLU as the CPU forward computes them (gpu/model/llama_forward.cpp),
// the embedding gather against cpu::dequantize_row, and argmax against the
// sampler's greedy rule (std::max_element: lowest id on ties).
#include "gpu/cuda/argmax.cuh"
#include "gpu/cuda/gather_rows.cuh"
#include "gpu/cuda/rope.cuh"
#include "gpu/cuda/swiglu.cuh"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/cpu/matmul.hpp"
#include "tests/gpu/cuda_test_util.hpp"
#include "tests/gpu/quant_reference.hpp"

namespace troupe::gpu {
namespace {

// The CPU forward's rope, written out: pairs (2i, 2i+1) of the first n_rot
// dims of each head, angle (pos / scale) * base^(-2i / n_rot).
void rope_reference(float* v, int n_heads, int head_dim, int n_rot, float base, float scale,
                    int32_t pos) {
  const float p = static_cast<float>(pos) / scale;
  for (int i = 0; i < n_rot / 2; ++i) {
    const float theta = p * std::pow(base, -2.f * i / static_cast<float>(n_rot));
    const float c = std::cos(theta), s = std::sin(theta);
    for (int h = 0; h < n_heads; ++h) {
      float* x = v + static_cast<size_t>(h) * head_dim + 2 * i;
      const float x0 = x[0], x1 = x[1];
      x[0] = x0 * c - x1 * s;
      x[1] = x0 * s + x1 * c;
    }
  }
}

TEST(cuda_rope, matches_the_cpu_forward) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  struct rope_case {
    int n_heads, head_dim, n_rot;
    float base, scale;
  };
  const rope_case cases[] = {
    {4, 16, 16, 10000.f, 1.f}, {3, 64, 64, 500000.f, 1.f}, {2, 128, 96, 10000.f, 4.f},
    {5, 6, 2, 10000.f, 1.f}};
  const std::vector<int32_t> pos = {0, 1, 2, 17, 255, 1000, 4095, 31337};
  uint32_t seed = 70;
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << c.n_heads << " heads of " << c.head_dim << ", n_rot "
                                    << c.n_rot << ", scale " << c.scale);
    const int n = static_cast<int>(pos.size());
    const size_t row = size_t(c.n_heads) * c.head_dim;
    auto want = test::random_floats(row * n, seed++);
    const auto input = want;
    for (int t = 0; t < n; ++t)
      rope_reference(want.data() + row * t, c.n_heads, c.head_dim, c.n_rot, c.base, c.scale,
                     pos[size_t(t)]);
    cuda::device_buffer dv, dpos, dfreq;
    ASSERT_NO_FATAL_FAILURE(test::to_device(input, dv));
    ASSERT_NO_FATAL_FAILURE(test::to_device(pos, dpos));
    ASSERT_NO_FATAL_FAILURE(test::to_device(cuda::rope_inv_freq(c.n_rot, c.base), dfreq));
    const auto st = cuda::rope_device(dv.as<float>(), dpos.as<int32_t>(), dfreq.as<float>(),
                                      {n, c.n_heads, c.head_dim, c.n_rot, c.scale});
    ASSERT_TRUE(st.ok()) << st.message();
    std::vector<float> got;
    ASSERT_NO_FATAL_FAILURE(test::from_device(dv, want.size(), got));
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-6f * (1.f + std::fabs(input[i]) + std::fabs(want[i])))
        << "token " << i / row << " element " << i % row;
  }
}

TEST(cuda_rope, bad_shapes_are_values) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  cuda::device_buffer b;
  ASSERT_TRUE(b.allocate(1024).ok());
  const auto* i = b.as<int32_t>();
  EXPECT_EQ(cuda::rope_device(b.as<float>(), i, b.as<float>(), {1, 1, 8, 3, 1.f}).code(),
            status_code::invalid_argument);
  EXPECT_EQ(cuda::rope_device(b.as<float>(), i, b.as<float>(), {1, 1, 8, 10, 1.f}).code(),
            status_code::invalid_argument);
}

TEST(cuda_swiglu, matches_the_cpu_forward) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  for (int64_t n : {1, 31, 160, 1000, 70001}) {
    SCOPED_TRACE(n);
    auto gate = test::random_floats(size_t(n), uint32_t(n), 0.f, 4.f);
    const auto up = test::random_floats(size_t(n), uint32_t(n) + 1);
    cuda::device_buffer dg, du;
    ASSERT_NO_FATAL_FAILURE(test::to_device(gate, dg));
    ASSERT_NO_FATAL_FAILURE(test::to_device(up, du));
    ASSERT_TRUE(cuda::swiglu_device(dg.as<float>(), du.as<float>(), n).ok());
    std::vector<float> got;
    ASSERT_NO_FATAL_FAILURE(test::from_device(dg, size_t(n), got));
    for (size_t i = 0; i < gate.size(); ++i) {
      const float g = gate[i];
      const float want = g / (1.f + std::exp(-g)) * up[i];
      ASSERT_NEAR(got[i], want, 1e-6f * (1.f + std::fabs(want))) << i;
    }
  }
}

TEST(cuda_gather_rows, matches_dequantize_row_for_every_type) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  uint32_t seed = 80;
  for (const auto& c : test::weight_types()) {
    for (int64_t cols : {c.block == 1 ? int64_t{77} : c.block, c.block == 256 ? int64_t{512} : int64_t{288}}) {
      SCOPED_TRACE(testing::Message() << test::type_name(c.type) << " cols " << cols);
      const int64_t rows = 9;
      const test::weights w(c.type, rows, cols, test::awkward_floats(size_t(rows * cols), seed++));
      const std::vector<int32_t> ids = {3, 0, 8, 3, 9, -1, 5};
      cuda::device_buffer dw, dids, dout;
      ASSERT_NO_FATAL_FAILURE(test::to_device(w.data, dw));
      ASSERT_NO_FATAL_FAILURE(test::to_device(ids, dids));
      ASSERT_NO_FATAL_FAILURE(test::device_zeros<float>(ids.size() * size_t(cols), dout));
      const cuda::device_matrix m{c.type, rows, cols, w.row_bytes(), dw.data()};
      const auto st = cuda::gather_rows_device(m, dids.as<int32_t>(), int64_t(ids.size()),
                                               dout.as<float>());
      ASSERT_TRUE(st.ok()) << st.message();
      std::vector<float> got, want(static_cast<size_t>(cols));
      ASSERT_NO_FATAL_FAILURE(test::from_device(dout, ids.size() * size_t(cols), got));
      for (size_t r = 0; r < ids.size(); ++r) {
        const bool inside = ids[r] >= 0 && ids[r] < rows;
        if (inside)
          cpu::dequantize_row(c.type, w.view().row(ids[r]), want.data(), cols);
        for (size_t e = 0; e < size_t(cols); ++e) {
          const float g = got[r * size_t(cols) + e];
          if (!inside)
            ASSERT_TRUE(std::isnan(g)) << "id " << ids[r] << " is outside; element " << e;
          else
            ASSERT_NEAR(g, want[e], 1e-6f * std::fabs(want[e]) + 1e-30f)
              << "output row " << r << " element " << e;
        }
      }
    }
  }
}

TEST(cuda_argmax, picks_the_lowest_index_of_the_maximum_like_the_sampler) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t cols : {1, 7, 256, 257, 32000}) {
    SCOPED_TRACE(cols);
    const int64_t rows = 6;
    auto x = test::random_floats(size_t(rows * cols), uint32_t(cols));
    auto row = [&](int64_t r) { return x.begin() + r * cols; };
    // Row 1: a tie between the last element and one in the middle.
    x[size_t(cols + cols - 1)] = 100.f;
    x[size_t(cols + cols / 2)] = 100.f;
    // Row 2: all -inf. Row 3: NaN around a maximum. Row 4: all NaN.
    std::fill(row(2), row(3), -inf);
    std::fill(row(3), row(4), nan);
    x[size_t(3 * cols + cols - 1)] = -5.f;
    std::fill(row(4), row(5), nan);
    std::vector<int32_t> want(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      int32_t best = -1;
      for (int64_t c = 0; c < cols; ++c) {
        const float v = x[size_t(r * cols + c)];
        if (!std::isnan(v) && (best < 0 || v > x[size_t(r * cols + best)]))
          best = int32_t(c);
      }
      want[size_t(r)] = best;
    }
    EXPECT_EQ(want[1], cols / 2) << "the reference itself breaks ties low";
    EXPECT_EQ(want[4], -1);
    // Where no NaN is involved the reference is the sampler's max_element.
    for (int64_t r : {0, 1, 2, 5})
      EXPECT_EQ(want[size_t(r)], std::max_element(row(r), row(r + 1)) - row(r));
    cuda::device_buffer dx, dout;
    ASSERT_NO_FATAL_FAILURE(test::to_device(x, dx));
    ASSERT_NO_FATAL_FAILURE(test::device_zeros<int32_t>(size_t(rows), dout));
    ASSERT_TRUE(cuda::argmax_device(dx.as<float>(), rows, cols, dout.as<int32_t>()).ok());
    std::vector<int32_t> got;
    ASSERT_NO_FATAL_FAILURE(test::from_device(dout, size_t(rows), got));
    EXPECT_EQ(got, want);
  }
}

} // namespace
} // namespace troupe::gpu
