#pragma once

#include "gpu/cpu/matmul.hpp"
#include "gpu/ggml_type.hpp"

#include <cstddef>
#include <cstdint>

// The dot-product kernels behind matmul(), one set per SIMD level. Internal
// to gpu/cpu/ and its tests. Every level computes the same sums as the
// scalar set (kernels_scalar.cpp), the reference the others are tested
// against; only the order of float additions differs.

namespace troupe::gpu::cpu {

enum class simd { scalar = 0, avx2 = 1, avx512 = 2 };

/// Forces inlining. Helpers shared with the SIMD translation units must
/// never exist out of line: a copy compiled with -mavx512f could be the one
/// the linker keeps for code that runs on any CPU.
#define TROUPE_INLINE inline __attribute__((always_inline))

/// How far ahead of its loads a decoding kernel prefetches each weight row.
/// Weights stream from L3 or DRAM once per token, and one core's hardware
/// prefetcher keeps too few lines in flight: on the 110M shape (116 MB of
/// Q8_0) one core streamed 25 GB/s prefetching 8 KB ahead, 20 GB/s at 2 KB,
/// and a plain read loop 12-13 GB/s.
constexpr int prefetch_distance = 8192;

/// How a weight type wants its activations.
enum class act_kind {
  f32,  ///< the f32 row as given
  q8,   ///< act_q8 rows, blocks in element order (for Q8_0, Q4_0, Q4_1)
  q8x4, ///< act_q8 rows, blocks interleaved in fours (same types)
  q8_k, ///< block_q8_k rows (for Q4_K, Q6_K)
};

/// act_q8: one activation row of n columns (n a multiple of 32), quantized
/// per 32-block as Q8_0 does (d = max|x| / 127, q = round(x / d), so
/// |q| <= 127) but laid out for vector loads:
///   int8  qs[nbp * 32] | float d[nbp] | float s[nbp],  s = d * sum(q)
/// where nbp is the block count rounded up to a multiple of 16; the padding
/// blocks are all zero. In the x4 variant each four blocks' 128 bytes hold
/// first elements 0-15 of each, then elements 16-31 of each (see
/// act_q8x4_offset), so that a 512-bit VNNI dot covers four blocks and
/// nibble pairs of Q4 blocks land next to their activations.
/// The kernels load it with aligned vector loads, so every row must start
/// 64-byte aligned (rows of act_q8_row_bytes(n) in a 64-byte aligned buffer
/// do: the row size is a multiple of 640).
constexpr int64_t act_q8_pad_blocks = 16;

TROUPE_INLINE int64_t act_q8_blocks(int64_t n) {
  const int64_t nb = n / 32;
  return (nb + act_q8_pad_blocks - 1) / act_q8_pad_blocks * act_q8_pad_blocks;
}

TROUPE_INLINE size_t act_q8_row_bytes(int64_t n) {
  return static_cast<size_t>(act_q8_blocks(n)) * (32 + 2 * sizeof(float));
}

/// Where element i of a row sits in qs in the x4 layout.
TROUPE_INLINE int64_t act_q8x4_offset(int64_t i) {
  const int64_t b = i / 32, j = i % 32;
  return b / 4 * 128 + j / 16 * 64 + b % 4 * 16 + j % 16;
}

struct act_q8_row {
  const int8_t* qs;
  const float* d;
  const float* s;
};

TROUPE_INLINE act_q8_row act_q8_at(const void* row, int64_t n) {
  const auto* base = static_cast<const char*>(row);
  const int64_t nbp = act_q8_blocks(n);
  const auto* d = reinterpret_cast<const float*>(base + nbp * 32);
  return {reinterpret_cast<const int8_t*>(base), d, d + nbp};
}

/// Quantizes n floats (a multiple of 32) into one act_q8 row at dst
/// (act_q8_row_bytes(n) bytes, 4-byte aligned), blocks in element order or
/// (x4) interleaved. The scalar references of kernel_set::quantize_q8 and
/// quantize_q8x4.
void quantize_act_q8(const float* x, void* dst, int64_t n);
void quantize_act_q8x4(const float* x, void* dst, int64_t n);

/// One tile of a matmul: for r < nr, t < nt,
///   y[t * y_stride + r] = dot(weight row r, activation row t)
/// over n columns. Weight rows are w_stride bytes apart, activation rows
/// x_stride bytes apart (in the type's act_kind layout). 1 <= nr <=
/// max_rows; nt >= 1 is every token of the call, so a kernel can unpack
/// its rows once for all of them. scratch is 64-byte aligned, holds the
/// kernel's scratch_bytes(n), and is the calling thread's alone.
struct tile_args {
  int64_t n;
  const void* w;
  size_t w_stride;
  int nr;
  const void* x;
  size_t x_stride;
  int nt;
  float* y;
  int64_t y_stride;
  void* scratch;
};

using tile_fn = void (*)(const tile_args& a);

struct type_kernel {
  tile_fn tile = nullptr;
  act_kind act = act_kind::f32;
  int max_rows = 1;
  /// Tokens the kernel takes at a time; any nt works, this only tells
  /// tests which counts reach every remainder.
  int max_tokens = 1;
  /// Scratch bytes a tile of n columns needs, or nullptr for none.
  size_t (*scratch_bytes)(int64_t n) = nullptr;
};

/// Quantizes one activation row of n floats into dst in one act_kind's
/// layout. Every level writes the same bytes as the scalar
/// quantize_act_q8 / quantize_act_q8x4 / quantize_q8_k. x must be finite.
using act_quantizer = void (*)(const float* x, void* dst, int64_t n);

/// The kernels of one SIMD level, indexed by weight type.
struct kernel_set {
  simd level;
  type_kernel f32, f16, bf16, q8_0, q4_0, q4_1, q4_k, q6_k;
  act_quantizer quantize_q8, quantize_q8x4, quantize_q8_k;

