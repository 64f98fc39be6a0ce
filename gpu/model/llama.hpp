#pragma once

#include "gpu/cpu/matmul.hpp"
#include "gpu/cpu/thread_pool.hpp"
#include "gpu/kv/kv_storage.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::gpu {

/// Shape and numerics of a Llama-family model, from GGUF `llama.*` keys.
/// Invariants: n_head % n_head_kv == 0; head_dim * n_head == n_embd;
/// 0 < n_rot <= head_dim and n_rot is even.
struct llama_hparams {
  int n_vocab = 0;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int n_ff = 0;
  int head_dim = 0;
  int n_rot = 0;
  int n_ctx_train = 0;
  float rms_eps = 1e-5f;
  float rope_base = 10000.f;
  float rope_scale = 1.f; ///< Linear position scaling: positions are divided by it.
};

struct llama_layer {
  std::vector<float> attn_norm; // [n_embd]
  cpu::weight_view wq;          // [n_head * head_dim, n_embd]
  cpu::weight_view wk;          // [n_head_kv * head_dim, n_embd]
  cpu::weight_view wv;          // [n_head_kv * head_dim, n_embd]
  cpu::weight_view wo;          // [n_embd, n_head * head_dim]
  std::vector<float> ffn_norm;  // [n_embd]
  cpu::weight_view w_gate;      // [n_ff, n_embd]
  cpu::weight_view w_up;        // [n_ff, n_embd]
  cpu::weight_view w_down;      // [n_embd, n_ff]
};

/// Weights of a Llama model. Matrices view memory owned elsewhere (the
/// mapped GGUF file), which must outlive this object; norms are copied to f32.
struct llama_weights {
  llama_hparams hp;
  cpu::weight_view tok_embd;      // [n_vocab, n_embd]
  std::vector<float> output_norm; // [n_embd]
  cpu::weight_view output;        // [n_vocab, n_embd]; tok_embd when tied
  std::vector<llama_layer> layers;
};

/// One token of a forward batch: which sequence it extends, at which
/// position, and whether its logits are wanted (the last prompt token and
/// every decoded token). `blocks` is that sequence's block table: position p
/// lives in block blocks[p / block_tokens], slot p % block_tokens, and the
/// table must already cover `pos`.
struct batch_token {
  int32_t token = 0;
  int32_t pos = 0;
  const std::vector<int32_t>* blocks = nullptr;
  bool want_logits = false;
};

/// Scratch memory of forward(), reused across calls to avoid allocation on
/// the decode path. One per engine; not shared between threads.
struct llama_workspace {
  std::vector<float> x, h, q, k, v, attn, gate, up, out;
  std::vector<std::vector<float>> scores; ///< Per thread.
};

/// Runs the model over `batch` (any mix of prompt chunks and decode steps of
/// different sequences): writes each token's keys and values into `kv`, and
/// the logits of tokens with want_logits into `logits`, in batch order,
/// [n_wanted, n_vocab]. Attention sees, for each token, its own sequence's
/// positions 0..pos (earlier batch tokens of the same sequence included).
void llama_forward(const llama_weights& w, const std::vector<batch_token>& batch,
                   kv_storage& kv, cpu::thread_pool& pool, llama_workspace& ws,
                   std::vector<float>& logits);

} // namespace troupe::gpu
