#include "gpu/cpu/kernels.hpp"

// AVX2 + FMA + F16C kernels for the float and 32-block types. Built with
// -mavx2 -mfma -mf16c (gpu/cpu/quant.cmake); without them this unit only
// says "not built". Nothing here may call an inline function shared with
// other units (it would be compiled with these flags and could be picked by
// the linker for code that runs on any CPU), hence no standard library.

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define TROUPE_KERNELS_AVX2 1
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

// ---- 32-block types against act_q8 -------------------------------------
//
// One block per 256-bit register. vpmaddubsw needs unsigned weights: Q4
// nibbles are; Q8_0 uses |w| and moves w's sign onto x (vpsignb), which
// cannot overflow because |x| <= 127. Q4_0's -8 and Q4_1's min are folded in
// through the activation block sums s, once per 8 blocks. Block scales are
// gathered 8 at a time and multiplied by the activation scales into a small
// table that each block broadcasts from.

// The first 4 bytes of `count` (1..8) blocks `Stride` bytes apart.
template <int Stride>
inline __m256i gather_heads(const char* p, int64_t count) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i offsets = _mm256_mullo_epi32(lane, _mm256_set1_epi32(Stride));
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lane);
  return _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), reinterpret_cast<const int*>(p),
                                     offsets, mask, 1);
}

inline __m256 f16_low_halves(__m256i v) {
  const __m256i lo = _mm256_and_si256(v, _mm256_set1_epi32(0xFFFF));
  return _mm256_cvtph_ps(
    _mm_packus_epi32(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1)));
}

inline __m256i sum_pairs(__m256i v) { return _mm256_madd_epi16(v, _mm256_set1_epi16(1)); }

inline __m256i spread_nibbles(const char* p) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
}

struct q8_0_weights {
  static constexpr int stride = 34;
  struct prepared {
    __m256i abs, sign;
  };
  static prepared prepare(const char* b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    return {_mm256_abs_epi8(q), q};
  }
  static __m256i dot(const prepared& w, __m256i x) {
    return sum_pairs(_mm256_maddubs_epi16(w.abs, _mm256_sign_epi8(x, w.sign)));
  }
  static __m256 sum_factor(__m256i, __m256) { return _mm256_setzero_ps(); }
};

template <int Offset, int Stride>
struct q4_weights {
  static constexpr int stride = Stride;
  using prepared = __m256i;
  static prepared prepare(const char* b) { return spread_nibbles(b + Offset); }
  static __m256i dot(prepared w, __m256i x) { return sum_pairs(_mm256_maddubs_epi16(w, x)); }
};

struct q4_0_weights : q4_weights<2, 18> {
  static __m256 sum_factor(__m256i, __m256 d) { return _mm256_mul_ps(d, _mm256_set1_ps(-8.0f)); }
};

struct q4_1_weights : q4_weights<4, 20> {
  static __m256 sum_factor(__m256i heads, __m256) {
    return f16_low_halves(_mm256_srli_epi32(heads, 16));
  }
};

template <class W>
struct legacy_kernel {
  // Block b0 + i of every row against every token.
  template <int R, int T>
  TROUPE_INLINE static void step(const char* const (&w)[R], const act_q8_row (&x)[T],
                                 int64_t b0, int i, const float (&scale)[R][T][8],
                                 __m256 (&acc)[R][T]) {
    __m256i xv[T];
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      xv[t] = _mm256_load_si256(reinterpret_cast<const __m256i*>(x[t].qs + (b0 + i) * 32));
    TROUPE_UNROLL for (int r = 0; r < R; ++r) {
      const char* blk = w[r] + (b0 + i) * W::stride;
      _mm_prefetch(blk + prefetch_distance, _MM_HINT_T0);
      const typename W::prepared wv = W::prepare(blk);
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(W::dot(wv, xv[t])),
                                    _mm256_broadcast_ss(&scale[r][t][i]), acc[r][t]);
    }
  }

  template <int R, int T>
  static void run(const tile_args& a) {
    const int64_t nb = a.n / 32;
    const char* w[R];
    act_q8_row x[T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      w[r] = static_cast<const char*>(a.w) + r * a.w_stride;
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      x[t] = act_q8_at(static_cast<const char*>(a.x) + t * a.x_stride, a.n);
    __m256 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm256_setzero_ps();
    alignas(32) float scale[R][T][8];
    for (int64_t b0 = 0; b0 < nb; b0 += 8) {
      const int64_t count = nb - b0 < 8 ? nb - b0 : 8;
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        const __m256i heads = gather_heads<W::stride>(w[r] + b0 * W::stride, count);
        const __m256 d = f16_low_halves(heads);
        const __m256 f = W::sum_factor(heads, d);
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          _mm256_store_ps(scale[r][t], _mm256_mul_ps(d, _mm256_load_ps(x[t].d + b0)));
          acc[r][t] = _mm256_fmadd_ps(f, _mm256_load_ps(x[t].s + b0), acc[r][t]);
        }
      }
      if (count == 8) {
        TROUPE_UNROLL for (int i = 0; i < 8; ++i)
          step<R, T>(w, x, b0, i, scale, acc);
      } else {
        for (int i = 0; i < count; ++i)
          step<R, T>(w, x, b0, i, scale, acc);
      }
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        a.y[t * a.y_stride + r] = hsum(acc[r][t]);
  }
};

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

