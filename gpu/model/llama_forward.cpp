// The Llama forward pass on the CPU: RMSNorm, RoPE, grouped-query attention
// over a paged KV cache, SwiGLU. The reference every accelerator twin is
// checked against.
#include "gpu/model/llama.hpp"

#include "gpu/cpu/rms_norm.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::gpu {

namespace {

// Rotates pairs (2i, 2i+1) of the first n_rot dimensions of every head by
// pos * base^(-2i / n_rot), GGUF Llama's (non-NeoX) layout.
void rope(float* v, int n_heads, const llama_hparams& hp, int32_t pos) {
  float p = static_cast<float>(pos) / hp.rope_scale;
  for (int i = 0; i < hp.n_rot / 2; ++i) {
    float theta = p * std::pow(hp.rope_base, -2.f * i / static_cast<float>(hp.n_rot));
    float c = std::cos(theta), s = std::sin(theta);
    for (int h = 0; h < n_heads; ++h) {
      float* x = v + static_cast<size_t>(h) * hp.head_dim + 2 * i;
      float x0 = x[0], x1 = x[1];
      x[0] = x0 * c - x1 * s;
      x[1] = x0 * s + x1 * c;
    }
  }
}

// Eight independent partial sums, so the compiler vectorizes the loop
// without reassociating a single float reduction.
float dot(const float* a, const float* b, int n) {
  float acc[8] = {};
  int c = 0;
  for (; c + 8 <= n; c += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += a[c + j] * b[c + j];
  float d = 0;
  for (; c < n; ++c)
    d += a[c] * b[c];
  for (float x : acc)
    d += x;
  return d;
}

void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n)
    v.resize(n);
}

// Attention for every (token, head) pair of the batch.
void attention(const llama_hparams& hp, int layer, const std::vector<batch_token>& batch,
               const kv_storage& kv, cpu::thread_pool& pool, llama_workspace& ws) {
  const int n = static_cast<int>(batch.size());
  const int hd = hp.head_dim;
  const int group = hp.n_head / hp.n_head_kv;
  const int bt = kv.block_tokens();
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  int32_t max_pos = 0;
  for (const auto& t : batch)
    max_pos = std::max(max_pos, t.pos);
  ws.scores.resize(static_cast<size_t>(pool.size()));
  for (auto& s : ws.scores)
    grow(s, static_cast<size_t>(max_pos) + 1);
  pool.parallel_for(static_cast<int64_t>(n) * hp.n_head, [&](int64_t begin, int64_t end, int th) {
    float* scores = ws.scores[static_cast<size_t>(th)].data();
    for (int64_t job = begin; job < end; ++job) {
      const int i = static_cast<int>(job / hp.n_head), h = static_cast<int>(job % hp.n_head);
      const auto& t = batch[static_cast<size_t>(i)];
      const int kvh = h / group;
      const float* q = ws.q.data() + (static_cast<size_t>(i) * hp.n_head + h) * hd;
      float top = -INFINITY;
      for (int32_t p = 0; p <= t.pos; ++p) {
        const float* k = kv.key(layer, (*t.blocks)[size_t(p / bt)], p % bt) + kvh * hd;
        scores[p] = dot(q, k, hd) * scale;
        top = std::max(top, scores[p]);
      }
      float sum = 0;
      for (int32_t p = 0; p <= t.pos; ++p) {
        scores[p] = std::exp(scores[p] - top);
        sum += scores[p];
      }
      float* out = ws.attn.data() + (static_cast<size_t>(i) * hp.n_head + h) * hd;
      std::fill(out, out + hd, 0.f);
      for (int32_t p = 0; p <= t.pos; ++p) {
        const float* v = kv.value(layer, (*t.blocks)[size_t(p / bt)], p % bt) + kvh * hd;
        const float a = scores[p] / sum;
        for (int c = 0; c < hd; ++c)
          out[c] += a * v[c];
      }
    }
  });
}

