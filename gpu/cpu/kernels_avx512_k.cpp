#include "gpu/cpu/kernels.hpp"

// AVX-512 (F, BW, VL, VNNI) kernels for Q4_K and Q6_K against Q8_K. Built
// with the same flags as kernels_avx512.cpp and under the same rule: no
// inline functions shared with other units.
//
// Each 64 weights become unsigned bytes in element order; vpmaddubsw against
// the activation bytes gives 16-bit pair sums (at most 63 * 128 * 2, no
// saturation), and vpdpwssd multiplies them by the 16-bit sub-block scales
// and accumulates in 32 bits. The constant parts (Q4_K's mins, Q6_K's -32)
// come from the activation's bsums, once per super-block.

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
  defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define TROUPE_KERNELS_AVX512 1
#include "gpu/cpu/quant_block.hpp"
#include "gpu/cpu/tile_dispatch.hpp"
#include <immintrin.h>
#endif

namespace troupe::gpu::cpu {

#if TROUPE_KERNELS_AVX512
namespace {

// A vector of 32 16-bit lanes: lanes 0-15 hold lo, lanes 16-31 hold hi.
inline __m512i halves_epi16(short lo, short hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(lo), _mm256_set1_epi16(hi), 1);
}

// 16-bit lane index vector selecting lane i for lanes 8k..8k+7, i = first+k.
inline __m512i quarter_index(short first) {
  return _mm512_add_epi16(_mm512_set1_epi16(first),
                          _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_setr_epi16(
                                               0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)),
                                             _mm256_setr_epi16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3,
                                                               3, 3, 3, 3, 3),
                                             1));
}

// A Q4_K block's scales as 16-bit lanes 0-7 and mins as lanes 8-15.
inline __m512i q4_k_unpack_scales(const uint8_t* s) {
  uint32_t a, b, c;
  __builtin_memcpy(&a, s, 4);
  __builtin_memcpy(&b, s + 4, 4);
  __builtin_memcpy(&c, s + 8, 4);
  const uint32_t sc_lo = a & 0x3F3F3F3F, m_lo = b & 0x3F3F3F3F;
  const uint32_t sc_hi = (c & 0x0F0F0F0F) | (((a >> 6) & 0x03030303) << 4);
  const uint32_t m_hi = ((c >> 4) & 0x0F0F0F0F) | (((b >> 6) & 0x03030303) << 4);
  const __m128i bytes = _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                       static_cast<int>(m_lo), static_cast<int>(m_hi));
  return _mm512_cvtepu8_epi16(_mm256_zextsi128_si256(bytes));
}

template <int R, int T>
inline void finish_block(__m512 (&acc)[R][T], __m512i (&isum)[R][T], const float (&scale)[R][T]) {
  TROUPE_UNROLL for (int r = 0; r < R; ++r)
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][t]), _mm512_set1_ps(scale[r][t]),
                                  acc[r][t]);
}

