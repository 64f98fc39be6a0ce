#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gpu/cpu/quant_block.hpp"
#include "gpu/ggml_type.hpp"

#if defined(__CUDACC__)
#  include <cuda_fp16.h>
#  define TROUPE_HD __host__ __device__ __forceinline__
#else
#  define TROUPE_HD inline
#endif
// Host compilers warn about nvcc's loop pragma; only device passes see it.
#if defined(__CUDA_ARCH__)
#  define TROUPE_UNROLL _Pragma("unroll")
#else
#  define TROUPE_UNROLL
#endif

// Decoding of GGUF weight rows in place, for the CUDA kernels (matmul,
// row gather). Plain C++ when not compiled by nvcc, so that the host tests
// check every index against gpu::cpu::dequantize_row, the spec; on the host
// the half conversions are the CPU's own. Blocks are read byte by byte at
// the offsets ggml defines (little-endian), so no alignment is assumed
// beyond that of the row for F32/F16/BF16 elements.
//
// A row is split into chunks of `chunk_elems` consecutive elements; every
// chunk lies inside one quantization block, so one thread decodes it from
// one block header.

namespace troupe::gpu::cuda {

/// Elements decode_chunk produces.
constexpr int chunk_elems = 8;

/// True for the types matmul and gather accept.
TROUPE_HD constexpr bool dequant_supported(ggml_type t) {
  return t == ggml_type::f32 || t == ggml_type::f16 || t == ggml_type::bf16
         || t == ggml_type::q8_0 || t == ggml_type::q4_0 || t == ggml_type::q4_1
         || t == ggml_type::q4_k || t == ggml_type::q6_k;
}

/// True for F32, F16, BF16: rows of any length; the last cols % chunk_elems
/// elements are read with decode_element.
TROUPE_HD constexpr bool is_float_type(ggml_type t) {
  return t == ggml_type::f32 || t == ggml_type::f16 || t == ggml_type::bf16;
}

namespace detail {

TROUPE_HD uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

TROUPE_HD float half_to_f32(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));
#else
  return cpu::f16_to_f32(h);
#endif
}

