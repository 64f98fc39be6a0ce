#include "gpu/cpu/kernels.hpp"

// AVX2 + FMA + F16C kernels for Q4_K and Q6_K against Q8_K. Built with the
// same flags as kernels_avx2.cpp and under the same rule: no inline
// functions shared with other units.
//
// Each 32 weights become unsigned bytes in element order; vpmaddubsw
// against the activation bytes gives 16-bit pair sums (at most 63 * 128 * 2),
// vpmaddwd multiplies them by the 16-bit sub-block scales into 32 bits. The
// constant parts (Q4_K's mins, Q6_K's -32) come from the activation's bsums,
// once per super-block.

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define TROUPE_KERNELS_AVX2 1
#include "gpu/cpu/quant_block.hpp"
#include "gpu/cpu/tile_dispatch.hpp"
#include <immintrin.h>
#endif

namespace troupe::gpu::cpu {

#if TROUPE_KERNELS_AVX2
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 16-bit lanes 0-7 = lo, lanes 8-15 = hi.
inline __m256i halves_epi16(int lo, int hi) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(hi)),
                          _mm_set1_epi16(static_cast<short>(lo)));
}

// A Q4_K block's 6-bit scales (bytes 0-7) and mins (bytes 8-15).
inline void q4_k_unpack_scales(const uint8_t* s, uint8_t (&out)[16]) {
  uint32_t a, b, c;
  __builtin_memcpy(&a, s, 4);
  __builtin_memcpy(&b, s + 4, 4);
  __builtin_memcpy(&c, s + 8, 4);
  const uint32_t words[4] = {
    a & 0x3F3F3F3F,
    (c & 0x0F0F0F0F) | (((a >> 6) & 0x03030303) << 4),
    b & 0x3F3F3F3F,
    ((c >> 4) & 0x0F0F0F0F) | (((b >> 6) & 0x03030303) << 4),
  };
  __builtin_memcpy(out, words, 16);
}

template <int R, int T>
inline void finish_block(__m256 (&acc)[R][T], __m256i (&isum)[R][T], const float (&scale)[R][T]) {
  TROUPE_UNROLL for (int r = 0; r < R; ++r)
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][t]), _mm256_set1_ps(scale[r][t]),
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
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < a.n / qk_k; ++b) {
      uint8_t sm[R][16];
      __m256i isum[R][T];
      float scale[R][T];
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        q4_k_unpack_scales(w[r][b].scales, sm[r]);
        // Each min pairs with two 16-element bsums.
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm[r] + 8)),
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sm[r] + 8))));
        const float d = _cvtsh_ss(w[r][b].d), dmin = _cvtsh_ss(w[r][b].dmin);
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].bsums));
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(bsums, mins)),
                                      _mm256_set1_ps(-dmin * x[t][b].d), acc[r][t]);
          scale[r][t] = d * x[t][b].d;
          isum[r][t] = _mm256_setzero_si256();
        }
      }
      TROUPE_UNROLL for (int c = 0; c < 4; ++c) {
        __m256i x0[T], x1[T];
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          x0[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].qs + 64 * c));
          x1[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].qs + 64 * c + 32));
        }
        TROUPE_UNROLL for (int r = 0; r < R; ++r) {
          _mm_prefetch(reinterpret_cast<const char*>(w[r][b].qs + 32 * c) + prefetch_distance,
                       _MM_HINT_T0);
          const __m256i q =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qs + 32 * c));
          const __m256i q0 = _mm256_and_si256(q, low4);
          const __m256i q1 = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
          const __m256i sc0 = _mm256_set1_epi16(sm[r][2 * c]);
          const __m256i sc1 = _mm256_set1_epi16(sm[r][2 * c + 1]);
          TROUPE_UNROLL for (int t = 0; t < T; ++t) {
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(q0, x0[t]), sc0);
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(q1, x1[t]), sc1);
            isum[r][t] = _mm256_add_epi32(isum[r][t], _mm256_add_epi32(p0, p1));
          }
        }
      }
      finish_block<R, T>(acc, isum, scale);
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        a.y[t * a.y_stride + r] = hsum(acc[r][t]);
  }
};