struct q4_k_kernel {
  template <int R, int T>
  static void run(const tile_args& a) {
    const block_q4_k* w[R];
    const block_q8_k* x[T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      w[r] = reinterpret_cast<const block_q4_k*>(static_cast<const char*>(a.w) + r * a.w_stride);
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      x[t] = reinterpret_cast<const block_q8_k*>(static_cast<const char*>(a.x) + t * a.x_stride);
    const __m512i nibble_shift = halves_epi16(0, 4);
    const __m256i min_pairs = _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14,
                                                14, 15, 15);
    __m512 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < a.n / qk_k; ++b) {
      __m512i scales[R];
      __m512i isum[R][T];
      float scale[R][T];
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        scales[r] = q4_k_unpack_scales(w[r][b].scales);
        const __m256i mins = _mm256_permutexvar_epi16(min_pairs, _mm512_castsi512_si256(scales[r]));
        const float d = _cvtsh_ss(w[r][b].d), dmin = _cvtsh_ss(w[r][b].dmin);
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].bsums));
          const __m256i m = _mm256_madd_epi16(bsums, mins);
          acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(m)),
                                      _mm512_set1_ps(-dmin * x[t][b].d), acc[r][t]);
          scale[r][t] = d * x[t][b].d;
          isum[r][t] = _mm512_setzero_si512();
        }
      }
      TROUPE_UNROLL for (int c = 0; c < 4; ++c) {
        __m512i xv[T];
        TROUPE_UNROLL for (int t = 0; t < T; ++t)
          xv[t] = _mm512_loadu_si512(x[t][b].qs + 64 * c);
        const __m512i sc_index = halves_epi16(static_cast<short>(2 * c), static_cast<short>(2 * c + 1));
        TROUPE_UNROLL for (int r = 0; r < R; ++r) {
          _mm_prefetch(reinterpret_cast<const char*>(w[r][b].qs + 32 * c) + prefetch_distance,
                       _MM_HINT_T0);
          const __m512i q = _mm512_and_si512(
            _mm512_srlv_epi16(_mm512_broadcast_i64x4(_mm256_loadu_si256(
                                reinterpret_cast<const __m256i*>(w[r][b].qs + 32 * c))),
                              nibble_shift),
            _mm512_set1_epi8(0x0F));
          const __m512i sc = _mm512_permutexvar_epi16(sc_index, scales[r]);
          TROUPE_UNROLL for (int t = 0; t < T; ++t)
            isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], _mm512_maddubs_epi16(q, xv[t]), sc);
        }
      }
      finish_block<R, T>(acc, isum, scale);
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        a.y[t * a.y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

struct q6_k_kernel {
  template <int R, int T>
  static void run(const tile_args& a) {
    const block_q6_k* w[R];
    const block_q8_k* x[T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      w[r] = reinterpret_cast<const block_q6_k*>(static_cast<const char*>(a.w) + r * a.w_stride);
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      x[t] = reinterpret_cast<const block_q8_k*>(static_cast<const char*>(a.x) + t * a.x_stride);
    // Bits 4-5 of each 6-bit value come from qh: bit pair k of qh[l] for
    // the element 32k + l of a half.
    const __m512i high_up = halves_epi16(4, 2), high_down = halves_epi16(0, 2);
    const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    __m512 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < a.n / qk_k; ++b) {
      __m512i scales[R];
      __m512i isum[R][T];
      float scale[R][T];
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        const __m256i sc = _mm256_cvtepi8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].scales)));
        scales[r] = _mm512_castsi256_si512(sc);
        const float d = _cvtsh_ss(w[r][b].d);
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          // sum sc (q - 32) x = sum sc q x - 32 sum_g sc_g bsum_g.
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].bsums));
          const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(sc, bsums), 5);
          isum[r][t] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_zextsi256_si512(offset));
          scale[r][t] = d * x[t][b].d;
        }
      }
      TROUPE_UNROLL for (int h = 0; h < 2; ++h) {
        __m512i x0[T], x1[T];
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          x0[t] = _mm512_loadu_si512(x[t][b].qs + 128 * h);
          x1[t] = _mm512_loadu_si512(x[t][b].qs + 128 * h + 64);
        }
        const __m512i index0 = quarter_index(static_cast<short>(8 * h));
        const __m512i index1 = quarter_index(static_cast<short>(8 * h + 4));
        TROUPE_UNROLL for (int r = 0; r < R; ++r) {
          const char* base = reinterpret_cast<const char*>(&w[r][b]) + prefetch_distance;
          _mm_prefetch(base + 128 * h, _MM_HINT_T0);
          _mm_prefetch(base + 128 * h + 64, _MM_HINT_T0);
          const __m512i ql = _mm512_loadu_si512(w[r][b].ql + 64 * h);
          const __m512i qh = _mm512_broadcast_i64x4(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qh + 32 * h)));
          const __m512i q0 = _mm512_or_si512(
            _mm512_and_si512(ql, low4), _mm512_and_si512(_mm512_sllv_epi16(qh, high_up), bits45));
          const __m512i q1 = _mm512_or_si512(
            _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
            _mm512_and_si512(_mm512_srlv_epi16(qh, high_down), bits45));
          const __m512i sc0 = _mm512_permutexvar_epi16(index0, scales[r]);
          const __m512i sc1 = _mm512_permutexvar_epi16(index1, scales[r]);
          TROUPE_UNROLL for (int t = 0; t < T; ++t) {
            isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], _mm512_maddubs_epi16(q0, x0[t]), sc0);
            isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], _mm512_maddubs_epi16(q1, x1[t]), sc1);
          }
        }
      }
      finish_block<R, T>(acc, isum, scale);
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        a.y[t * a.y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

// block_q8_k rows; the same bytes as quantize_q8_k (see quantize_q8x4 in
// kernels_avx512_q.cpp).
void quantize_q8_k_row(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<block_q8_k*>(dst);
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    __m512 amax = _mm512_setzero_ps();
    for (int j = 0; j < 16; ++j)
      amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * j)));
    const float d = _mm512_reduce_max_ps(amax) / 127.0f;
    const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    out[b].d = d;
    for (int j = 0; j < 16; ++j) {
      const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * j), id));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16 * j), _mm512_cvtsepi32_epi8(q));
      out[b].bsums[j] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
  }
}

} // namespace

k_quant_kernels k_quant_kernels_avx512() {
  return {make_type_kernel<q4_k_kernel, 4, 3>(act_kind::q8_k),
          make_type_kernel<q6_k_kernel, 4, 3>(act_kind::q8_k), quantize_q8_k_row};
}

#else

k_quant_kernels k_quant_kernels_avx512() { return {}; }

#endif

} // namespace troupe::gpu::cpu
