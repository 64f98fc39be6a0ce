#include "gpu/cuda/attention.cuh"

#include <cmath>

#include <cuda_runtime.h>

#include "gpu/cuda/cuda_check.hpp"
#include "gpu/cuda/warp.cuh"

namespace troupe::gpu::cuda {

namespace {

constexpr int store_threads = 128;
constexpr int attn_warps = 4;
constexpr int per_lane = attention_max_head_dim / warp_size; // head elements per lane

// Offset of head `kvh` of position p in one layer of the cache.
__device__ __forceinline__ size_t kv_offset(const int32_t* table, int p, int kvh,
                                            const kv_layer& kv) {
  const size_t block = static_cast<size_t>(table[p / kv.block_tokens]);
  const size_t slot = static_cast<size_t>(p % kv.block_tokens);
  const size_t dkv = static_cast<size_t>(kv.n_kv_heads) * kv.head_dim;
  return (block * kv.block_tokens + slot) * dkv + static_cast<size_t>(kvh) * kv.head_dim;
}

// One block per token; threads stride over its n_kv_heads * head_dim values.
__global__ void kv_store_kernel(const float* __restrict__ k, const float* __restrict__ v,
                                paged_batch b, kv_layer kv) {
  const int t = static_cast<int>(blockIdx.x);
  const int dkv = kv.n_kv_heads * kv.head_dim;
  const size_t at = kv_offset(b.tables + b.table_at[t], b.pos[t], 0, kv);
  for (int e = static_cast<int>(threadIdx.x); e < dkv; e += blockDim.x) {
    kv.keys[at + e] = k[static_cast<size_t>(t) * dkv + e];
    kv.values[at + e] = v[static_cast<size_t>(t) * dkv + e];
  }
}

// One block per (head, token). Warp w takes positions w, w + 4, ...; lane l
// holds head elements l, l + 32, ... of q and of its running output. Each
// warp keeps an online softmax (running max m, running sum l of exp(s - m),
// output scaled to the same max); the four are merged at the end.
__global__ void __launch_bounds__(attn_warps * warp_size)
  attention_kernel(const float* __restrict__ q, float* __restrict__ out, int n_heads,
                   float scale, paged_batch b, kv_layer kv) {
  __shared__ float warp_m[attn_warps], warp_l[attn_warps];
  __shared__ float warp_o[attn_warps][attention_max_head_dim];
  const int h = static_cast<int>(blockIdx.x), t = static_cast<int>(blockIdx.y);
  const int lane = static_cast<int>(threadIdx.x) % warp_size;
  const int warp = static_cast<int>(threadIdx.x) / warp_size;
  const int hd = kv.head_dim;
  const int kvh = h / (n_heads / kv.n_kv_heads);
  const size_t row = (static_cast<size_t>(t) * n_heads + h) * hd;
  const int32_t* table = b.tables + b.table_at[t];
  const int pos = b.pos[t];

  float qr[per_lane], o[per_lane];
#pragma unroll
  for (int j = 0; j < per_lane; ++j) {
    const int c = lane + warp_size * j;
    qr[j] = c < hd ? q[row + c] : 0.f;
    o[j] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  for (int p = warp; p <= pos; p += attn_warps) {
    const size_t at = kv_offset(table, p, kvh, kv);
    float d = 0.f;
#pragma unroll
    for (int j = 0; j < per_lane; ++j) {
      const int c = lane + warp_size * j;
      if (c < hd)
        d = fmaf(qr[j], kv.keys[at + c], d);
    }
    const float s = warp_sum(d) * scale;
    const float m_new = fmaxf(m, s);
    const float shrink = expf(m - m_new); // 0 on the first position (m = -inf)
    const float e = expf(s - m_new);
    l = l * shrink + e;
#pragma unroll
    for (int j = 0; j < per_lane; ++j) {
      const int c = lane + warp_size * j;
      if (c < hd)
        o[j] = o[j] * shrink + e * kv.values[at + c];
    }
    m = m_new;
  }
  if (lane == 0) {
    warp_m[warp] = m; // -inf and l = 0 for a warp that saw no position
    warp_l[warp] = l;
  }
#pragma unroll
  for (int j = 0; j < per_lane; ++j) {
    const int c = lane + warp_size * j;
    if (c < hd)
      warp_o[warp][c] = o[j];
  }
  __syncthreads();
  // Warp 0 always saw position 0, so the merged max is finite.
  float top = warp_m[0];
#pragma unroll
  for (int w = 1; w < attn_warps; ++w)
    top = fmaxf(top, warp_m[w]);
  float weight[attn_warps], sum = 0.f;
#pragma unroll
  for (int w = 0; w < attn_warps; ++w) {
    weight[w] = expf(warp_m[w] - top);
    sum += warp_l[w] * weight[w];
  }
  for (int c = static_cast<int>(threadIdx.x); c < hd; c += blockDim.x) {
    float acc = 0.f;
#pragma unroll
    for (int w = 0; w < attn_warps; ++w)
      acc += warp_o[w][c] * weight[w];
    out[row + c] = acc / sum;
  }
}

status invalid(const char* why) {
  return status::failure(status_code::invalid_argument, std::string{"attention: "} + why);
}

status check_layer(const paged_batch& b, const kv_layer& kv) {
  if (b.n_tokens < 0 || kv.block_tokens <= 0 || kv.n_kv_heads <= 0 || kv.head_dim <= 0)
    return invalid("bad shape");
  if (b.n_tokens > 0 && (b.pos == nullptr || b.table_at == nullptr || b.tables == nullptr
                         || kv.keys == nullptr || kv.values == nullptr))
    return invalid("null buffer");
  return {};
}

} // namespace

status kv_store_device(const float* k, const float* v, const paged_batch& b,
                       const kv_layer& kv) noexcept {
  if (auto st = check_layer(b, kv); !st.ok() || b.n_tokens == 0)
    return st;
  if (k == nullptr || v == nullptr)
    return invalid("null buffer");
  kv_store_kernel<<<static_cast<unsigned>(b.n_tokens), store_threads>>>(k, v, b, kv);
  return cuda_launched("kv_store: launch");
}

status attention_device(const float* q, float* out, int n_heads, float scale,
                        const paged_batch& b, const kv_layer& kv) noexcept {
  if (auto st = check_layer(b, kv); !st.ok() || b.n_tokens == 0)
    return st;
  if (q == nullptr || out == nullptr)
    return invalid("null buffer");
  if (n_heads <= 0 || n_heads % kv.n_kv_heads != 0 || kv.head_dim > attention_max_head_dim)
    return invalid("heads do not fit (n_heads % n_kv_heads != 0 or head_dim > 256)");
  if (b.n_tokens > 65535)
    return invalid("more than 65535 tokens in one batch");
  const dim3 grid(static_cast<unsigned>(n_heads), static_cast<unsigned>(b.n_tokens));
  attention_kernel<<<grid, attn_warps * warp_size>>>(q, out, n_heads, scale, b, kv);
  return cuda_launched("attention: launch");
}

} // namespace troupe::gpu::cuda
