#include "gpu/cpu/matmul.hpp"
#include "gpu/cpu/quant_block.hpp"
#include "gpu/cpu/quantize_k.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "tests/gpu/quant_reference.hpp"

namespace troupe::gpu {
namespace {

using cpu::f16_to_f32;
using cpu::f32_to_f16;

TEST(cpu_quant_half, every_half_round_trips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f))
      EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f)))) << h;
    else
      EXPECT_EQ(f32_to_f16(f), h) << h;
  }
}

TEST(cpu_quant_half, rounds_to_nearest_even) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00); // ties away to infinity's even
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00); // tie, even below
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02); // tie, even above
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(f32_to_f16(3 * std::ldexp(1.0f, -25)), 0x0002);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_f16(1e9f), 0x7C00);
}

TEST(cpu_quant_half, bfloat16_rounds_to_nearest_even) {
  EXPECT_EQ(cpu::f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(cpu::f32_to_bf16(cpu::f32_from_bits(0x3F808000)), 0x3F80); // tie, even
  EXPECT_EQ(cpu::f32_to_bf16(cpu::f32_from_bits(0x3F818000)), 0x3F82); // tie, even
  EXPECT_EQ(cpu::f32_to_bf16(cpu::f32_from_bits(0x3F808001)), 0x3F81);
  EXPECT_TRUE(std::isnan(cpu::bf16_to_f32(cpu::f32_to_bf16(std::nanf("")))));
  EXPECT_EQ(cpu::bf16_to_f32(0xC020), -2.5f);
}

// Hand-built blocks pin the element order of each layout independently of
// the quantizers.

TEST(cpu_quant_layout, q4_0_low_nibbles_come_first) {
  cpu::block_q4_0 b{};
  b.d = f32_to_f16(0.5f);
  b.qs[0] = 0x9F; // element 0: 15, element 16: 9
  b.qs[15] = 0x08;
  std::vector<float> y(32);
  cpu::dequantize_row(ggml_type::q4_0, &b, y.data(), 32);
  EXPECT_EQ(y[0], 0.5f * 7);
  EXPECT_EQ(y[16], 0.5f * 1);
  EXPECT_EQ(y[15], 0.0f);
  EXPECT_EQ(y[31], 0.5f * -8);
  EXPECT_EQ(y[1], 0.5f * -8);
}

TEST(cpu_quant_layout, q4_1_adds_the_min) {
  cpu::block_q4_1 b{};
  b.d = f32_to_f16(0.25f);
  b.m = f32_to_f16(-1.0f);
  b.qs[3] = 0x4C; // element 3: 12, element 19: 4
  std::vector<float> y(32);
  cpu::dequantize_row(ggml_type::q4_1, &b, y.data(), 32);
  EXPECT_EQ(y[3], 2.0f);
  EXPECT_EQ(y[19], 0.0f);
  EXPECT_EQ(y[0], -1.0f);
}

TEST(cpu_quant_layout, q4_k_scales_and_nibbles) {
  cpu::block_q4_k b{};
  b.d = f32_to_f16(1.0f);
  b.dmin = f32_to_f16(0.5f);
  // Sub-block 1: scale 5, min 2 (low 6 bits of bytes 1 and 5).
  b.scales[1] = 5;
  b.scales[5] = 2;
  // Sub-block 6: scale 0b110011 = 51 (low 4 bits in byte 10, top 2 bits in
  // bits 6-7 of byte 2), min 0b100001 = 33 (byte 10 high nibble, byte 6 bits
  // 6-7).
  b.scales[10] = 0x13;
  b.scales[2] = 0xC0;
  b.scales[6] = 0x80;
  b.qs[0] = 0x30;  // chunk 0: element 0 = 0 (sub 0), element 32 = 3 (sub 1)
  b.qs[96] = 0x07; // chunk 3: element 192 = 7 (sub 6)
  std::vector<float> y(256);
  cpu::dequantize_row(ggml_type::q4_k, &b, y.data(), 256);
  EXPECT_EQ(y[32], 5.0f * 3 - 0.5f * 2);
  EXPECT_EQ(y[33], -0.5f * 2);
  EXPECT_EQ(y[192], 51.0f * 7 - 0.5f * 33);
  EXPECT_EQ(y[0], 0.0f);
}

TEST(cpu_quant_layout, q6_k_bits) {
  cpu::block_q6_k b{};
  b.d = f32_to_f16(1.0f);
  for (auto& s : b.scales)
    s = 1;
  b.scales[8] = -2; // sub-block 8 = elements 128..143
  b.ql[64] = 0x21;  // second half: element 128 low 1, element 192 low 2
  b.ql[96] = 0x43;  // element 160 low 3, element 224 low 4
  b.qh[32] = 0xE4;  // bit pairs 0, 1, 2, 3 for elements 128, 160, 192, 224
  std::vector<float> y(256);
  cpu::dequantize_row(ggml_type::q6_k, &b, y.data(), 256);
  EXPECT_EQ(y[128], -2.0f * (1 - 32));
  EXPECT_EQ(y[160], (3 | 1 << 4) - 32.0f);
  EXPECT_EQ(y[192], (2 | 2 << 4) - 32.0f);
  EXPECT_EQ(y[224], (4 | 3 << 4) - 32.0f);
  EXPECT_EQ(y[0], -32.0f);
}

// The largest error quantize -> dequantize may make on block [i, i + n) of
// `x`, given the decoded values `y` of the same block.
double error_bound(ggml_type t, const float* x, int n, const std::vector<uint8_t>& enc,
                   int64_t block_index) {
  double amax = 0.0, min = 0.0, max = 0.0;
  for (int i = 0; i < n; ++i) {
    amax = std::max(amax, std::fabs(double{x[i]}));
    min = std::min(min, double{x[i]});
    max = std::max(max, double{x[i]});
  }
  // f16 scales resolve no finer than 2^-24 (2^-25 rounding), whatever the
  // data: blocks of tiny values lose their precision to that.
  const double scale_floor = std::ldexp(1.0, -25);
  const double slop = 1e-6 * amax + 1e-30;
  switch (t) {
  case ggml_type::f16: return amax * std::ldexp(1.0, -11) + std::ldexp(1.0, -25);
  case ggml_type::bf16: return amax * std::ldexp(1.0, -8);
  case ggml_type::q8_0:
    return amax / 127.0 / 2.0 * (1 + std::ldexp(1.0, -10)) + 128 * scale_floor + slop;
  case ggml_type::q4_0: return amax / 8.0 * (1 + std::ldexp(1.0, -10)) + 16 * scale_floor + slop;
  case ggml_type::q4_1: {
    const auto* b = reinterpret_cast<const cpu::block_q4_1*>(enc.data()) + block_index;
    const double lo = *std::min_element(x, x + n);
    return f16_to_f32(b->d) * 0.51 + std::fabs(f16_to_f32(b->m) - lo) + 16 * scale_floor + slop;
  }
  case ggml_type::q8_k: return amax / 127.0 / 2.0 + slop;
  default: return 0.0;
  }
}

TEST(cpu_quant, round_trip_error_is_bounded) {
  const int64_t n = 4096;
  const auto x = test::awkward_floats(n, 3);
  for (ggml_type t : {ggml_type::f32, ggml_type::f16, ggml_type::bf16, ggml_type::q8_0,
                      ggml_type::q4_0, ggml_type::q4_1, ggml_type::q8_k}) {
    SCOPED_TRACE(test::type_name(t));
    std::vector<uint8_t> enc(ggml_row_size(t, n));
    cpu::quantize_row(t, x.data(), enc.data(), n);
    std::vector<float> y(n);
    cpu::dequantize_row(t, enc.data(), y.data(), n);
    const int block = t == ggml_type::q8_k ? 256 : 32;
    for (int64_t i = 0; i < n; ++i) {
      const double bound = error_bound(t, x.data() + i / block * block, block, enc, i / block);
      ASSERT_LE(std::fabs(double{y[i]} - x[i]), bound) << "element " << i;
    }
  }
}

TEST(cpu_quant, k_quant_error_is_half_a_step_and_steps_are_tight) {
  const int64_t n = 4096;
  const auto x = test::awkward_floats(n, 4);
  for (ggml_type t : {ggml_type::q4_k, ggml_type::q6_k}) {
    SCOPED_TRACE(test::type_name(t));
    std::vector<uint8_t> enc(ggml_row_size(t, n));
    cpu::quantize_row(t, x.data(), enc.data(), n);
    std::vector<float> y(n);
    cpu::dequantize_row(t, enc.data(), y.data(), n);
    const int sub = t == ggml_type::q4_k ? 32 : 16;
    for (int64_t s = 0; s < n / sub; ++s) {
      const float* xs = x.data() + s * sub;
      double step = 0.0, tight = 0.0, slack = 0.0;
      const int64_t j = s % (256 / sub);
      if (t == ggml_type::q4_k) {
        const auto& b = reinterpret_cast<const cpu::block_q4_k*>(enc.data())[s / 8];
        uint8_t sc, m;
        cpu::q4_k_scale_min(b.scales, static_cast<int>(j), sc, m);
        step = f16_to_f32(b.d) * sc;
        const double lo = std::min(0.0f, *std::min_element(xs, xs + sub));
        tight = (*std::max_element(xs, xs + sub) - lo) / 15.0;
        slack = f16_to_f32(b.d) + f16_to_f32(b.dmin) / 15.0;
      } else {
        const auto& b = reinterpret_cast<const cpu::block_q6_k*>(enc.data())[s / 16];
        step = f16_to_f32(b.d) * b.scales[j];
        double amax = 0.0;
        for (int i = 0; i < sub; ++i)
          amax = std::max(amax, std::fabs(double{xs[i]}));
        tight = amax / 31.0;
        slack = f16_to_f32(b.d);
      }
      ASSERT_LE(step, (tight + slack) * (1 + 1e-3) + 1e-30) << "sub-block " << s;
      for (int i = 0; i < sub; ++i)
        ASSERT_LE(std::fabs(double{y[s * sub + i]} - xs[i]), step / 2 * (1 + 1e-3) + 1e-7 * std::fabs(xs[i]) + 1e-30)
          << "element " << s * sub + i;
    }
  }
}

TEST(cpu_quant, relative_rms_error_on_gaussian_data) {
  const int64_t n = 1 << 14;
  const auto x = test::random_floats(n, 5);
  // Expected for N(0, 1): roughly step / sqrt(12) with the steps each
  // format's scale rule gives; the limits leave a margin of about 1.5x.
  const struct {
    ggml_type t;
    double limit;
  } cases[] = {{ggml_type::f16, 3e-4},  {ggml_type::bf16, 3e-3}, {ggml_type::q8_0, 0.012},
               {ggml_type::q4_0, 0.16}, {ggml_type::q4_1, 0.14}, {ggml_type::q4_k, 0.14},
               {ggml_type::q6_k, 0.045}, {ggml_type::q8_k, 0.012}};
  for (const auto& c : cases) {
    std::vector<uint8_t> enc(ggml_row_size(c.t, n));
    cpu::quantize_row(c.t, x.data(), enc.data(), n);
    std::vector<float> y(n);
    cpu::dequantize_row(c.t, enc.data(), y.data(), n);
    double err = 0.0, ref = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      err += (double{y[i]} - x[i]) * (double{y[i]} - x[i]);
      ref += double{x[i]} * x[i];
    }
    EXPECT_LT(std::sqrt(err / ref), c.limit) << test::type_name(c.t);
  }
}

TEST(cpu_quant, q8_k_block_sums_match_the_quants) {
  const auto x = test::awkward_floats(512, 6);
  std::vector<cpu::block_q8_k> b(2);
  cpu::quantize_row(ggml_type::q8_k, x.data(), b.data(), 512);
  for (const auto& blk : b)
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i)
        sum += blk.qs[16 * j + i];
      EXPECT_EQ(blk.bsums[j], sum);
    }
}

} // namespace
} // namespace troupe::gpu