// The 32 six-bit values of quarter k (elements 32k..32k+31) of a Q6_K half.
inline __m256i q6_k_quarter(__m256i ql0, __m256i ql1, __m256i qh, int k) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
  const __m256i ql = k % 2 ? ql1 : ql0;
  const __m256i lo = _mm256_and_si256(k < 2 ? ql : _mm256_srli_epi16(ql, 4), low4);
  __m256i hi = qh;
  if (k == 0)
    hi = _mm256_slli_epi16(qh, 4);
  else if (k == 1)
    hi = _mm256_slli_epi16(qh, 2);
  else if (k == 3)
    hi = _mm256_srli_epi16(qh, 2);
  return _mm256_or_si256(lo, _mm256_and_si256(hi, bits45));
}

struct q6_k_kernel {
  template <int R, int T>
  static void run(const tile_args& a) {
    const block_q6_k* w[R];
    const block_q8_k* x[T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      w[r] = reinterpret_cast<const block_q6_k*>(static_cast<const char*>(a.w) + r * a.w_stride);
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      x[t] = reinterpret_cast<const block_q8_k*>(static_cast<const char*>(a.x) + t * a.x_stride);
    __m256 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < a.n / qk_k; ++b) {
      __m256i isum[R][T];
      float scale[R][T];
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        const __m256i sc = _mm256_cvtepi8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[r][b].scales)));
        const float d = _cvtsh_ss(w[r][b].d);
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          // sum sc (q - 32) x = sum sc q x - 32 sum_g sc_g bsum_g.
          const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].bsums));
          isum[r][t] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                        _mm256_slli_epi32(_mm256_madd_epi16(sc, bsums), 5));
          scale[r][t] = d * x[t][b].d;
        }
      }
      TROUPE_UNROLL for (int h = 0; h < 2; ++h) {
        TROUPE_UNROLL for (int r = 0; r < R; ++r) {
          const char* base = reinterpret_cast<const char*>(&w[r][b]) + prefetch_distance;
          _mm_prefetch(base + 128 * h, _MM_HINT_T0);
          _mm_prefetch(base + 128 * h + 64, _MM_HINT_T0);
          const uint8_t* ql = w[r][b].ql + 64 * h;
          const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
          const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
          const __m256i qh =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qh + 32 * h));
          const int8_t* sc = w[r][b].scales + 8 * h;
          TROUPE_UNROLL for (int k = 0; k < 4; ++k) {
            const __m256i q = q6_k_quarter(ql0, ql1, qh, k);
            const __m256i scv = halves_epi16(sc[2 * k], sc[2 * k + 1]);
            TROUPE_UNROLL for (int t = 0; t < T; ++t) {
              const __m256i xv = _mm256_loadu_si256(
                reinterpret_cast<const __m256i*>(x[t][b].qs + 128 * h + 32 * k));
              isum[r][t] = _mm256_add_epi32(
                isum[r][t], _mm256_madd_epi16(_mm256_maddubs_epi16(q, xv), scv));
            }
          }
        }
      }
      finish_block<R, T>(acc, isum, scale);
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        a.y[t * a.y_stride + r] = hsum(acc[r][t]);
  }
};

// block_q8_k rows; the same bytes as quantize_q8_k (see quantize_q8 in
// kernels_avx2.cpp).
void quantize_q8_k_row(const float* x, void* dst, int64_t n) {
  auto* out = static_cast<block_q8_k*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / qk_k; ++b, x += qk_k) {
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 32; ++j)
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * j)));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127.0f;
    const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    out[b].d = d;
    for (int j = 0; j < 16; ++j) {
      const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16 * j), id));
      const __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16 * j + 8), id));
      // packs interleaves 128-bit lanes; permute puts the 16 bytes in order.
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
      const __m128i bytes =
        _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16 * j), bytes);
      __m128i s = _mm_add_epi32(_mm256_castsi256_si128(_mm256_add_epi32(q0, q1)),
                                _mm256_extracti128_si256(_mm256_add_epi32(q0, q1), 1));
      s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
      out[b].bsums[j] = static_cast<int16_t>(_mm_cvtsi128_si32(s));
    }
  }
}

} // namespace

k_quant_kernels k_quant_kernels_avx2() {
  return {make_type_kernel<q4_k_kernel, 2, 2>(act_kind::q8_k),
          make_type_kernel<q6_k_kernel, 2, 2>(act_kind::q8_k), quantize_q8_k_row};
}

#else

k_quant_kernels k_quant_kernels_avx2() { return {}; }

#endif

} // namespace troupe::gpu::cpu
