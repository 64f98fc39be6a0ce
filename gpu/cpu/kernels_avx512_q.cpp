#include "gpu/cpu/kernels.hpp"

// AVX-512 (F, BW, VL, VNNI) kernels for Q8_0, Q4_0 and Q4_1 against act_q8
// in the x4 layout, and that layout's quantizer. Built with the flags of
// kernels_avx512.cpp and under the same rule: no inline functions shared
// with other units unless forced inline.

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
  defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define TROUPE_KERNELS_AVX512 1
#include "gpu/cpu/tile_dispatch.hpp"
#include <immintrin.h>
#endif

namespace troupe::gpu::cpu {

#if TROUPE_KERNELS_AVX512
namespace {

// ---- 32-block types against act_q8 (x4 layout) -------------------------
//
// Blocks go four at a time through two 512-bit VNNI dots (vpdpbusd,
// unsigned weights x signed activations): one over elements 0-15 of each
// block, one over 16-31, which is how the x4 activation layout and the Q4
// nibbles are already ordered. Q4_0/Q4_1 nibbles are unsigned; Q8_0 weights
// are made unsigned by adding 128 (xor 0x80). What that shifts (the -8 of
// Q4_0, the +128 of Q8_0, the min of Q4_1) is a per-block constant times
// the activation block sum, which act_q8 carries as s, so it is folded in
// with one FMA per 16 blocks. Block scales are gathered 16 at a time and
// multiplied by the activation scales once per 16 blocks; each four blocks
// then permute their scales into place.

// Lanes 4k..4k+3 take element 4q + k of a 16-lane vector.
TROUPE_INLINE __m512i quad_index(int q) {
  return _mm512_add_epi32(
    _mm512_set1_epi32(4 * q),
    _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
}

// The first 4 bytes of `count` (1..16) blocks `Stride` bytes apart.
template <int Stride>
TROUPE_INLINE __m512i gather_heads(const char* p, int64_t count) {
  const __m512i offsets = _mm512_mullo_epi32(
    _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    _mm512_set1_epi32(Stride));
  const __mmask16 m = count >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << count) - 1);
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offsets, p, 1);
}

TROUPE_INLINE __m512 f16_low_halves(__m512i v) {
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}

TROUPE_INLINE __m256i load_256(const char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

TROUPE_INLINE __m128i load_128(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Four blocks' unsigned weight bytes: lo = elements 0-15 of each block in
// turn, hi = elements 16-31.
struct quad {
  __m512i lo, hi;
};

// Each type's load(b, count) reads `count` (1..4) blocks at b and leaves
// the rest of the quad zero, so that a row's last, partial quad reads
// nothing past the row; zero blocks meet zero activation padding.

struct q8_0_weights {
  static constexpr int stride = 34;
  static constexpr int lines = 3; // cache lines four blocks span, rounded up
  TROUPE_INLINE static quad load(const char* b, int64_t count) {
    __m256i y[4];
    TROUPE_UNROLL for (int k = 0; k < 4; ++k)
      y[k] = k < count ? load_256(b + k * stride + 2) : _mm256_setzero_si256();
    const __m512i b01 = _mm512_inserti64x4(_mm512_castsi256_si512(y[0]), y[1], 1);
    const __m512i b23 = _mm512_inserti64x4(_mm512_castsi256_si512(y[2]), y[3], 1);
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    return {_mm512_xor_si512(_mm512_shuffle_i64x2(b01, b23, _MM_SHUFFLE(2, 0, 2, 0)), bias),
            _mm512_xor_si512(_mm512_shuffle_i64x2(b01, b23, _MM_SHUFFLE(3, 1, 3, 1)), bias)};
  }
  // sum((q + 128) x) - 128 sum(x): the weight factor of s is -128 d.
  TROUPE_INLINE static __m512 sum_factor(__m512i, __m512 d) {
    return _mm512_mul_ps(d, _mm512_set1_ps(-128.0f));
  }
};

template <int Offset, int Stride>
struct q4_weights {
  static constexpr int stride = Stride;
  static constexpr int lines = 2;
  TROUPE_INLINE static quad load(const char* b, int64_t count) {
    __m512i v = _mm512_castsi128_si512(load_128(b + Offset));
    if (count < 4)
      v = _mm512_zextsi128_si512(load_128(b + Offset));
    if (count > 1)
      v = _mm512_inserti32x4(v, load_128(b + Stride + Offset), 1);
    if (count > 2)
      v = _mm512_inserti32x4(v, load_128(b + 2 * Stride + Offset), 2);
    if (count > 3)
      v = _mm512_inserti32x4(v, load_128(b + 3 * Stride + Offset), 3);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    return {_mm512_and_si512(v, low4), _mm512_and_si512(_mm512_srli_epi16(v, 4), low4)};
  }
};

struct q4_0_weights : q4_weights<2, 18> {
  TROUPE_INLINE static __m512 sum_factor(__m512i, __m512 d) {
    return _mm512_mul_ps(d, _mm512_set1_ps(-8.0f));
  }
};

struct q4_1_weights : q4_weights<4, 20> {
  TROUPE_INLINE static __m512 sum_factor(__m512i heads, __m512) {
    return f16_low_halves(_mm512_srli_epi32(heads, 16)); // m
  }
};

TROUPE_INLINE __m512i quad_dot(const quad& w, __m512i x_lo, __m512i x_hi) {
  return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w.lo, x_lo), w.hi,
                             x_hi);
}

