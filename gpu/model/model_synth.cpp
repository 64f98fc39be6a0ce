#include "gpu/model/model_synth.hpp"

#include "gpu/cpu/matmul.hpp"
#include "gpu/gguf/gguf_writer.hpp"

#include <cstdio>
#include <deque>
#include <random>

namespace troupe::gpu {

const std::vector<synth_shape>& synth_shapes() {
  static const std::vector<synth_shape> shapes = {
    {"tiny", 64, 2, 4, 2, 160, 512, 256},
    {"15m", 288, 6, 6, 6, 768, 32000, 2048},
    {"42m", 512, 8, 8, 8, 1376, 32000, 2048},
    {"110m", 768, 12, 12, 12, 2048, 32000, 2048},
  };
  return shapes;
}

const synth_shape* synth_shape_find(const std::string& name) {
  for (const auto& s : synth_shapes())
    if (s.name == name)
      return &s;
  return nullptr;
}

namespace {

void synth_vocab(int n, std::vector<std::string>& tokens, std::vector<float>& scores,
                 std::vector<int32_t>& types) {
  tokens = {"<unk>", "<s>", "</s>"};
  types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.emplace_back(name);
    types.push_back(6);
  }
  const std::string letters = "etaoinshrdlucmfwypvbgkqjxz";
  for (int i = 0; static_cast<int>(tokens.size()) < n; ++i) {
    std::string piece = i % 3 == 0 ? "\xE2\x96\x81" : ""; // Some word starts.
    for (int k = i; ; k /= 26) {
      piece += letters[size_t(k % 26)];
      if (k < 26)
        break;
    }
    tokens.push_back(piece);
    types.push_back(1);
  }
  scores.resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i)
    scores[i] = i < 259 ? 0.f : -static_cast<float>(i);
}

} // namespace

result<uint64_t, model_error> synth_model(const synth_shape& s, ggml_type type,
                                          const std::string& path, uint64_t seed) {
  auto fail = [&](const std::string& msg) { return model_error{msg, path}; };
  const auto* traits = ggml_traits(static_cast<uint32_t>(type));
  if (!traits || s.dim % traits->block_size != 0 || s.hidden % traits->block_size != 0)
    return fail("cannot synthesize type " + std::string(traits ? traits->name : "?")
                + " for shape " + s.name);
  gguf_writer w;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  synth_vocab(s.vocab, tokens, scores, types);
  const int head_dim = s.dim / s.n_heads;
  std::vector<std::pair<std::string, gguf_meta>> meta = {
    {"general.architecture", gguf_meta::string("llama")},
    {"general.name", gguf_meta::string("troupe-synth-" + s.name)},
    {"general.file_type", gguf_meta::u32(static_cast<uint32_t>(type))},
    {"llama.context_length", gguf_meta::u32(uint32_t(s.context))},
    {"llama.embedding_length", gguf_meta::u32(uint32_t(s.dim))},
    {"llama.block_count", gguf_meta::u32(uint32_t(s.n_layers))},
    {"llama.feed_forward_length", gguf_meta::u32(uint32_t(s.hidden))},
    {"llama.attention.head_count", gguf_meta::u32(uint32_t(s.n_heads))},
    {"llama.attention.head_count_kv", gguf_meta::u32(uint32_t(s.n_kv_heads))},
    {"llama.rope.dimension_count", gguf_meta::u32(uint32_t(head_dim))},
    {"llama.attention.layer_norm_rms_epsilon", gguf_meta::f32(1e-5f)},
    {"llama.rope.freq_base", gguf_meta::f32(10000.f)},
    {"tokenizer.ggml.model", gguf_meta::string("llama")},
    {"tokenizer.ggml.tokens", gguf_meta::strings(tokens)},
    {"tokenizer.ggml.scores", gguf_meta::array(scores)},
    {"tokenizer.ggml.token_type", gguf_meta::array(types)},
    {"tokenizer.ggml.bos_token_id", gguf_meta::u32(1)},
    {"tokenizer.ggml.eos_token_id", gguf_meta::u32(2)},
    {"tokenizer.ggml.unknown_token_id", gguf_meta::u32(0)},
  };
  for (auto& [k, v] : meta)
    if (auto st = w.add(k, std::move(v)); !st.ok())
      return fail(st.message());
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 0.02f);
  std::deque<std::vector<unsigned char>> storage; // Outlives write().
  std::vector<float> row;
  auto add = [&](const std::string& name, int64_t cols, int64_t rows, bool norm) -> status {
    ggml_type t = norm ? ggml_type::f32 : type;
    size_t row_bytes = ggml_row_size(t, cols);
    storage.emplace_back(row_bytes * static_cast<size_t>(rows));
    row.resize(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& x : row)
        x = norm ? 1.f + normal(rng) : normal(rng);
      cpu::quantize_row(t, row.data(), storage.back().data() + row_bytes * size_t(r), cols);
    }
    std::vector<int64_t> ne = rows == 1 && norm ? std::vector<int64_t>{cols}
                                                : std::vector<int64_t>{cols, rows};
    return w.add_tensor(name, t, ne, storage.back().data(), storage.back().size());
  };
  const int64_t d = s.dim, dkv = int64_t(s.n_kv_heads) * head_dim;
  std::vector<std::tuple<std::string, int64_t, int64_t, bool>> plan = {
    {"token_embd.weight", d, s.vocab, false},
    {"output_norm.weight", d, 1, true},
    {"output.weight", d, s.vocab, false}};
  for (int l = 0; l < s.n_layers; ++l) {
    std::string p = "blk." + std::to_string(l) + ".";
    plan.insert(plan.end(), {{p + "attn_norm.weight", d, 1, true},
                             {p + "attn_q.weight", d, d, false},
                             {p + "attn_k.weight", d, dkv, false},
                             {p + "attn_v.weight", d, dkv, false},
                             {p + "attn_output.weight", d, d, false},
                             {p + "ffn_norm.weight", d, 1, true},
                             {p + "ffn_gate.weight", d, s.hidden, false},
                             {p + "ffn_up.weight", d, s.hidden, false},
                             {p + "ffn_down.weight", s.hidden, d, false}});
  }
  for (const auto& [name, cols, rows, norm] : plan)
    if (auto st = add(name, cols, rows, norm); !st.ok())
      return fail(st.message());
  auto written = w.write(path);
  if (!written)
    return written.error().as_error();
  return written.value();
}

} // namespace troupe::gpu
