#include "gpu/cuda/cuda_weights.hpp"

#include <cstdint>
#include <functional>
#include <tuple>
#include <utility>

#include <cuda_runtime_api.h>

#include "gpu/cuda/attention.cuh"
#include "gpu/cuda/rope.cuh"

namespace troupe::gpu::cuda {

namespace {

constexpr size_t arena_align = 256;

size_t align_up(size_t n) {
  return (n + arena_align - 1) / arena_align * arena_align;
}

std::string mib(size_t bytes) {
  return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

// Checks one matrix view against the shape the hyperparameters give it.
std::string matrix_problem(const char* name, const cpu::weight_view& v, int64_t rows,
                           int64_t cols) {
  const std::string n = name;
  if (!matmul_supports(v.type)) {
    const auto* t = ggml_traits(static_cast<uint32_t>(v.type));
    return n + " has type " + std::string(t ? t->name : "unknown")
           + ", which the CUDA backend cannot read (it reads F32, F16, BF16, Q8_0, Q4_0, "
             "Q4_1, Q4_K, Q6_K)";
  }
  if (v.rows != rows || v.cols != cols || v.data == nullptr
      || v.row_bytes != ggml_row_size(v.type, v.cols))
    return n + " is not a " + std::to_string(rows) + " x " + std::to_string(cols) + " matrix";
  return {};
}

// The host copies the upload makes, planned before the one allocation.
struct upload_plan {
  struct piece {
    const void* host;
    size_t bytes;
    size_t offset;
  };
  std::vector<piece> pieces;
  size_t total = 0;

  // Offset of `host` in the arena, planning a copy the first time it is seen.
  size_t place(const void* host, size_t bytes) {
    for (const auto& p : pieces)
      if (p.host == host && p.bytes == bytes)
        return p.offset;
    pieces.push_back({host, bytes, total});
    total += align_up(bytes);
    return pieces.back().offset;
  }
};

} // namespace

std::string weights_unsupported(const llama_weights& w) {
  const auto& hp = w.hp;
  if (hp.n_embd <= 0 || hp.n_layer < 0 || hp.n_head <= 0 || hp.n_head_kv <= 0 || hp.n_ff <= 0
      || hp.n_vocab <= 0 || hp.head_dim <= 0 || hp.n_head % hp.n_head_kv != 0
      || hp.n_rot <= 0 || hp.n_rot % 2 != 0 || hp.n_rot > hp.head_dim)
    return "the hyperparameters do not describe a Llama model";
  if (hp.head_dim > attention_max_head_dim)
    return "head size " + std::to_string(hp.head_dim) + " exceeds the CUDA attention kernel's "
           + std::to_string(attention_max_head_dim);
  if (static_cast<int>(w.layers.size()) != hp.n_layer)
    return "the model has " + std::to_string(w.layers.size()) + " layers, its header says "
           + std::to_string(hp.n_layer);
  const int64_t d = hp.n_embd, dq = int64_t{hp.n_head} * hp.head_dim,
                dkv = int64_t{hp.n_head_kv} * hp.head_dim;
  std::string why = matrix_problem("token_embd", w.tok_embd, hp.n_vocab, d);
  if (why.empty())
    why = matrix_problem("output", w.output, hp.n_vocab, d);
  if (why.empty() && w.output_norm.size() != static_cast<size_t>(d))
    why = "output_norm has the wrong length";
  for (const auto& L : w.layers) {
    if (!why.empty())
      break;
    for (auto [name, v, rows, cols] :
         {std::tuple{"attn_q", &L.wq, dq, d}, std::tuple{"attn_k", &L.wk, dkv, d},
          std::tuple{"attn_v", &L.wv, dkv, d}, std::tuple{"attn_output", &L.wo, d, dq},
          std::tuple{"ffn_gate", &L.w_gate, int64_t{hp.n_ff}, d},
          std::tuple{"ffn_up", &L.w_up, int64_t{hp.n_ff}, d},
          std::tuple{"ffn_down", &L.w_down, d, int64_t{hp.n_ff}}})
      if (why.empty())
        why = matrix_problem(name, *v, rows, cols);
    if (why.empty() && (L.attn_norm.size() != static_cast<size_t>(d)
                        || L.ffn_norm.size() != static_cast<size_t>(d)))
      why = "a layer norm has the wrong length";
  }
  return why;
}

status weights_upload(const llama_weights& w, device_weights& out) {
  upload_plan plan;
  const auto inv_freq = rope_inv_freq(w.hp.n_rot, w.hp.rope_base);
  // Each binding fills one device pointer once the arena exists.
  std::vector<std::function<void(char*)>> bind;
  device_weights dw;
  auto matrix = [&](const cpu::weight_view& v, device_matrix& m) {
    const size_t at = plan.place(v.data, v.row_bytes * static_cast<size_t>(v.rows));
    m = {v.type, v.rows, v.cols, v.row_bytes, nullptr};
    bind.push_back([&m, at](char* base) { m.data = base + at; });
  };
  auto floats = [&](const std::vector<float>& v, const float*& p) {
    const size_t at = plan.place(v.data(), v.size() * sizeof(float));
    bind.push_back([&p, at](char* base) { p = reinterpret_cast<const float*>(base + at); });
  };
  dw.layers.resize(w.layers.size());
  matrix(w.tok_embd, dw.tok_embd);
  matrix(w.output, dw.output);
  floats(w.output_norm, dw.output_norm);
  floats(inv_freq, dw.rope_inv_freq);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const auto& L = w.layers[l];
    auto& D = dw.layers[l];
    floats(L.attn_norm, D.attn_norm);
    floats(L.ffn_norm, D.ffn_norm);
    for (auto [host, dev] : {std::pair{&L.wq, &D.wq}, std::pair{&L.wk, &D.wk},
                             std::pair{&L.wv, &D.wv}, std::pair{&L.wo, &D.wo},
                             std::pair{&L.w_gate, &D.w_gate}, std::pair{&L.w_up, &D.w_up},
                             std::pair{&L.w_down, &D.w_down}})
      matrix(*host, *dev);
  }
  if (auto st = dw.arena.allocate(plan.total); !st.ok()) {
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess)
      cudaGetLastError();
    return status::failure(st.code(), "the weights need " + mib(plan.total)
                                        + " of device memory, " + mib(free_bytes)
                                        + " are free of " + mib(total_bytes) + " ("
                                        + st.message() + ")");
  }
  for (const auto& p : plan.pieces)
    if (auto st = dw.arena.upload(p.host, p.bytes, p.offset); !st.ok())
      return st;
  auto* base = dw.arena.as<char>();
  for (const auto& b : bind)
    b(base);
  out = std::move(dw);
  return {};
}

} // namespace troupe::gpu::cuda