// Decoding (one token): dots straight from the GGUF blocks.
template <class W>
struct legacy_direct {
  // Blocks b..b+3 (quad q of its 16) of every row; `count` < 4 when the
  // row ends inside them.
  template <int R, bool Full>
  TROUPE_INLINE static void step(const char* const (&w)[R], const act_q8_row& x, int64_t b,
                                 int q, int64_t count, const __m512 (&scale)[R],
                                 __m512 (&acc)[R]) {
    const __m512i x_lo = _mm512_load_si512(x.qs + b * 32);
    const __m512i x_hi = _mm512_load_si512(x.qs + b * 32 + 64);
    const __m512i idx = quad_index(q);
    TROUPE_UNROLL for (int r = 0; r < R; ++r) {
      const char* blk = w[r] + b * W::stride;
      TROUPE_UNROLL for (int l = 0; l < W::lines; ++l)
        _mm_prefetch(blk + prefetch_distance + 64 * l, _MM_HINT_T0);
      const quad wq = W::load(blk, Full ? 4 : count);
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(quad_dot(wq, x_lo, x_hi)),
                               _mm512_permutexvar_ps(idx, scale[r]), acc[r]);
    }
  }

  template <int R>
  static void run(const tile_args& a) {
    const int64_t nb = a.n / 32;
    const char* w[R];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      w[r] = static_cast<const char*>(a.w) + r * a.w_stride;
    const act_q8_row x = act_q8_at(a.x, a.n);
    __m512 acc[R];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      acc[r] = _mm512_setzero_ps();
    for (int64_t b0 = 0; b0 < nb; b0 += 16) {
      const int64_t count = nb - b0 < 16 ? nb - b0 : 16;
      __m512 scale[R];
      const __m512 dx = _mm512_load_ps(x.d + b0), sx = _mm512_load_ps(x.s + b0);
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        const __m512i heads = gather_heads<W::stride>(w[r] + b0 * W::stride, count);
        const __m512 d = f16_low_halves(heads);
        scale[r] = _mm512_mul_ps(d, dx);
        acc[r] = _mm512_fmadd_ps(W::sum_factor(heads, d), sx, acc[r]);
      }
      if (count == 16) {
        TROUPE_UNROLL for (int q = 0; q < 4; ++q)
          step<R, true>(w, x, b0 + 4 * q, q, 4, scale, acc);
      } else {
        int q = 0;
        for (; 4 * q + 4 <= count; ++q)
          step<R, true>(w, x, b0 + 4 * q, q, 4, scale, acc);
        if (count % 4)
          step<R, false>(w, x, b0 + 4 * q, q, count % 4, scale, acc);
      }
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      a.y[r] = _mm512_reduce_add_ps(acc[r]);
  }
};

