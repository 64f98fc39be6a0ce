// The whole model on the CUDA backend against the CPU backend: tiny
// synthesized Llama models of every weight type run through the same
// prefill chunks, decode steps and copy-on-write fork on both, comparing
// logits and greedy tokens; then the engine on both, and the backend's
// failures as values.
#include "gpu/cuda/cuda_backend.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "gpu/engine/engine.hpp"
#include "gpu/model/model_load.hpp"
#include "gpu/model/model_synth.hpp"
#include "tests/gpu/cuda_backend_scenario.hpp"
#include "tests/gpu/cuda_test_util.hpp"

namespace troupe::gpu {
namespace {

constexpr int block_tokens = 4;
constexpr size_t kv_bytes = 8u << 20;

// "tiny" has 64 columns, too few for the k-quants' 256-element blocks.
const synth_shape tiny_k{"tiny_k", 256, 2, 4, 2, 512, 512, 256};

std::string temp_model_path(ggml_type t) {
  return (std::filesystem::temp_directory_path()
          / ("troupe-cuda-backend-test-" + std::to_string(::getpid()) + "-"
             + std::string(ggml_traits(uint32_t(t))->name) + ".gguf"))
    .string();
}

// A synthesized model of type t, loaded; the file is removed at once (the
// mapping keeps it alive).
std::shared_ptr<const engine_model> tiny_model(ggml_type t) {
  const bool k_quant = t == ggml_type::q4_k || t == ggml_type::q6_k;
  const std::string path = temp_model_path(t);
  auto written = synth_model(k_quant ? tiny_k : *synth_shape_find("tiny"), t, path, 7);
  EXPECT_TRUE(written) << written.error().to_string();
  auto m = load_model(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(m) << m.error().to_string();
  return m ? m.value() : nullptr;
}

std::unique_ptr<cuda_backend> cuda_for(const llama_weights& w) {
  std::string error;
  auto b = make_cuda_backend(w, kv_bytes, block_tokens, 0, &error);
  EXPECT_TRUE(b) << error;
  return b;
}

float row_max_abs(const float* row, int n) {
  float m = 0;
  for (int i = 0; i < n; ++i)
    m = std::max(m, std::fabs(row[i]));
  return m;
}

// Checks `got` against `want` row by row: every logit within
// rel * max|want row|, and the greedy token equal unless want's two best
// logits are closer than the tolerance allows to tell apart; then got's
// pick must be one of want's near-best.
void expect_logits_near(const std::vector<float>& got, const std::vector<float>& want,
                        int n_vocab, float rel, const char* against) {
  ASSERT_EQ(got.size(), want.size()) << against;
  for (size_t r = 0; r * size_t(n_vocab) < want.size(); ++r) {
    const float* g = got.data() + r * size_t(n_vocab);
    const float* w = want.data() + r * size_t(n_vocab);
    const float tol = rel * row_max_abs(w, n_vocab) + 1e-6f;
    for (int i = 0; i < n_vocab; ++i)
      ASSERT_NEAR(g[i], w[i], tol) << against << ": row " << r << " logit " << i;
    const int32_t pick = test::greedy(g, n_vocab), best = test::greedy(w, n_vocab);
    std::vector<float> sorted(w, w + n_vocab);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
    if (n_vocab > 1 && sorted[0] - sorted[1] > 2 * tol)
      EXPECT_EQ(pick, best) << against << ": greedy token of row " << r;
    else
      EXPECT_GE(w[pick], sorted[0] - 2 * tol) << against << ": greedy token of row " << r;
  }
}

// Parameterized by type name, which ctest then shows.
class cuda_backend_model : public testing::TestWithParam<const char*> {
protected:
  static ggml_type type() {
    ggml_type t = ggml_type::f32;
    EXPECT_TRUE(ggml_type_from_name(GetParam(), t)) << GetParam();
    return t;
  }
};

// The CUDA backend keeps activations in f32; the CPU backend quantizes them
// to 8 bits for quantized weights. So the tight reference is the CPU
// backend on the same weights dequantized to F32 (float rounding apart,
// the same arithmetic), and the CPU backend on the quantized model is
// checked within the activation quantization's effect: up to 1.8% of the
// largest logit on these models (measured on the CPU), allowed 4%.
TEST_P(cuda_backend_model, logits_and_greedy_tokens_match_the_cpu_backend) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const auto model = tiny_model(type());
  ASSERT_TRUE(model);
  const auto& w = model->weights;
  const test::f32_twin twin(w);
  auto exact = make_cpu_backend(twin.weights, 2, kv_bytes, block_tokens);
  auto cpu = make_cpu_backend(w, 2, kv_bytes, block_tokens);
  auto gpu = cuda_for(w);
  ASSERT_TRUE(gpu);
  EXPECT_EQ(gpu->n_blocks(), cpu->n_blocks());
  EXPECT_EQ(gpu->describe().rfind("cuda (", 0), 0u) << gpu->describe();
  const int n_vocab = w.hp.n_vocab;
  test::run_scenario({exact.get(), cpu.get(), gpu.get()}, n_vocab, block_tokens, 8,
                     [&](int step, const test::step_logits& logits) {
                       SCOPED_TRACE(testing::Message() << "step " << step);
                       ASSERT_TRUE(gpu->last_status().ok()) << gpu->last_status().message();
                       expect_logits_near(logits[2], logits[0], n_vocab, 2e-4f,
                                          "CPU backend on the F32 twin");
                       expect_logits_near(logits[2], logits[1], n_vocab, 4e-2f,
                                          "CPU backend on the model as stored");
                     });
}

INSTANTIATE_TEST_SUITE_P(cuda_types, cuda_backend_model,
                         testing::Values("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1",
                                         "Q4_K", "Q6_K"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

// With f32 weights both backends compute in f32, so greedy generation
// through the engine (continuous batching, prefix caching) is identical.
TEST(cuda_backend, engine_generates_the_cpu_backends_greedy_tokens) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const auto model = tiny_model(ggml_type::f32);
  ASSERT_TRUE(model);
  auto generate = [&](std::unique_ptr<llama_backend> backend) {
    engine_options opts;
    opts.kv_bytes = kv_bytes;
    opts.block_tokens = block_tokens;
    engine e(model, opts, std::move(backend));
    std::vector<std::vector<int32_t>> out(3);
    for (int r = 0; r < 3; ++r) {
      generation_request req;
      for (int i = 0; i < 6 + 5 * r; ++i)
        req.prompt.push_back(280 + (i * 13 + r) % 200);
      req.max_tokens = 24;
      req.ignore_eos = true;
      e.submit(req, [&out, r](const token_event& ev) {
        if (ev.token >= 0)
          out[size_t(r)].push_back(ev.token);
      });
    }
    e.run();
    return out;
  };
  const auto on_cpu = generate(make_cpu_backend(model->weights, 2, kv_bytes, block_tokens));
  const auto on_gpu = generate(cuda_for(model->weights));
  EXPECT_EQ(on_gpu, on_cpu);
  EXPECT_EQ(on_cpu[0].size(), 24u);
}

TEST(cuda_backend, an_invalid_batch_gives_nan_logits_and_a_status_but_no_fault) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const auto model = tiny_model(ggml_type::q8_0);
  ASSERT_TRUE(model);
  auto gpu = cuda_for(model->weights);
  ASSERT_TRUE(gpu);
  const int n_vocab = model->weights.hp.n_vocab;
  const std::vector<int32_t> blocks = {3};
  std::vector<float> logits;
  gpu->forward({{n_vocab, 0, &blocks, true}}, logits); // token outside the vocabulary
  EXPECT_EQ(gpu->last_status().code(), status_code::invalid_argument);
  ASSERT_EQ(logits.size(), size_t(n_vocab));
  EXPECT_TRUE(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isnan(v); }));
  gpu->forward({{5, 4, &blocks, true}}, logits); // position past the table
  EXPECT_EQ(gpu->last_status().code(), status_code::invalid_argument);
  gpu->copy_block(0, int32_t(gpu->n_blocks()));
  EXPECT_EQ(gpu->last_status().code(), status_code::invalid_argument);
  gpu->forward({{5, 0, &blocks, true}}, logits);
  EXPECT_TRUE(gpu->last_status().ok()) << gpu->last_status().message();
  EXPECT_TRUE(std::none_of(logits.begin(), logits.end(), [](float v) { return std::isnan(v); }));
  gpu->forward({{6, 1, &blocks, false}}, logits);
  EXPECT_TRUE(logits.empty()) << "no token wants logits";
}

