#include "gpu/cpu/kernels.hpp"
#include "gpu/cpu/matmul.hpp"
#include "gpu/cpu/quant_block.hpp"
#include "gpu/cpu/quantize_k.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

namespace troupe::gpu::cpu {

namespace {

float abs_max(const float* x, int n) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i)
    amax = std::max(amax, std::fabs(x[i]));
  return amax;
}

// Rounds to nearest, ties to even, as nearbyint does in the default mode,
// for |v| < 2^22, without a libm call: adding 1.5 * 2^23 leaves no bits
// below the units place. The SIMD quantizers' vcvtps2dq rounds the same
// way, so every level writes identical activations.
int round_int(float v) {
  constexpr float magic = 12582912.0f;
  return static_cast<int>((v + magic) - magic);
}

// Q8_0: d = max|x| / 127 stored as f16; q is rounded against the stored d so
// that it reproduces x as closely as the stored scale allows.
void quantize_q8_0(const float* x, block_q8_0* out, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += qk) {
    const uint16_t dh = f32_to_f16(abs_max(x, qk) / 127.0f);
    const float d = f16_to_f32(dh);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = dh;
    for (int i = 0; i < qk; ++i)
      out[b].qs[i] = static_cast<int8_t>(std::clamp(round_int(x[i] * id), -127, 127));
  }
}

// Q4_0 as ggml quantizes it: the value of largest magnitude maps to -8, so
// the range [-8, 7] is used fully on the side where it matters.
void quantize_q4_0(const float* x, block_q4_0* out, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += qk) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < qk; ++i)
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    const uint16_t dh = f32_to_f16(max / -8.0f);
    const float d = f16_to_f32(dh);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = dh;
    for (int i = 0; i < qk / 2; ++i) {
      const int q0 = std::clamp(round_int(x[i] * id) + 8, 0, 15);
      const int q1 = std::clamp(round_int(x[i + qk / 2] * id) + 8, 0, 15);
      out[b].qs[i] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q4_1(const float* x, block_q4_1* out, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += qk) {
    const float min = *std::min_element(x, x + qk);
    const float max = *std::max_element(x, x + qk);
    const uint16_t dh = f32_to_f16((max - min) / 15.0f);
    const uint16_t mh = f32_to_f16(min);
    const float d = f16_to_f32(dh), m = f16_to_f32(mh);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = dh;
    out[b].m = mh;
    for (int i = 0; i < qk / 2; ++i) {
      const int q0 = std::clamp(round_int((x[i] - m) * id), 0, 15);
      const int q1 = std::clamp(round_int((x[i + qk / 2] - m) * id), 0, 15);
      out[b].qs[i] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void dequantize_q8_0(const block_q8_0* in, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += qk) {
    const float d = f16_to_f32(in[b].d);
    for (int i = 0; i < qk; ++i)
      y[i] = d * in[b].qs[i];
  }
}

void dequantize_q4_0(const block_q4_0* in, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += qk) {
    const float d = f16_to_f32(in[b].d);
    for (int i = 0; i < qk / 2; ++i) {
      y[i] = d * ((in[b].qs[i] & 0xF) - 8);
      y[i + qk / 2] = d * ((in[b].qs[i] >> 4) - 8);
    }
  }
}

void dequantize_q4_1(const block_q4_1* in, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += qk) {
    const float d = f16_to_f32(in[b].d), m = f16_to_f32(in[b].m);
    for (int i = 0; i < qk / 2; ++i) {
      y[i] = d * (in[b].qs[i] & 0xF) + m;
      y[i + qk / 2] = d * (in[b].qs[i] >> 4) + m;
    }
  }
}

// Q8_1 (f16 d, f16 sum, 32 int8) appears in no model troupe reads, but
// costs nothing to dequantize.
void dequantize_q8_1(const char* in, float* y, int64_t nb) {
  constexpr size_t block_bytes = 4 + qk;
  for (int64_t b = 0; b < nb; ++b, y += qk, in += block_bytes) {
    uint16_t dh;
    std::memcpy(&dh, in, sizeof dh);
    const float d = f16_to_f32(dh);
    const auto* qs = reinterpret_cast<const int8_t*>(in + 4);
    for (int i = 0; i < qk; ++i)
      y[i] = d * qs[i];
  }
}

} // namespace

