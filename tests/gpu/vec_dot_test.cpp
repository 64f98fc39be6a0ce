#include "gpu/cpu/kernels.hpp"
#include "gpu/cpu/quant_block.hpp"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "tests/gpu/quant_reference.hpp"

// Every SIMD level's tile kernels against the scalar reference, for every
// tile size each level uses, on quantized and on raw random blocks.

namespace troupe::gpu {
namespace {

using cpu::act_kind;
using cpu::f16_to_f32;

// Activation rows as kernels of kind `k` read them (quantized by `ks`),
// and their values.
struct activations {
  size_t stride;
  test::aligned_bytes bytes;
  std::vector<double> values; // [rows, n], dequantized

  activations(const cpu::kernel_set& ks, act_kind k, int64_t n, int rows, uint32_t seed)
    : stride(row_stride(k, n)), bytes(stride * rows), values(static_cast<size_t>(n) * rows) {
    const auto x = test::awkward_floats(static_cast<size_t>(n) * rows, seed);
    std::vector<float> y(n);
    for (int r = 0; r < rows; ++r) {
      uint8_t* row = bytes.data() + r * stride;
      const float* xr = x.data() + r * n;
      if (k == act_kind::f32) {
        std::memcpy(row, xr, n * sizeof(float));
        y.assign(xr, xr + n);
      } else if (k == act_kind::q8_k) {
        ks.quantize_q8_k(xr, row, n);
        cpu::dequantize_row(ggml_type::q8_k, row, y.data(), n);
      } else {
        ks.quantizer(k)(xr, row, n);
        const cpu::act_q8_row a = cpu::act_q8_at(row, n);
        for (int64_t i = 0; i < n; ++i)
          y[i] = a.qs[k == act_kind::q8x4 ? cpu::act_q8x4_offset(i) : i] * a.d[i / 32];
      }
      std::copy(y.begin(), y.end(), values.begin() + r * n);
    }
  }