TEST(cuda_backend, refuses_what_it_cannot_run_with_a_reason) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const auto model = tiny_model(ggml_type::f16);
  ASSERT_TRUE(model);
  std::string error;
  EXPECT_FALSE(make_cuda_backend(model->weights, kv_bytes, block_tokens, 999, &error));
  EXPECT_NE(error.find("no CUDA device 999"), std::string::npos) << error;
  EXPECT_FALSE(make_cuda_backend(model->weights, 100, block_tokens, 0, &error));
  EXPECT_NE(error.find("holds no block"), std::string::npos) << error;
  llama_weights odd = model->weights;
  odd.layers[1].w_up.type = ggml_type::q8_k;
  EXPECT_FALSE(make_cuda_backend(odd, kv_bytes, block_tokens, 0, &error));
  EXPECT_NE(error.find("ffn_up"), std::string::npos) << error;
  EXPECT_FALSE(make_cuda_backend(model->weights, size_t(1) << 60, block_tokens, 0, &error));
  EXPECT_NE(error.find("does not fit"), std::string::npos) << error;
}

// Runs where the others skip: without a device the factory must say so
// with a value, never throw or abort, so the launcher can fall back to
// the CPU.
TEST(cuda_backend, reports_a_missing_device_as_a_value) {
  if (cuda_backend_available())
    GTEST_SKIP() << "a CUDA device is present; the no-device path is not reachable here";
  llama_weights w;
  std::string error;
  EXPECT_FALSE(make_cuda_backend(w, kv_bytes, block_tokens, 0, &error));
  EXPECT_NE(error.find("no usable CUDA device"), std::string::npos) << error;
  EXPECT_FALSE(make_cuda_backend(w, kv_bytes, block_tokens, 0, nullptr));
}

} // namespace
} // namespace troupe::gpu