// Batches: each weight row is first unpacked into scratch in act_q8's x4
// layout with unsigned bytes (u8 q | float d | float f, a block's dot being
// d dx sum(q x) + f s), then every token reads it from L1. The unpacking,
// the gathers and the byte shuffles are paid once per row, not per token.
struct unpacked_row {
  const uint8_t* q;
  const float* d;
  const float* f;
};

TROUPE_INLINE unpacked_row unpacked_at(const uint8_t* row, int64_t n) {
  const int64_t nbp = act_q8_blocks(n);
  const auto* d = reinterpret_cast<const float*>(row + nbp * 32);
  return {row, d, d + nbp};
}

// Writes every quad a dot reads (the last one zero-padded) and d, f for
// whole 16-block chunks (zero past the end).
template <class W>
void unpack_row(const char* w, int64_t n, uint8_t* out) {
  const int64_t nb = n / 32, nbp = act_q8_blocks(n);
  auto* d = reinterpret_cast<float*>(out + nbp * 32);
  float* f = d + nbp;
  for (int64_t b0 = 0; b0 < nb; b0 += 16) {
    const int64_t count = nb - b0 < 16 ? nb - b0 : 16;
    const __m512i heads = gather_heads<W::stride>(w + b0 * W::stride, count);
    const __m512 dv = f16_low_halves(heads);
    _mm512_store_ps(d + b0, dv);
    _mm512_store_ps(f + b0, W::sum_factor(heads, dv));
    for (int64_t b = b0; b < b0 + count; b += 4) {
      const int64_t left = b0 + count - b;
      const quad wq = W::load(w + b * W::stride, left < 4 ? left : 4);
      _mm512_store_si512(out + b * 32, wq.lo);
      _mm512_store_si512(out + b * 32 + 64, wq.hi);
    }
  }
}