  static size_t row_stride(act_kind k, int64_t n) {
    switch (k) {
    case act_kind::f32: return n * sizeof(float);
    case act_kind::q8:
    case act_kind::q8x4: return cpu::act_q8_row_bytes(n);
    case act_kind::q8_k: return ggml_row_size(ggml_type::q8_k, n);
    }
    return 0;
  }
};

uint16_t random_half(std::mt19937& gen, float lo, float hi) {
  std::uniform_real_distribution<float> mag{lo, hi};
  return cpu::f32_to_f16(gen() % 2 ? mag(gen) : -mag(gen));
}

// Random blocks with finite scales: every quant bit pattern occurs,
// including Q8_0's -128 and all 6-bit scales and mins.
std::vector<uint8_t> raw_weights(ggml_type t, int64_t n, int rows, uint32_t seed) {
  auto data = test::random_bytes(ggml_row_size(t, n) * rows, seed);
  std::mt19937 gen{seed};
  const auto* tr = ggml_traits(static_cast<uint32_t>(t));
  for (size_t off = 0; off < data.size(); off += tr->type_size) {
    uint16_t h[2] = {random_half(gen, 0.01f, 1.0f), random_half(gen, 0.0f, 1.0f)};
    switch (t) {
    case ggml_type::q8_0:
    case ggml_type::q4_0: std::memcpy(&data[off], h, 2); break;
    case ggml_type::q4_1: std::memcpy(&data[off], h, 4); break;
    case ggml_type::q4_k: std::memcpy(&data[off], h, 4); break;
    case ggml_type::q6_k: std::memcpy(&data[off + 208], h, 2); break;
    default: break;
    }
  }
  return data;
}

// Per element, the largest |term| a kernel may add for that weight before
// the per-block constants cancel: the scale the float rounding works at.
std::vector<double> term_sizes(ggml_type t, const uint8_t* w, int64_t n) {
  std::vector<double> out(n);
  std::vector<float> v(n);
  cpu::dequantize_row(t, w, v.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    double m = std::fabs(v[i]);
    if (t == ggml_type::q8_0) {
      m = 128 * std::fabs(f16_to_f32(reinterpret_cast<const cpu::block_q8_0*>(w)[i / 32].d));
    } else if (t == ggml_type::q4_0) {
      m = 16 * std::fabs(f16_to_f32(reinterpret_cast<const cpu::block_q4_0*>(w)[i / 32].d));
    } else if (t == ggml_type::q4_1) {
      const auto& b = reinterpret_cast<const cpu::block_q4_1*>(w)[i / 32];
      m = 15 * std::fabs(f16_to_f32(b.d)) + std::fabs(f16_to_f32(b.m));
    } else if (t == ggml_type::q4_k) {
      const auto& b = reinterpret_cast<const cpu::block_q4_k*>(w)[i / 256];
      uint8_t sc, mn;
      cpu::q4_k_scale_min(b.scales, static_cast<int>(i % 256 / 32), sc, mn);
      m = 15.0 * std::fabs(f16_to_f32(b.d)) * sc + std::fabs(f16_to_f32(b.dmin)) * mn;
    } else if (t == ggml_type::q6_k) {
      const auto& b = reinterpret_cast<const cpu::block_q6_k*>(w)[i / 256];
      m = 64.0 * std::fabs(f16_to_f32(b.d) * b.scales[i % 256 / 16]);
    }
    out[i] = m;
  }
  return out;
}

std::vector<int64_t> column_counts(int64_t block) {
  if (block == 1)
    return {1, 7, 8, 15, 16, 17, 33, 64, 172, 1000};
  if (block == 32)
    return {32, 64, 96, 480, 512, 544, 1376, 4096};
  return {256, 512, 768, 4096};
}

class cpu_vec_dot : public testing::TestWithParam<cpu::simd> {};

void check_type(const cpu::kernel_set& ks, const test::weight_type_case& c, bool raw) {
  const cpu::type_kernel& ref = *cpu::kernels_scalar().find(c.type);
  const cpu::type_kernel& k = *ks.find(c.type);
  uint32_t seed = 100;
  for (int64_t n : column_counts(c.block)) {
    // Token counts up to two groups and a remainder past the kernel's width.
    const int rows = k.max_rows, toks = 2 * k.max_tokens + 1;
    std::vector<uint8_t> w;
    if (raw) {
      w = raw_weights(c.type, n, rows, seed++);
    } else {
      const test::weights q(c.type, rows, n, test::awkward_floats(size_t(n) * rows, seed++));
      w = q.data;
    }
    const size_t w_stride = ggml_row_size(c.type, n);
    // The same values in each kernel's layout (quantization is bit-exact
    // across levels).
    const activations x(ks, k.act, n, toks, seed), xr(cpu::kernels_scalar(), ref.act, n, toks, seed);
    ++seed;
    ASSERT_EQ(x.values, xr.values);
    test::aligned_bytes scratch(k.scratch_bytes ? k.scratch_bytes(n) : 0);
    std::vector<std::vector<double>> sizes(rows);
    for (int r = 0; r < rows; ++r)
      sizes[r] = term_sizes(c.type, w.data() + r * w_stride, n);
    for (int nr = 1; nr <= rows; ++nr)
      for (int nt = 1; nt <= toks; ++nt) {
        SCOPED_TRACE(testing::Message() << test::type_name(c.type) << " n=" << n << " tile "
                                        << nr << "x" << nt << (raw ? " raw" : ""));
        std::vector<float> got(nr * nt, NAN), want(nr * nt, NAN);
        cpu::tile_args a{n,  w.data(),  w_stride, nr, x.bytes.data(), x.stride,
                         nt, got.data(), nr,      scratch.data()};
        k.tile(a);
        for (int r = 0; r < nr; ++r)
          for (int t = 0; t < nt; ++t) {
            cpu::tile_args one{n,       w.data() + r * w_stride, w_stride,          1,
                               xr.bytes.data() + t * xr.stride, xr.stride, 1, &want[t * nr + r],
                               1,       nullptr};
            ref.tile(one);
            double mag = 0.0;
            for (int64_t i = 0; i < n; ++i)
              mag += sizes[r][i] * std::fabs(x.values[t * n + i]);
            const double adds = c.block == 1 ? double(n) : double(n / c.block);
            const double tol = 4 * std::ldexp(1.0, -24) * (adds + 16) * mag + 1e-30;
            ASSERT_NEAR(got[t * nr + r], want[t * nr + r], tol) << "row " << r << " token " << t;
          }
      }
  }
}

TEST_P(cpu_vec_dot, matches_scalar_on_quantized_weights) {
  const cpu::kernel_set* ks = cpu::kernels_for(GetParam());
  if (!ks)
    GTEST_SKIP() << "this CPU or build lacks the level";
  for (const auto& c : test::weight_types())
    check_type(*ks, c, false);
}

TEST_P(cpu_vec_dot, matches_scalar_on_raw_blocks) {
  const cpu::kernel_set* ks = cpu::kernels_for(GetParam());
  if (!ks)
    GTEST_SKIP() << "this CPU or build lacks the level";
  for (const auto& c : test::weight_types())
    if (c.block > 1)
      check_type(*ks, c, true);
}

TEST_P(cpu_vec_dot, activation_quantizers_write_the_scalar_bytes) {
  const cpu::kernel_set* ks = cpu::kernels_for(GetParam());
  if (!ks)
    GTEST_SKIP() << "this CPU or build lacks the level";
  const cpu::kernel_set& ref = cpu::kernels_scalar();
  for (int64_t n : {32, 96, 256, 512, 1376, 4096}) {
    const auto x = test::awkward_floats(n, static_cast<uint32_t>(n));
    for (act_kind k : {act_kind::q8, act_kind::q8x4, act_kind::q8_k}) {
      if (k == act_kind::q8_k && n % 256 != 0)
        continue;
      const size_t bytes = activations::row_stride(k, n);
      test::aligned_bytes a(bytes), b(bytes);
      std::memset(a.data(), 0x5A, bytes); // padding must be written, not inherited
      ks->quantizer(k)(x.data(), a.data(), n);
      ref.quantizer(k)(x.data(), b.data(), n);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), bytes), 0)
        << "kind " << static_cast<int>(k) << ", n=" << n;
    }
  }
}

