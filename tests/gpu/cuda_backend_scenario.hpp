#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "gpu/cpu/matmul.hpp"
#include "gpu/engine/backend.hpp"
#include "gpu/model/llama.hpp"

// The whole-model parity scenario of cuda_backend_test.cpp, in plain C++:
// a copy of a model's weights dequantized to F32 (what the CUDA backend
// computes with, as it keeps activations in f32), and a run of prefill
// chunks, decode steps and a copy-on-write fork driven in lockstep on
// several backends.

namespace troupe::gpu::test {

/// `w` with every matrix dequantized to F32 (exact: every value of a
/// quantized type is a float). The CPU backend on it computes what a
/// backend with f32 activations computes, up to float rounding.
/// Invariants: the views point into `storage`; the object is not copied.
struct f32_twin {
  llama_weights weights;
  std::vector<std::unique_ptr<std::vector<float>>> storage;

  explicit f32_twin(const llama_weights& w) : weights(w) {
    auto convert = [&](cpu::weight_view& v) {
      auto data = std::make_unique<std::vector<float>>(size_t(v.rows * v.cols));
      for (int64_t r = 0; r < v.rows; ++r)
        cpu::dequantize_row(v.type, v.row(r), data->data() + r * v.cols, v.cols);
      v = {ggml_type::f32, v.rows, v.cols, size_t(v.cols) * sizeof(float), data->data()};
      storage.push_back(std::move(data));
    };
    const bool tied = w.output.data == w.tok_embd.data;
    convert(weights.tok_embd);
    if (tied)
      weights.output = weights.tok_embd;
    else
      convert(weights.output);
    for (auto& L : weights.layers)
      for (auto* v : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
        convert(*v);
  }
  f32_twin(const f32_twin&) = delete;
  f32_twin& operator=(const f32_twin&) = delete;
};

/// The lowest index of the row's maximum, as greedy sampling picks.
inline int32_t greedy(const float* row, int n_vocab) {
  return int32_t(std::max_element(row, row + n_vocab) - row);
}

/// Logits of every backend after one forward: [backend][n_wanted * n_vocab].
using step_logits = std::vector<std::vector<float>>;

/// Runs the scenario on `backends` (each with at least 64 blocks of
/// `block_tokens`) in lockstep and calls `check(step, logits)` after each
/// forward. Next tokens are backend 0's greedy choices, so all backends
/// always see the same batch. The steps: prompt chunks of two sequences
/// (11 and 5 tokens) in one batch; decode steps of both; after step 2 a
/// third sequence forks from the first, sharing its full blocks and
/// copying its partial last one (copy_block), then decodes with a
/// different token than its parent. Block tables are scattered over the
/// pool.
inline void run_scenario(const std::vector<llama_backend*>& backends, int n_vocab,
                         int block_tokens, int steps,
                         const std::function<void(int, const step_logits&)>& check) {
  std::vector<int32_t> free_blocks(64);
  std::iota(free_blocks.begin(), free_blocks.end(), 0);
  std::shuffle(free_blocks.begin(), free_blocks.end(), std::mt19937{5});
  struct seq {
    std::vector<int32_t> tokens, blocks;
  };
  std::vector<seq> seqs(2);
  for (int i = 0; i < 11; ++i)
    seqs[0].tokens.push_back(300 + (i * 37) % 200);
  for (int i = 0; i < 5; ++i)
    seqs[1].tokens.push_back(270 + i * 11);
  std::vector<size_t> computed(2, 0);
  for (int step = 0; step < steps; ++step) {
    if (step == 3) { // fork sequence 0 into a new sequence 2
      seq child = seqs[0];
      const size_t n_pos = computed[0];
      if (n_pos % size_t(block_tokens) != 0) {
        const int32_t fresh = free_blocks.back();
        free_blocks.pop_back();
        for (auto* b : backends)
          b->copy_block(child.blocks.back(), fresh);
        child.blocks.back() = fresh;
      }
      child.tokens.back() = (child.tokens.back() + 1) % n_vocab; // diverge
      seqs.push_back(child);
      computed.push_back(n_pos);
    }
    std::vector<batch_token> batch;
    for (size_t s = 0; s < seqs.size(); ++s) {
      auto& q = seqs[s];
      for (size_t p = computed[s]; p < q.tokens.size(); ++p) {
        while (q.blocks.size() * size_t(block_tokens) <= p) {
          q.blocks.push_back(free_blocks.back());
          free_blocks.pop_back();
        }
        batch.push_back({q.tokens[p], int32_t(p), &q.blocks, p + 1 == q.tokens.size()});
      }
    }
    step_logits logits(backends.size());
    for (size_t b = 0; b < backends.size(); ++b)
      backends[b]->forward(batch, logits[b]);
    check(step, logits);
    for (size_t s = 0; s < seqs.size(); ++s) {
      computed[s] = seqs[s].tokens.size();
      seqs[s].tokens.push_back(greedy(logits[0].data() + s * size_t(n_vocab), n_vocab));
    }
  }
}

} // namespace troupe::gpu::test
