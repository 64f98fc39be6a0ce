#pragma once

#include <cstdint>

#include "gpu/status.hpp"

// Grouped-query attention over a paged KV cache on the device, the twin of
// the CPU forward's attention (gpu/model/llama_forward.cpp), and the store
// of a batch's keys and values into that cache. No CUDA types here.

namespace troupe::gpu::cuda {

/// Heads wider than this are refused (one warp keeps a head in registers).
constexpr int attention_max_head_dim = 256;

/// Where each token of a batch sits in the paged cache, all device memory.
/// Token t is at position pos[t] of its sequence, whose block table starts
/// at tables + table_at[t]: position p lives in block
/// tables[table_at[t] + p / block_tokens], slot p % block_tokens.
/// Invariants: each token's table covers positions 0..pos[t]; block ids
/// are below the cache's block count.
struct paged_batch {
  int n_tokens = 0;
  const int32_t* pos = nullptr;      // [n_tokens]
  const int32_t* table_at = nullptr; // [n_tokens]
  const int32_t* tables = nullptr;   // block tables, concatenated
};

/// One layer of the cache, device memory, keys and values alike:
///   // [n_blocks, block_tokens, n_kv_heads, head_dim] f32
struct kv_layer {
  float* keys = nullptr;
  float* values = nullptr;
  int block_tokens = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
};

/// Writes token t's k and v rows ([n_tokens, n_kv_heads * head_dim], device)
/// into the cache at its own position pos[t]. Enqueues on the default
/// stream; invalid_argument for a bad shape, cuda_error when the launch
/// fails. Never throws.
status kv_store_device(const float* k, const float* v, const paged_batch& b,
                       const kv_layer& kv) noexcept;

/// For every token t and head h: softmax over p = 0..pos[t] of
/// scale * q[t][h] · key(p)[h / group], then the weighted sum of the
/// values, into out[t][h]. q, out: [n_tokens, n_heads, head_dim] device
/// memory; group = n_heads / n_kv_heads. The cache must already hold the
/// batch's own keys and values (kv_store_device). Softmax and sums are f32
/// (an online softmax over positions split across four warps).
/// Enqueues on the default stream; invalid_argument for a bad shape
/// (head_dim > attention_max_head_dim, n_heads not a multiple of
/// n_kv_heads), cuda_error when the launch fails. Never throws.
status attention_device(const float* q, float* out, int n_heads, float scale,
                        const paged_batch& b, const kv_layer& kv) noexcept;

} // namespace troupe::gpu::cuda