void add(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i)
    x[i] += y[i];
}

} // namespace

void llama_forward(const llama_weights& w, const std::vector<batch_token>& batch,
                   kv_storage& kv, cpu::thread_pool& pool, llama_workspace& ws,
                   std::vector<float>& logits) {
  const auto& hp = w.hp;
  const size_t n = batch.size();
  const size_t d = static_cast<size_t>(hp.n_embd);
  const size_t dq = static_cast<size_t>(hp.n_head) * hp.head_dim;
  const size_t dkv = static_cast<size_t>(hp.n_head_kv) * hp.head_dim;
  const size_t ff = static_cast<size_t>(hp.n_ff);
  grow(ws.x, n * d);
  grow(ws.h, n * std::max(d, dq));
  grow(ws.q, n * dq);
  grow(ws.k, n * dkv);
  grow(ws.v, n * dkv);
  grow(ws.attn, n * dq);
  grow(ws.gate, n * ff);
  grow(ws.up, n * ff);
  grow(ws.out, n * d);
  for (size_t i = 0; i < n; ++i)
    cpu::dequantize_row(w.tok_embd.type, w.tok_embd.row(batch[i].token), ws.x.data() + i * d,
                        hp.n_embd);
  const int bt = kv.block_tokens();
  for (int l = 0; l < hp.n_layer; ++l) {
    const auto& L = w.layers[static_cast<size_t>(l)];
    cpu::rms_norm(ws.x.data(), L.attn_norm.data(), ws.h.data(), n, d, hp.rms_eps);
    cpu::matmul(L.wq, ws.h.data(), int64_t(n), ws.q.data(), pool);
    cpu::matmul(L.wk, ws.h.data(), int64_t(n), ws.k.data(), pool);
    cpu::matmul(L.wv, ws.h.data(), int64_t(n), ws.v.data(), pool);
    for (size_t i = 0; i < n; ++i) {
      const auto& t = batch[i];
      rope(ws.q.data() + i * dq, hp.n_head, hp, t.pos);
      rope(ws.k.data() + i * dkv, hp.n_head_kv, hp, t.pos);
      int32_t block = (*t.blocks)[size_t(t.pos / bt)];
      std::copy_n(ws.k.data() + i * dkv, dkv, kv.key(l, block, t.pos % bt));
      std::copy_n(ws.v.data() + i * dkv, dkv, kv.value(l, block, t.pos % bt));
    }
    attention(hp, l, batch, kv, pool, ws);
    cpu::matmul(L.wo, ws.attn.data(), int64_t(n), ws.out.data(), pool);
    add(ws.x.data(), ws.out.data(), n * d);
    cpu::rms_norm(ws.x.data(), L.ffn_norm.data(), ws.h.data(), n, d, hp.rms_eps);
    cpu::matmul(L.w_gate, ws.h.data(), int64_t(n), ws.gate.data(), pool);
    cpu::matmul(L.w_up, ws.h.data(), int64_t(n), ws.up.data(), pool);
    for (size_t i = 0; i < n * ff; ++i) {
      float g = ws.gate[i];
      ws.gate[i] = g / (1.f + std::exp(-g)) * ws.up[i];
    }
    cpu::matmul(L.w_down, ws.gate.data(), int64_t(n), ws.out.data(), pool);
    add(ws.x.data(), ws.out.data(), n * d);
  }
  size_t n_out = 0;
  for (size_t i = 0; i < n; ++i)
    if (batch[i].want_logits)
      std::copy_n(ws.x.data() + i * d, d, ws.h.data() + (n_out++) * d);
  cpu::rms_norm(ws.h.data(), w.output_norm.data(), ws.h.data(), n_out, d, hp.rms_eps);
  logits.resize(n_out * static_cast<size_t>(hp.n_vocab));
  if (n_out > 0)
    cpu::matmul(w.output, ws.h.data(), int64_t(n_out), logits.data(), pool);
}

} // namespace troupe::gpu