TEST(cpu_act_q8, x4_layout_holds_the_same_values) {
  const int64_t n = 1376; // 43 blocks: a partial last quad and padding
  const auto x = test::awkward_floats(n, 9);
  test::aligned_bytes plain(cpu::act_q8_row_bytes(n)), quads(cpu::act_q8_row_bytes(n));
  cpu::quantize_act_q8(x.data(), plain.data(), n);
  cpu::quantize_act_q8x4(x.data(), quads.data(), n);
  const cpu::act_q8_row p = cpu::act_q8_at(plain.data(), n), q = cpu::act_q8_at(quads.data(), n);
  std::vector<bool> used(cpu::act_q8_blocks(n) * 32, false);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(p.qs[i], q.qs[cpu::act_q8x4_offset(i)]) << i;
    used[cpu::act_q8x4_offset(i)] = true;
  }
  for (size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) {
      ASSERT_EQ(q.qs[i], 0) << "padding " << i;
    }
  }
  EXPECT_EQ(std::memcmp(p.d, q.d, 2 * sizeof(float) * cpu::act_q8_blocks(n)), 0);
}

INSTANTIATE_TEST_SUITE_P(levels, cpu_vec_dot,
                         testing::Values(cpu::simd::avx2, cpu::simd::avx512),
                         [](const testing::TestParamInfo<cpu::simd>& info) {
                           return std::string(info.param == cpu::simd::avx2 ? "avx2" : "avx512");
                         });

TEST(cpu_simd, level_names_the_active_kernels) {
  const std::string level = cpu::simd_level();
  const cpu::simd active = cpu::kernels_active().level;
  EXPECT_EQ(level, active == cpu::simd::avx512 ? "avx512"
                   : active == cpu::simd::avx2 ? "avx2"
                                               : "scalar");
  EXPECT_NE(cpu::kernels_for(active), nullptr);
  EXPECT_NE(cpu::kernels_for(cpu::simd::scalar), nullptr);
  if (const char* cap = std::getenv("TROUPE_SIMD"); cap && std::string(cap) == "scalar") {
    EXPECT_EQ(level, "scalar");
  }
}

} // namespace
} // namespace troupe::gpu
