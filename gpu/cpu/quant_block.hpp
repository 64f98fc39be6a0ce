#pragma once

#include <cstdint>
#include <cstring>

// The GGUF block layouts troupe reads and writes, byte for byte as in
// ggml, plus the scalar half-float conversions everything else builds on.
// Internal to gpu/cpu/ and its tests; the engine sees only matmul.hpp.

namespace troupe::gpu::cpu {

constexpr int qk = 32;    ///< Elements per block of the legacy quants.
constexpr int qk_k = 256; ///< Elements per super-block of the k-quants.

/// x[i] = d * qs[i].
struct block_q8_0 {
  uint16_t d; ///< f16
  int8_t qs[qk];
};

/// x[i] = d * (q[i] - 8); q[i] is the low nibble of qs[i] for i < 16 and the
/// high nibble of qs[i - 16] for i >= 16.
struct block_q4_0 {
  uint16_t d; ///< f16
  uint8_t qs[qk / 2];
};

/// x[i] = d * q[i] + m; nibbles ordered as in block_q4_0.
struct block_q4_1 {
  uint16_t d; ///< f16
  uint16_t m; ///< f16
  uint8_t qs[qk / 2];
};

/// Eight sub-blocks of 32: x = d * sc[j] * q - dmin * m[j], with 6-bit sc/m
/// packed in `scales` (see q4_k_scale_min). Each 64-element chunk c uses 32
/// bytes qs[32c..32c+31]: low nibbles are its elements 0..31 (sub-block 2c),
/// high nibbles its elements 32..63 (sub-block 2c+1).
struct block_q4_k {
  uint16_t d;    ///< f16, scale of the sub-block scales
  uint16_t dmin; ///< f16, scale of the sub-block mins
  uint8_t scales[12];
  uint8_t qs[qk_k / 2];
};

/// Sixteen sub-blocks of 16: x = d * scales[j] * (q - 32), q 6 bits. In each
/// half h (128 elements, ql + 64h, qh + 32h), for l < 32:
///   element l      : low nibble of ql[l]      | bits 0-1 of qh[l] << 4
///   element l + 32 : low nibble of ql[l + 32] | bits 2-3 of qh[l] << 4
///   element l + 64 : high nibble of ql[l]     | bits 4-5 of qh[l] << 4
///   element l + 96 : high nibble of ql[l + 32]| bits 6-7 of qh[l] << 4
/// Sub-block j covers elements 16j..16j+15 in natural order.
struct block_q6_k {
  uint8_t ql[qk_k / 2];
  uint8_t qh[qk_k / 4];
  int8_t scales[qk_k / 16];
  uint16_t d; ///< f16
};

/// The k-quants' activation type: x[i] = d * qs[i]; bsums[j] is the sum of
/// qs[16j..16j+15].
struct block_q8_k {
  float d;
  int8_t qs[qk_k];
  int16_t bsums[qk_k / 16];
};

static_assert(sizeof(block_q8_0) == 34);
static_assert(sizeof(block_q4_0) == 18);
static_assert(sizeof(block_q4_1) == 20);
static_assert(sizeof(block_q4_k) == 144);
static_assert(sizeof(block_q6_k) == 210);
static_assert(sizeof(block_q8_k) == 292);

/// The 6-bit scale and min of sub-block j (0..7) of a Q4_K block.
inline void q4_k_scale_min(const uint8_t* s, int j, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// IEEE half to float, exact for every input (subnormals, inf, NaN).
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t man = h & 0x3FF;
  if (exp == 0x1F)
    return f32_from_bits(sign | 0x7F800000 | (man << 13));
  if (exp != 0)
    return f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
  // Zero or subnormal: man * 2^-24 is exact in float.
  const float mag = static_cast<float>(man) * f32_from_bits(0x33800000);
  return sign ? -mag : mag;
}

/// Float to IEEE half, rounding to nearest even; overflow gives inf, NaN
/// stays NaN.
inline uint16_t f32_to_f16(float f) {
  const uint32_t u = f32_bits(f);
  const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  const uint32_t abs = u & 0x7FFFFFFF;
  if (abs > 0x7F800000)
    return static_cast<uint16_t>(sign | 0x7E00);
  if (abs >= 0x477FF000) // rounds to 65536 or more
    return static_cast<uint16_t>(sign | 0x7C00);
  if (abs < 0x38800000) {
    // Result is subnormal or zero: scale so the half's ulp (2^-24) is 1 and
    // let the float unit round to nearest even.
    const float scaled = f32_from_bits(abs) * f32_from_bits(0x4B800000); // 2^24
    const float rounded = (scaled + 8388608.0f) - 8388608.0f;
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(rounded));
  }
  const uint32_t odd = (abs >> 13) & 1;
  const uint32_t r = abs + 0xFFF + odd - (112u << 23);
  return static_cast<uint16_t>(sign | (r >> 13));
}

inline float bf16_to_f32(uint16_t h) {
  return f32_from_bits(static_cast<uint32_t>(h) << 16);
}

/// Float to bfloat16, rounding to nearest even; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7FFFFFFF) > 0x7F800000)
    return static_cast<uint16_t>((u >> 16) | 0x40);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

} // namespace troupe::gpu::cpu