template <int R, int T>
struct unpacked_kernel {
  TROUPE_INLINE static void step(const unpacked_row (&w)[R], const act_q8_row (&x)[T],
                                 int64_t b, int q, const __m512 (&scale)[R][T],
                                 __m512 (&acc)[R][T]) {
    __m512i x_lo[T], x_hi[T];
    TROUPE_UNROLL for (int t = 0; t < T; ++t) {
      x_lo[t] = _mm512_load_si512(x[t].qs + b * 32);
      x_hi[t] = _mm512_load_si512(x[t].qs + b * 32 + 64);
    }
    const __m512i idx = quad_index(q);
    TROUPE_UNROLL for (int r = 0; r < R; ++r) {
      const quad wq = {_mm512_load_si512(w[r].q + b * 32), _mm512_load_si512(w[r].q + b * 32 + 64)};
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(quad_dot(wq, x_lo[t], x_hi[t])),
                                    _mm512_permutexvar_ps(idx, scale[r][t]), acc[r][t]);
    }
  }

  static void run(const unpacked_row (&w)[R], const act_q8_row (&x)[T], int64_t n, float* y,
                  int64_t y_stride) {
    const int64_t nb = n / 32;
    __m512 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm512_setzero_ps();
    for (int64_t b0 = 0; b0 < nb; b0 += 16) {
      __m512 scale[R][T];
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        const __m512 d = _mm512_load_ps(w[r].d + b0), f = _mm512_load_ps(w[r].f + b0);
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          scale[r][t] = _mm512_mul_ps(d, _mm512_load_ps(x[t].d + b0));
          acc[r][t] = _mm512_fmadd_ps(f, _mm512_load_ps(x[t].s + b0), acc[r][t]);
        }
      }
      const int64_t quads = (nb - b0 + 3) / 4;
      if (quads >= 4) {
        TROUPE_UNROLL for (int q = 0; q < 4; ++q)
          step(w, x, b0 + 4 * q, q, scale, acc);
      } else {
        for (int q = 0; q < quads; ++q)
          step(w, x, b0 + 4 * q, q, scale, acc);
      }
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        y[t * y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

// Tokens at a time against unpacked rows: 4 x 4 accumulators, their 16
// scale vectors and 8 activation vectors fill the register file.
constexpr int unpacked_tokens = 4;

template <int R, int T>
void run_unpacked(const unpacked_row (&w)[R], const tile_args& a, int t0) {
  if constexpr (T > 1) {
    if (a.nt - t0 < T)
      return run_unpacked<R, T - 1>(w, a, t0);
  }
  act_q8_row x[T];
  TROUPE_UNROLL for (int t = 0; t < T; ++t)
    x[t] = act_q8_at(static_cast<const char*>(a.x) + (t0 + t) * a.x_stride, a.n);
  unpacked_kernel<R, T>::run(w, x, a.n, a.y + t0 * a.y_stride, a.y_stride);
}

template <class W>
struct legacy_rows {
  template <int R>
  static void rows(const tile_args& a) {
    if (a.nt == 1)
      return legacy_direct<W>::template run<R>(a);
    const size_t row_bytes = act_q8_row_bytes(a.n);
    unpacked_row w[R];
    TROUPE_UNROLL for (int r = 0; r < R; ++r) {
      auto* out = static_cast<uint8_t*>(a.scratch) + r * row_bytes;
      unpack_row<W>(static_cast<const char*>(a.w) + r * a.w_stride, a.n, out);
      w[r] = unpacked_at(out, a.n);
    }
    for (int t0 = 0; t0 < a.nt; t0 += unpacked_tokens)
      run_unpacked<R, unpacked_tokens>(w, a, t0);
  }
};

constexpr int legacy_max_rows = 4;

size_t legacy_scratch_bytes(int64_t n) { return legacy_max_rows * act_q8_row_bytes(n); }

template <class W>
constexpr type_kernel make_legacy_kernel() {
  return {tile_by_rows<legacy_rows<W>, legacy_max_rows>, act_kind::q8x4, legacy_max_rows,
          unpacked_tokens, legacy_scratch_bytes};
}

// act_q8 rows in the x4 layout; the same bytes as quantize_act_q8x4
// (vcvtps2dq rounds to nearest even like its scalar rounding, and
// |x / d| <= 127 saturates nowhere).
void quantize_q8x4(const float* x, void* dst, int64_t n) {
  const int64_t nb = n / 32, nbp = act_q8_blocks(n);
  auto* qs = static_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + nbp * 32);
  float* s = d + nbp;
  for (int64_t b = 0; b < nb; ++b, x += 32) {
    const __m512 lo = _mm512_loadu_ps(x), hi = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
    const float db = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
    const __m512i qlo = _mm512_cvtps_epi32(_mm512_mul_ps(lo, id));
    const __m512i qhi = _mm512_cvtps_epi32(_mm512_mul_ps(hi, id));
    int8_t* quad = qs + b / 4 * 128 + b % 4 * 16;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(quad), _mm512_cvtsepi32_epi8(qlo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(quad + 64), _mm512_cvtsepi32_epi8(qhi));
    d[b] = db;
    s[b] = db * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(qlo, qhi)));
  }
  // Zero what the last partial quad and the padding leave.
  for (int64_t b = nb; b < nbp; ++b) {
    int8_t* quad = qs + b / 4 * 128 + b % 4 * 16;
    for (int i = 0; i < 16; ++i)
      quad[i] = quad[64 + i] = 0;
    d[b] = s[b] = 0.0f;
  }
}

} // namespace

legacy_kernels legacy_kernels_avx512() {
  return {make_legacy_kernel<q8_0_weights>(), make_legacy_kernel<q4_0_weights>(),
          make_legacy_kernel<q4_1_weights>(), quantize_q8x4};
}

#else

legacy_kernels legacy_kernels_avx512() { return {}; }

#endif

} // namespace troupe::gpu::cpu
