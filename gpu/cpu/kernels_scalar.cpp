#include "gpu/cpu/kernels.hpp"
#include "gpu/cpu/quant_block.hpp"
#include "gpu/cpu/quantize_k.hpp"

// The reference dot products: integer sums within a block, one float
// multiply-add per block, written to be obviously right rather than fast.

namespace troupe::gpu::cpu {

namespace {

template <typename Convert>
float dot_float(int64_t n, const void* w, const float* x, Convert convert) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    sum += convert(w, i) * x[i];
  return sum;
}

float dot_f32(int64_t n, const void* w, const void* x) {
  return dot_float(n, w, static_cast<const float*>(x),
                   [](const void* p, int64_t i) { return static_cast<const float*>(p)[i]; });
}

float dot_f16(int64_t n, const void* w, const void* x) {
  return dot_float(n, w, static_cast<const float*>(x), [](const void* p, int64_t i) {
    return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
  });
}

float dot_bf16(int64_t n, const void* w, const void* x) {
  return dot_float(n, w, static_cast<const float*>(x), [](const void* p, int64_t i) {
    return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
  });
}

float dot_q8_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const block_q8_0*>(w);
  const act_q8_row a = act_q8_at(x, n);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk; ++b) {
    int isum = 0;
    for (int i = 0; i < qk; ++i)
      isum += wb[b].qs[i] * a.qs[b * qk + i];
    sum += f16_to_f32(wb[b].d) * a.d[b] * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_0(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const block_q4_0*>(w);
  const act_q8_row a = act_q8_at(x, n);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk; ++b) {
    const int8_t* xq = a.qs + b * qk;
    int isum = 0;
    for (int i = 0; i < qk / 2; ++i)
      isum += ((wb[b].qs[i] & 0xF) - 8) * xq[i] + ((wb[b].qs[i] >> 4) - 8) * xq[i + qk / 2];
    sum += f16_to_f32(wb[b].d) * a.d[b] * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_1(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const block_q4_1*>(w);
  const act_q8_row a = act_q8_at(x, n);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk; ++b) {
    const int8_t* xq = a.qs + b * qk;
    int isum = 0;
    for (int i = 0; i < qk / 2; ++i)
      isum += (wb[b].qs[i] & 0xF) * xq[i] + (wb[b].qs[i] >> 4) * xq[i + qk / 2];
    // sum(d q + m) x = d dx sum(q xq) + m * (dx sum(xq)) = ... + m * s.
    sum += f16_to_f32(wb[b].d) * a.d[b] * static_cast<float>(isum) +
           f16_to_f32(wb[b].m) * a.s[b];
  }
  return sum;
}

float dot_q4_k(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const block_q4_k*>(w);
  const auto* xb = static_cast<const block_q8_k*>(x);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk_k; ++b) {
    int scaled = 0, mins = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      q4_k_scale_min(wb[b].scales, j, sc, m);
      const uint8_t* q = wb[b].qs + 32 * (j / 2);
      const int8_t* xq = xb[b].qs + 32 * j;
      int isum = 0;
      for (int l = 0; l < 32; ++l)
        isum += ((q[l] >> (4 * (j % 2))) & 0xF) * xq[l];
      scaled += sc * isum;
      mins += m * (xb[b].bsums[2 * j] + xb[b].bsums[2 * j + 1]);
    }
    sum += xb[b].d * (f16_to_f32(wb[b].d) * static_cast<float>(scaled) -
                      f16_to_f32(wb[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// The 6-bit value of element e (0..255) of a Q6_K block, 0..63.
int q6_k_value(const block_q6_k& b, int e) {
  const int h = e / 128, k = (e % 128) / 32, l = e % 32;
  const uint8_t low = b.ql[64 * h + l + 32 * (k % 2)];
  const int nibble = k < 2 ? (low & 0xF) : (low >> 4);
  return nibble | (((b.qh[32 * h + l] >> (2 * k)) & 3) << 4);
}

float dot_q6_k(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const block_q6_k*>(w);
  const auto* xb = static_cast<const block_q8_k*>(x);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / qk_k; ++b) {
    int scaled = 0;
    for (int j = 0; j < 16; ++j) {
      int isum = 0;
      for (int e = 16 * j; e < 16 * j + 16; ++e)
        isum += (q6_k_value(wb[b], e) - 32) * xb[b].qs[e];
      scaled += wb[b].scales[j] * isum;
    }
    sum += xb[b].d * f16_to_f32(wb[b].d) * static_cast<float>(scaled);
  }
  return sum;
}

template <float (*Dot)(int64_t, const void*, const void*)>
void tile(const tile_args& a) {
  for (int t = 0; t < a.nt; ++t)
    for (int r = 0; r < a.nr; ++r)
      a.y[t * a.y_stride + r] =
        Dot(a.n, static_cast<const char*>(a.w) + r * a.w_stride,
            static_cast<const char*>(a.x) + t * a.x_stride);
}

void quantize_q8_k_row(const float* x, void* dst, int64_t n) {
  quantize_q8_k(x, static_cast<block_q8_k*>(dst), n / qk_k);
}

const kernel_set scalar_set = {
  simd::scalar,
  {tile<dot_f32>, act_kind::f32, 1, 1, nullptr},
  {tile<dot_f16>, act_kind::f32, 1, 1, nullptr},
  {tile<dot_bf16>, act_kind::f32, 1, 1, nullptr},
  {tile<dot_q8_0>, act_kind::q8, 1, 1, nullptr},
  {tile<dot_q4_0>, act_kind::q8, 1, 1, nullptr},
  {tile<dot_q4_1>, act_kind::q8, 1, 1, nullptr},
  {tile<dot_q4_k>, act_kind::q8_k, 1, 1, nullptr},
  {tile<dot_q6_k>, act_kind::q8_k, 1, 1, nullptr},
  quantize_act_q8,
  quantize_act_q8x4,
  quantize_q8_k_row,
};

} // namespace

const type_kernel* kernel_set::find(ggml_type t) const {
  switch (t) {
  case ggml_type::f32: return &f32;
  case ggml_type::f16: return &f16;
  case ggml_type::bf16: return &bf16;
  case ggml_type::q8_0: return &q8_0;
  case ggml_type::q4_0: return &q4_0;
  case ggml_type::q4_1: return &q4_1;
  case ggml_type::q4_k: return &q4_k;
  case ggml_type::q6_k: return &q6_k;
  case ggml_type::q8_1:
  case ggml_type::q8_k: return nullptr;
  }
  return nullptr;
}

const kernel_set& kernels_scalar() { return scalar_set; }

} // namespace troupe::gpu::cpu
