#include "gpu/cpu/kernels.hpp"

// AVX-512 (F, BW, VL, VNNI) kernels for the float types, and the level's
// kernel set (the quantized types' kernels are in kernels_avx512_q.cpp and
// kernels_avx512_k.cpp). Built with -mavx512f -mavx512bw -mavx512vl
// -mavx512vnni -mavx2 -mfma -mf16c (gpu/cpu/quant.cmake); without them this
// unit only says "not built". Nothing here may call an inline function
// shared with other units unless forced inline (a copy compiled with these
// flags could be the one the linker keeps for code that runs on any CPU),
// hence no standard-library calls.

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
  defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define TROUPE_KERNELS_AVX512 1
#include "gpu/cpu/tile_dispatch.hpp"
#include <immintrin.h>
#endif

namespace troupe::gpu::cpu {

#if TROUPE_KERNELS_AVX512
namespace {

// ---- float types against f32 activations -------------------------------

struct f32_weights {
  static constexpr int size = 4;
  static __m512 load(const void* w, int64_t i) {
    return _mm512_loadu_ps(static_cast<const float*>(w) + i);
  }
  static __m512 load(const void* w, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(w) + i);
  }
};

struct f16_weights {
  static constexpr int size = 2;
  static __m512 load(const void* w, int64_t i) {
    return _mm512_cvtph_ps(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + i)));
  }
  static __m512 load(const void* w, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(w) + i));
  }
};

struct bf16_weights {
  static constexpr int size = 2;
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load(const void* w, int64_t i) {
    return widen(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(w) + i)));
  }
  static __m512 load(const void* w, int64_t i, __mmask16 m) {
    return widen(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(w) + i));
  }
};

template <class W>
struct float_kernel {
  template <int R, int T>
  static void run(const tile_args& a) {
    const void* w[R];
    const float* x[T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      w[r] = static_cast<const char*>(a.w) + r * a.w_stride;
    TROUPE_UNROLL for (int t = 0; t < T; ++t)
      x[t] = reinterpret_cast<const float*>(static_cast<const char*>(a.x) + t * a.x_stride);
    __m512 acc[R][T];
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        acc[r][t] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= a.n; i += 16) {
      __m512 xv[T];
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        xv[t] = _mm512_loadu_ps(x[t] + i);
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        _mm_prefetch(static_cast<const char*>(w[r]) + i * W::size + prefetch_distance, _MM_HINT_T0);
        const __m512 wv = W::load(w[r], i);
        TROUPE_UNROLL for (int t = 0; t < T; ++t)
          acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
      }
    }
    if (i < a.n) {
      const auto m = static_cast<__mmask16>((1u << (a.n - i)) - 1);
      TROUPE_UNROLL for (int r = 0; r < R; ++r) {
        const __m512 wv = W::load(w[r], i, m);
        TROUPE_UNROLL for (int t = 0; t < T; ++t)
          acc[r][t] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x[t] + i), acc[r][t]);
      }
    }
    TROUPE_UNROLL for (int r = 0; r < R; ++r)
      TROUPE_UNROLL for (int t = 0; t < T; ++t)
        a.y[t * a.y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
};

} // namespace

const kernel_set* kernels_avx512() {
  static const kernel_set set = [] {
    const legacy_kernels q = legacy_kernels_avx512();
    const k_quant_kernels k = k_quant_kernels_avx512();
    return kernel_set{
      simd::avx512,
      make_type_kernel<float_kernel<f32_weights>, 4, 4>(act_kind::f32),
      make_type_kernel<float_kernel<f16_weights>, 4, 4>(act_kind::f32),
      make_type_kernel<float_kernel<bf16_weights>, 4, 4>(act_kind::f32),
      q.q8_0,
      q.q4_0,
      q.q4_1,
      k.q4_k,
      k.q6_k,
      quantize_act_q8, // unused by this level's kernels
      q.quantize_q8x4,
      k.quantize_q8_k,
    };
  }();
  return &set;
}

#else

const kernel_set* kernels_avx512() { return nullptr; }

#endif

} // namespace troupe::gpu::cpu