  /// The quantizer for activations of kind k (not f32).
  act_quantizer quantizer(act_kind k) const {
    return k == act_kind::q8 ? quantize_q8 : k == act_kind::q8x4 ? quantize_q8x4 : quantize_q8_k;
  }

  /// The kernel for weights of type t, or nullptr when t has none (Q8_1,
  /// Q8_K are activation types only).
  const type_kernel* find(ggml_type t) const;
};

/// The k-quant kernels of a SIMD level (kernels_<level>_k.cpp), which the
/// level's set takes in. Only called where that level was built.
struct k_quant_kernels {
  type_kernel q4_k, q6_k;
  act_quantizer quantize_q8_k;
};
k_quant_kernels k_quant_kernels_avx2();
k_quant_kernels k_quant_kernels_avx512();

/// The AVX-512 kernels of the 32-block types (kernels_avx512_q.cpp).
struct legacy_kernels {
  type_kernel q8_0, q4_0, q4_1;
  act_quantizer quantize_q8x4;
};
legacy_kernels legacy_kernels_avx512();

/// The reference set; always available.
const kernel_set& kernels_scalar();
/// The AVX2+FMA+F16C set, or nullptr when this build lacks it.
const kernel_set* kernels_avx2();
/// The AVX-512 F/BW/VL/VNNI set, or nullptr when this build lacks it.
const kernel_set* kernels_avx512();

/// The best level this CPU and build support, capped by TROUPE_SIMD.
/// Decided once per process.
const kernel_set& kernels_active();

/// The set for `level` if this CPU and build can run it, else nullptr
/// (ignores TROUPE_SIMD; for tests and benchmarks).
const kernel_set* kernels_for(simd level);

/// matmul() with the kernels of `k` rather than kernels_active(), so tests
/// and benchmarks can run every level in one process. Same contract.
void matmul_with(const kernel_set& k, const weight_view& w, const float* x, int64_t n_tokens,
                 float* y, thread_pool& pool);

} // namespace troupe::gpu::cpu