void quantize_act_q8(const float* x, void* dst, int64_t n) {
  const int64_t nb = n / qk, nbp = act_q8_blocks(n);
  auto* qs = static_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + nbp * qk);
  float* s = d + nbp;
  for (int64_t b = 0; b < nb; ++b, x += qk, qs += qk) {
    const float db = abs_max(x, qk) / 127.0f;
    const float id = db != 0.0f ? 1.0f / db : 0.0f;
    int sum = 0;
    for (int i = 0; i < qk; ++i) {
      qs[i] = static_cast<int8_t>(std::clamp(round_int(x[i] * id), -127, 127));
      sum += qs[i];
    }
    d[b] = db;
    s[b] = db * static_cast<float>(sum);
  }
  std::fill(qs, qs + (nbp - nb) * qk, int8_t{0});
  std::fill(d + nb, d + nbp, 0.0f);
  std::fill(s + nb, s + nbp, 0.0f);
}

void quantize_act_q8x4(const float* x, void* dst, int64_t n) {
  quantize_act_q8(x, dst, n);
  auto* qs = static_cast<int8_t*>(dst);
  const int64_t nb = n / qk;
  int8_t quad[4 * qk];
  for (int64_t q = 0; q < nb; q += 4) {
    std::fill(quad, quad + 4 * qk, int8_t{0});
    const int64_t blocks = std::min<int64_t>(4, nb - q);
    for (int64_t i = 0; i < blocks * qk; ++i)
      quad[act_q8x4_offset(i)] = qs[q * qk + i];
    std::copy(quad, quad + 4 * qk, qs + q * qk);
  }
}

void quantize_row(ggml_type t, const float* src, void* dst, int64_t n) {
  const int64_t nb = n / qk;
  switch (t) {
  case ggml_type::f32:
    std::copy(src, src + n, static_cast<float*>(dst));
    return;
  case ggml_type::f16:
    std::transform(src, src + n, static_cast<uint16_t*>(dst), f32_to_f16);
    return;
  case ggml_type::bf16:
    std::transform(src, src + n, static_cast<uint16_t*>(dst), f32_to_bf16);
    return;
  case ggml_type::q8_0:
    return quantize_q8_0(src, static_cast<block_q8_0*>(dst), nb);
  case ggml_type::q4_0:
    return quantize_q4_0(src, static_cast<block_q4_0*>(dst), nb);
  case ggml_type::q4_1:
    return quantize_q4_1(src, static_cast<block_q4_1*>(dst), nb);
  case ggml_type::q4_k:
    return quantize_q4_k(src, static_cast<block_q4_k*>(dst), n / qk_k);
  case ggml_type::q6_k:
    return quantize_q6_k(src, static_cast<block_q6_k*>(dst), n / qk_k);
  case ggml_type::q8_k:
    return quantize_q8_k(src, static_cast<block_q8_k*>(dst), n / qk_k);
  case ggml_type::q8_1:
    break;
  }
  assert(false && "quantize_row: type has no quantizer");
}

void dequantize_row(ggml_type t, const void* src, float* dst, int64_t n) {
  const int64_t nb = n / qk;
  switch (t) {
  case ggml_type::f32: {
    const auto* f = static_cast<const float*>(src);
    std::copy(f, f + n, dst);
    return;
  }
  case ggml_type::f16: {
    const auto* h = static_cast<const uint16_t*>(src);
    std::transform(h, h + n, dst, f16_to_f32);
    return;
  }
  case ggml_type::bf16: {
    const auto* h = static_cast<const uint16_t*>(src);
    std::transform(h, h + n, dst, bf16_to_f32);
    return;
  }
  case ggml_type::q8_0:
    return dequantize_q8_0(static_cast<const block_q8_0*>(src), dst, nb);
  case ggml_type::q4_0:
    return dequantize_q4_0(static_cast<const block_q4_0*>(src), dst, nb);
  case ggml_type::q4_1:
    return dequantize_q4_1(static_cast<const block_q4_1*>(src), dst, nb);
  case ggml_type::q4_k:
    return dequantize_q4_k(static_cast<const block_q4_k*>(src), dst, n / qk_k);
  case ggml_type::q6_k:
    return dequantize_q6_k(static_cast<const block_q6_k*>(src), dst, n / qk_k);
  case ggml_type::q8_k:
    return dequantize_q8_k(static_cast<const block_q8_k*>(src), dst, n / qk_k);
  case ggml_type::q8_1:
    return dequantize_q8_1(static_cast<const char*>(src), dst, nb);
  }
}

} // namespace troupe::gpu::cpu