// Eight int32 (|v| <= 127) to eight int8 at p.
inline void store_8_bytes(int8_t* p, __m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(w, w));
}

// act_q8 rows; the same bytes as quantize_act_q8 (vcvtps2dq rounds to
// nearest even like its scalar rounding, and |x / d| <= 127).
void quantize_q8(const float* x, void* dst, int64_t n) {
  const int64_t nb = n / 32, nbp = act_q8_blocks(n);
  auto* qs = static_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(qs + nbp * 32);
  float* s = d + nbp;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < nb; ++b, x += 32) {
    __m256 v[4], amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(x + 8 * j);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[j]));
    }
    const float db = hmax(amax) / 127.0f;
    const __m256 id = _mm256_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
    __m256i sum = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], id));
      store_8_bytes(qs + b * 32 + 8 * j, q);
      sum = _mm256_add_epi32(sum, q);
    }
    d[b] = db;
    s[b] = db * static_cast<float>(hsum_epi32(sum));
  }
  for (int64_t i = nb * 32; i < nbp * 32; ++i)
    qs[i] = 0;
  for (int64_t b = nb; b < nbp; ++b)
    d[b] = s[b] = 0.0f;
}

// ---- float types against f32 activations -------------------------------

struct f32_weights {
  using element = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
};

struct f16_weights {
  using element = uint16_t;
  static __m256 load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};

struct bf16_weights {
  using element = uint16_t;
  static __m256 load(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
};

template <class W>
struct float_kernel {
  using element = typename W::element;

  template <int R, int T>
  static void run(const tile_args& a) {
    const element* w[R];
    const float* x[T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      w[r] = reinterpret_cast<const element*>(static_cast<const char*>(a.w) + r * a.w_stride);
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      x[t] = reinterpret_cast<const float*>(static_cast<const char*>(a.x) + t * a.x_stride);
    __m256 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= a.n; i += 8) {
      __m256 xv[T];
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        xv[t] = _mm256_loadu_ps(x[t] + i);
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(w[r] + i) + prefetch_distance, _MM_HINT_T0);
        const __m256 wv = W::load(w[r] + i);
        TROUPE_UNROLL for (int t = 0; t < T; ++t)
          acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
      }
    }
    if (i < a.n) {
      // The last n % 8 columns, through zero-padded copies.
      element wt[8] = {};
      alignas(32) float xt[8] = {};
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        for (int64_t j = i; j < a.n; ++j)
          wt[j - i] = w[r][j];
        const __m256 wv = W::load(wt);
        TROUPE_UNROLL for (int t = 0; t < T; ++t) {
          for (int64_t j = i; j < a.n; ++j)
            xt[j - i] = x[t][j];
          acc[r][t] = _mm256_fmadd_ps(wv, _mm256_load_ps(xt), acc[r][t]);
        }
      }
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        a.y[t * a.y_stride + r] = hsum(acc[r][t]);
  }
};

} // namespace

const kernel_set* kernels_avx2() {
  static const kernel_set set = [] {
    const k_quant_kernels k = k_quant_kernels_avx2();
    return kernel_set{
      simd::avx2,
      make_type_kernel<float_kernel<f32_weights>, 4, 2>(act_kind::f32),
      make_type_kernel<float_kernel<f16_weights>, 4, 2>(act_kind::f32),
      make_type_kernel<float_kernel<bf16_weights>, 4, 2>(act_kind::f32),
      make_type_kernel<legacy_kernel<q8_0_weights>, 4, 2>(act_kind::q8),
      make_type_kernel<legacy_kernel<q4_0_weights>, 4, 2>(act_kind::q8),
      make_type_kernel<legacy_kernel<q4_1_weights>, 4, 2>(act_kind::q8),
      k.q4_k,
      k.q6_k,
      quantize_q8,
      quantize_act_q8x4, // unused by this level's kernels
      k.quantize_q8_k,
    };
  }();
  return &set;
}

#else

const kernel_set* kernels_avx2() { return nullptr; }

#endif

} // namespace troupe::gpu::cpu
