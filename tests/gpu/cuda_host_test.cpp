// Host-side checks of the CUDA backend's plain C++ parts, which run on
// every machine (label unit): the block decoders the kernels share
// (gpu/cuda/dequant.cuh) against cpu::dequantize_row, and the packing of a
// batch for the device (gpu/cuda/cuda_batch.hpp). The kernels themselves
// are checked by the cuda_* parity tests on a device.
#include "gpu/cuda/cuda_batch.hpp"
#include "gpu/cuda/dequant.cuh"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/cpu/matmul.hpp"
#include "gpu/cpu/quant_block.hpp"
#include "tests/gpu/quant_reference.hpp"

namespace troupe::gpu {
namespace {

bool same_value(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  return a == b || std::fabs(a - b) <= 1e-6f * std::max(std::fabs(a), std::fabs(b));
}

template <ggml_type T>
std::vector<float> decode_row(const uint8_t* row, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(cols));
  const int64_t chunks = cols / cuda::chunk_elems;
  for (int64_t c = 0; c < chunks; ++c)
    cuda::decode_chunk<T>(row, c, out.data() + c * cuda::chunk_elems);
  if constexpr (cuda::is_float_type(T)) {
    for (int64_t e = chunks * cuda::chunk_elems; e < cols; ++e)
      out[static_cast<size_t>(e)] = cuda::decode_element<T>(row, e);
  }
  return out;
}

std::vector<float> decode_row(ggml_type t, const uint8_t* row, int64_t cols) {
  switch (t) {
  case ggml_type::f32: return decode_row<ggml_type::f32>(row, cols);
  case ggml_type::f16: return decode_row<ggml_type::f16>(row, cols);
  case ggml_type::bf16: return decode_row<ggml_type::bf16>(row, cols);
  case ggml_type::q8_0: return decode_row<ggml_type::q8_0>(row, cols);
  case ggml_type::q4_0: return decode_row<ggml_type::q4_0>(row, cols);
  case ggml_type::q4_1: return decode_row<ggml_type::q4_1>(row, cols);
  case ggml_type::q4_k: return decode_row<ggml_type::q4_k>(row, cols);
  case ggml_type::q6_k: return decode_row<ggml_type::q6_k>(row, cols);
  default: return {};
  }
}

std::vector<int64_t> column_counts(int64_t block) {
  if (block == 1)
    return {1, 7, 8, 17, 64, 333};
  if (block == 32)
    return {32, 96, 544};
  return {256, 768};
}

// Byte offsets of each block's f16 scale fields, which random bytes must
// not turn into inf or NaN.
std::vector<size_t> scale_offsets(ggml_type t) {
  switch (t) {
  case ggml_type::q8_0:
  case ggml_type::q4_0: return {0};
  case ggml_type::q4_1:
  case ggml_type::q4_k: return {0, 2};
  case ggml_type::q6_k: return {208};
  default: return {};
  }
}

void expect_decodes_like_cpu(ggml_type t, const std::vector<uint8_t>& row, int64_t cols) {
  std::vector<float> want(static_cast<size_t>(cols));
  cpu::dequantize_row(t, row.data(), want.data(), cols);
  const auto got = decode_row(t, row.data(), cols);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_TRUE(same_value(got[i], want[i]))
      << "element " << i << ": decoded " << got[i] << ", cpu " << want[i];
}

TEST(dequant_host, quantized_rows_decode_as_on_the_cpu) {
  uint32_t seed = 500;
  for (const auto& c : test::weight_types()) {
    for (int64_t cols : column_counts(c.block)) {
      SCOPED_TRACE(testing::Message() << test::type_name(c.type) << " cols " << cols);
      const test::weights w(c.type, 1, cols, test::awkward_floats(size_t(cols), seed++));
      expect_decodes_like_cpu(c.type, w.data, cols);
    }
  }
}

// Random bytes reach every quant bit pattern and every 6-bit Q4_K scale and
// min, which quantized smooth data may not.
TEST(dequant_host, random_blocks_decode_as_on_the_cpu) {
  std::mt19937 gen{77};
  std::normal_distribution<float> normal{0.f, 0.1f};
  uint32_t seed = 900;
  for (const auto& c : test::weight_types()) {
    const auto* traits = ggml_traits(static_cast<uint32_t>(c.type));
    for (int64_t cols : column_counts(c.block)) {
      SCOPED_TRACE(testing::Message() << test::type_name(c.type) << " cols " << cols);
      auto row = test::random_bytes(ggml_row_size(c.type, cols), seed++);
      if (c.block > 1)
        for (size_t b = 0; b < row.size(); b += traits->type_size)
          for (size_t at : scale_offsets(c.type)) {
            const uint16_t h = cpu::f32_to_f16(normal(gen));
            std::memcpy(row.data() + b + at, &h, sizeof h);
          }
      expect_decodes_like_cpu(c.type, row, cols);
    }
  }
}

TEST(dequant_host, supported_types_are_the_matmul_types) {
  for (const auto& c : test::weight_types())
    EXPECT_TRUE(cuda::dequant_supported(c.type)) << test::type_name(c.type);
  EXPECT_FALSE(cuda::dequant_supported(ggml_type::q8_1));
  EXPECT_FALSE(cuda::dequant_supported(ggml_type::q8_k));
}

// --- stage_batch -----------------------------------------------------------

batch_token tok(int32_t token, int32_t pos, const std::vector<int32_t>& blocks, bool want) {
  return batch_token{token, pos, &blocks, want};
}

TEST(stage_batch, packs_tokens_positions_wanted_rows_and_shared_tables) {
  const int bt = 4;
  const std::vector<int32_t> a = {5, 2, 7, 9}, b = {1, 0};
  // A prompt chunk of sequence a at positions 8..10 and a decode step of b.
  const std::vector<batch_token> batch = {tok(11, 8, a, false), tok(12, 9, a, false),
                                          tok(13, 10, a, true), tok(14, 3, b, true)};
  cuda::staged_batch s;
  ASSERT_TRUE(cuda::stage_batch(batch, 100, bt, 10, s).ok());
  ASSERT_EQ(s.n_tokens, 4);
  ASSERT_EQ(s.n_want, 2);
  const auto& v = s.ints;
  // a needs blocks for positions up to 10 (3 entries), b up to 3 (1 entry).
  ASSERT_EQ(v.size(), s.tables_at() + 3 + 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(v[s.tokens_at() + i], batch[i].token);
    EXPECT_EQ(v[s.pos_at() + i], batch[i].pos);
    const int32_t at = v[s.table_at_at() + i];
    for (int32_t p = 0; p <= batch[i].pos; ++p)
      ASSERT_EQ(v[s.tables_at() + size_t(at + p / bt)], (*batch[i].blocks)[size_t(p / bt)])
        << "token " << i << " position " << p;
  }
  EXPECT_EQ(v[s.table_at_at() + 0], v[s.table_at_at() + 2]) << "one copy of a's table";
  EXPECT_EQ(v[s.want_at() + 0], 2);
  EXPECT_EQ(v[s.want_at() + 1], 3);
}

TEST(stage_batch, refuses_what_would_read_out_of_bounds) {
  const std::vector<int32_t> ok = {0, 1}, outside = {0, 10}, negative = {-1};
  struct bad_case {
    const char* what;
    batch_token t;
  };
  const bad_case cases[] = {
    {"token past the vocabulary", tok(100, 0, ok, true)},
    {"negative token", tok(-1, 0, ok, true)},
    {"negative position", tok(1, -1, ok, true)},
    {"position past the table", tok(1, 8, ok, true)},
    {"missing table", batch_token{1, 0, nullptr, true}},
    {"block id past the pool", tok(1, 5, outside, true)},
    {"negative block id", tok(1, 0, negative, true)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    cuda::staged_batch s;
    const std::vector<batch_token> batch = {tok(1, 0, ok, false), c.t};
    const auto st = cuda::stage_batch(batch, 100, 4, 10, s);
    EXPECT_EQ(st.code(), status_code::invalid_argument);
    EXPECT_FALSE(st.message().empty());
  }
  cuda::staged_batch s;
  EXPECT_TRUE(cuda::stage_batch({tok(99, 7, ok, true)}, 100, 4, 10, s).ok());
}

} // namespace
} // namespace troupe::gpu