TROUPE_HD float bits_to_f32(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

TROUPE_HD float load_f32(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const float*>(p);
#else
  float f;
  std::memcpy(&f, p, sizeof f);
  return f;
#endif
}

// Q4_K's 6-bit scale and min of sub-block j (0..7), packed in 12 bytes.
TROUPE_HD void q4_k_scale_min(const uint8_t* s, int j, int& sc, int& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

} // namespace detail

/// Element `i` of a row of a float type. Precondition: is_float_type(T).
template <ggml_type T>
TROUPE_HD float decode_element(const uint8_t* row, int64_t i) {
  static_assert(is_float_type(T), "decode_element reads float rows only");
  if constexpr (T == ggml_type::f32)
    return detail::load_f32(row + 4 * i);
  else if constexpr (T == ggml_type::f16)
    return detail::half_to_f32(detail::load_u16(row + 2 * i));
  else
    return detail::bits_to_f32(static_cast<uint32_t>(detail::load_u16(row + 2 * i)) << 16);
}

/// Elements [chunk_elems * c, chunk_elems * (c + 1)) of a row of type T into
/// out, computed with the same float operations as cpu::dequantize_row
/// (bit for bit on the host; on the device nvcc may fuse a multiply-add,
/// which changes a value by at most one rounding).
/// Precondition: the row holds them; dequant_supported(T).
template <ggml_type T>
TROUPE_HD void decode_chunk(const uint8_t* row, int64_t c, float* out) {
  static_assert(dequant_supported(T), "no decoder for this type");
  if constexpr (is_float_type(T)) {
    TROUPE_UNROLL
    for (int i = 0; i < chunk_elems; ++i)
      out[i] = decode_element<T>(row, chunk_elems * c + i);
  } else if constexpr (T == ggml_type::q8_0) {
    // 34 bytes: f16 d | int8 qs[32]; four chunks per block.
    const uint8_t* b = row + 34 * (c / 4);
    const float d = detail::half_to_f32(detail::load_u16(b));
    const uint8_t* qs = b + 2 + 8 * (c % 4);
    TROUPE_UNROLL
    for (int i = 0; i < chunk_elems; ++i)
      out[i] = d * static_cast<float>(static_cast<int8_t>(qs[i]));
  } else if constexpr (T == ggml_type::q4_0 || T == ggml_type::q4_1) {
    // 18 bytes: f16 d | qs[16]; Q4_1 20 bytes: f16 d | f16 m | qs[16].
    // Elements 0-15 are the low nibbles of qs, 16-31 the high ones.
    constexpr int bytes = T == ggml_type::q4_0 ? 18 : 20;
    constexpr int qs_at = T == ggml_type::q4_0 ? 2 : 4;
    const uint8_t* b = row + bytes * (c / 4);
    const int e0 = 8 * static_cast<int>(c % 4);
    const int shift = e0 < 16 ? 0 : 4;
    const uint8_t* qs = b + qs_at + e0 % 16;
    const float d = detail::half_to_f32(detail::load_u16(b));
    if constexpr (T == ggml_type::q4_0) {
      TROUPE_UNROLL
      for (int i = 0; i < chunk_elems; ++i)
        out[i] = d * static_cast<float>(((qs[i] >> shift) & 0xF) - 8);
    } else {
      const float m = detail::half_to_f32(detail::load_u16(b + 2));
      TROUPE_UNROLL
      for (int i = 0; i < chunk_elems; ++i)
        out[i] = d * static_cast<float>((qs[i] >> shift) & 0xF) + m;
    }
  } else if constexpr (T == ggml_type::q4_k) {
    // 144 bytes: f16 d | f16 dmin | scales[12] | qs[128]; 32 chunks per
    // block. Sub-block j = e0 / 32 sits in the low (j even) or high (j odd)
    // nibbles of qs[32 * (j / 2) .. + 31].
    const uint8_t* b = row + 144 * (c / 32);
    const int e0 = 8 * static_cast<int>(c % 32);
    const int j = e0 / 32;
    int sc = 0, m = 0;
    detail::q4_k_scale_min(b + 4, j, sc, m);
    const float ds = detail::half_to_f32(detail::load_u16(b)) * static_cast<float>(sc);
    const float ms = detail::half_to_f32(detail::load_u16(b + 2)) * static_cast<float>(m);
    const uint8_t* qs = b + 16 + 32 * (j / 2) + e0 % 32;
    const int shift = 4 * (j % 2);
    TROUPE_UNROLL
    for (int i = 0; i < chunk_elems; ++i)
      out[i] = ds * static_cast<float>((qs[i] >> shift) & 0xF) - ms;
  } else { // q6_k
    // 210 bytes: ql[128] | qh[64] | int8 scales[16] | f16 d. Half h (128
    // elements) uses ql[64h..], qh[32h..]; its quarter k (32 elements, l =
    // e % 32) takes the low (k < 2) or high nibble of ql[64h + 32(k % 2) + l]
    // and bits 2k..2k+1 of qh[32h + l]. Scale e / 16 in natural order.
    const uint8_t* b = row + 210 * (c / 32);
    const int e0 = 8 * static_cast<int>(c % 32);
    const int h = e0 / 128, k = (e0 % 128) / 32, l = e0 % 32;
    const uint8_t* ql = b + 64 * h + 32 * (k % 2) + l;
    const uint8_t* qh = b + 128 + 32 * h + l;
    const int ql_shift = 4 * (k / 2), qh_shift = 2 * k;
    const float ds = detail::half_to_f32(detail::load_u16(b + 208))
                     * static_cast<float>(static_cast<int8_t>(b[192 + e0 / 16]));
    TROUPE_UNROLL
    for (int i = 0; i < chunk_elems; ++i) {
      const int q = ((ql[i] >> ql_shift) & 0xF) | (((qh[i] >> qh_shift) & 3) << 4);
      out[i] = ds * static_cast<float>(q - 32);
    }
  }
}

} // namespace troupe::gpu::cuda
