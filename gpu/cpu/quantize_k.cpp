#include "gpu/cpu/quantize_k.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::gpu::cpu {

namespace {

// Rounds to nearest, ties to even, as nearbyint does in the default mode,
// for |v| < 2^22, without a libm call: adding 1.5 * 2^23 leaves no bits
// below the units place. The SIMD quantizers' vcvtps2dq rounds the same
// way, so every level writes identical activations.
int round_int(float v) {
  constexpr float magic = 12582912.0f;
  return static_cast<int>((v + magic) - magic);
}

// The smallest q in [0, limit] with q * step >= v (v >= 0), or 0 when step
// is 0.
int ceil_steps(float v, float step, int limit) {
  if (step <= 0.0f)
    return 0;
  return std::clamp(static_cast<int>(std::ceil(v / step)), 0, limit);
}

// The f16 nearest to v >= 0 from above, so that 63 or 127 steps of it still
// cover the largest value (a scale rounded down would clip it).
uint16_t f16_at_least(float v) {
  const uint16_t h = f32_to_f16(v);
  return f16_to_f32(h) < v ? static_cast<uint16_t>(h + 1) : h;
}

// Stores 8 six-bit scales and mins the way q4_k_scale_min reads them.
void pack_q4_k_scales(const int* sc, const int* m, uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}

void quantize_q4_k_block(const float* x, block_q4_k& out) {
  float neg_min[8], max[8];
  float max_neg = 0.0f;
  for (int j = 0; j < 8; ++j) {
    const float* s = x + 32 * j;
    neg_min[j] = -std::min(0.0f, *std::min_element(s, s + 32));
    max[j] = *std::max_element(s, s + 32);
    max_neg = std::max(max_neg, neg_min[j]);
  }
  out.dmin = f16_at_least(max_neg / 63.0f);
  const float dmin = f16_to_f32(out.dmin);
  int m[8], sc[8];
  float need[8], max_need = 0.0f;
  for (int j = 0; j < 8; ++j) {
    m[j] = ceil_steps(neg_min[j], dmin, 63);
    need[j] = std::max(0.0f, (max[j] + dmin * m[j]) / 15.0f);
    max_need = std::max(max_need, need[j]);
  }
  out.d = f16_at_least(max_need / 63.0f);
  const float d = f16_to_f32(out.d);
  for (int j = 0; j < 8; ++j)
    sc[j] = ceil_steps(need[j], d, 63);
  pack_q4_k_scales(sc, m, out.scales);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      int q[2];
      for (int h = 0; h < 2; ++h) {
        const int j = 2 * c + h;
        const float step = d * sc[j];
        const float v = x[64 * c + 32 * h + l] + dmin * m[j];
        q[h] = step > 0.0f ? std::clamp(round_int(v / step), 0, 15) : 0;
      }
      out.qs[32 * c + l] = static_cast<uint8_t>(q[0] | (q[1] << 4));
    }
  }
}

void quantize_q6_k_block(const float* x, block_q6_k& out) {
  float step[16], max_step = 0.0f;
  for (int j = 0; j < 16; ++j) {
    float amax = 0.0f;
    for (int i = 0; i < 16; ++i)
      amax = std::max(amax, std::fabs(x[16 * j + i]));
    step[j] = amax / 31.0f;
    max_step = std::max(max_step, step[j]);
  }
  out.d = f16_at_least(max_step / 127.0f);
  const float d = f16_to_f32(out.d);
  int q[qk_k];
  for (int j = 0; j < 16; ++j) {
    const int sc = ceil_steps(step[j], d, 127);
    out.scales[j] = static_cast<int8_t>(sc);
    const float s = d * sc;
    for (int i = 0; i < 16; ++i)
      q[16 * j + i] = s > 0.0f ? std::clamp(round_int(x[16 * j + i] / s), -32, 31) + 32 : 32;
  }
  for (int h = 0; h < 2; ++h) {
    const int* qh = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      out.ql[64 * h + l] = static_cast<uint8_t>((qh[l] & 0xF) | ((qh[l + 64] & 0xF) << 4));
      out.ql[64 * h + l + 32] =
        static_cast<uint8_t>((qh[l + 32] & 0xF) | ((qh[l + 96] & 0xF) << 4));
      out.qh[32 * h + l] = static_cast<uint8_t>((qh[l] >> 4) | ((qh[l + 32] >> 4) << 2) |
                                                ((qh[l + 64] >> 4) << 4) |
                                                ((qh[l + 96] >> 4) << 6));
    }
  }
}

} // namespace

void quantize_q4_k(const float* x, block_q4_k* out, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b)
    quantize_q4_k_block(x + b * qk_k, out[b]);
}

void dequantize_q4_k(const block_q4_k* in, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b) {
    const float d = f16_to_f32(in[b].d), dmin = f16_to_f32(in[b].dmin);
    for (int c = 0; c < 4; ++c) {
      const uint8_t* q = in[b].qs + 32 * c;
      for (int h = 0; h < 2; ++h) {
        uint8_t sc, m;
        q4_k_scale_min(in[b].scales, 2 * c + h, sc, m);
        const float ds = d * sc, ms = dmin * m;
        for (int l = 0; l < 32; ++l)
          *y++ = ds * ((q[l] >> (4 * h)) & 0xF) - ms;
      }
    }
  }
}

void quantize_q6_k(const float* x, block_q6_k* out, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b)
    quantize_q6_k_block(x + b * qk_k, out[b]);
}

void dequantize_q6_k(const block_q6_k* in, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, y += qk_k) {
    const float d = f16_to_f32(in[b].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = in[b].ql + 64 * h;
      const uint8_t* qh = in[b].qh + 32 * h;
      const int8_t* sc = in[b].scales + 8 * h;
      float* yh = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int g = l / 16;
        yh[l] = d * sc[g] * (((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
        yh[l + 32] = d * sc[g + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        yh[l + 64] = d * sc[g + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        yh[l + 96] = d * sc[g + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
  }
}

void quantize_q8_k(const float* x, block_q8_k* out, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += qk_k) {
    float amax = 0.0f;
    for (int i = 0; i < qk_k; ++i)
      amax = std::max(amax, std::fabs(x[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = d;
    for (int j = 0; j < qk_k / 16; ++j) {
      int sum = 0;
      for (int i = 16 * j; i < 16 * j + 16; ++i) {
        out[b].qs[i] = static_cast<int8_t>(std::clamp(round_int(x[i] * id), -127, 127));
        sum += out[b].qs[i];
      }
      out[b].bsums[j] = static_cast<int16_t>(sum);
    }
  }
}

void dequantize_q8_k(const block_q8_k* in, float* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b)
    for (int i = 0; i < qk_k; ++i)
      *y++ = in[b].d * in[b].qs[i];
}

} // namespace troupe::gpu::cpu
