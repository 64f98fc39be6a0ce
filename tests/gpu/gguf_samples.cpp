#include "tests/gpu/gguf_samples.hpp"

#include <stdexcept>

namespace troupe::test {

using namespace gpu;

namespace {

void must(const status& s) {
  if (!s.ok())
    throw std::logic_error("sample: " + s.message());
}

void add_all_types(gguf_sample& s) {
  auto& w = s.writer;
  must(w.add("general.architecture", gguf_meta::string("llama")));
  // Long enough that the header's counts fit in a file cut after it, so
  // cuts further on fail where they are (see gguf_corruption_test.cpp).
  std::string description;
  while (description.size() < 600)
    description += "Every GGUF value type, and tensors of several types. ";
  must(w.add("general.description", gguf_meta::string(description)));
  must(w.add("t.u8", gguf_meta::u8(200)));
  must(w.add("t.i8", gguf_meta::i8(-100)));
  must(w.add("t.u16", gguf_meta::u16(60000)));
  must(w.add("t.i16", gguf_meta::i16(-30000)));
  must(w.add("t.u32", gguf_meta::u32(4000000000u)));
  must(w.add("t.i32", gguf_meta::i32(-2000000000)));
  must(w.add("t.f32", gguf_meta::f32(0.25f)));
  must(w.add("t.bool", gguf_meta::boolean(true)));
  must(w.add("t.string", gguf_meta::string("h\xc3\xa9llo\n\"w\"")));
  must(w.add("t.u64", gguf_meta::u64(18000000000000000000ull)));
  must(w.add("t.i64", gguf_meta::i64(-9000000000000000000ll)));
  must(w.add("t.f64", gguf_meta::f64(-1.5e300)));
  must(w.add("t.empty_string", gguf_meta::string("")));
  must(w.add("a.u8", gguf_meta::array(std::vector<uint8_t>{1, 2, 255})));
  must(w.add("a.i16", gguf_meta::array(std::vector<int16_t>{-1, 2})));
  must(w.add("a.i32", gguf_meta::array(std::vector<int32_t>{1, -2, 3})));
  must(w.add("a.f32", gguf_meta::array(std::vector<float>{0.5f, -2.f})));
  must(w.add("a.bool", gguf_meta::array(std::vector<bool>{true, false})));
  must(w.add("a.u64", gguf_meta::array(std::vector<uint64_t>{1ull << 40})));
  must(w.add("a.f64", gguf_meta::array(std::vector<double>{3.25})));
  must(w.add("a.empty", gguf_meta::array(std::vector<uint32_t>{})));
  must(w.add("a.string", gguf_meta::strings({"<unk>", "", "\xe2\x96\x81the"})));
  must(w.add("a.nested",
             gguf_meta::arrays({gguf_meta::array(std::vector<int8_t>{-1, 1}),
                                gguf_meta::strings({"x", "yz"}),
                                gguf_meta::arrays({})})));
  s.tensor("f32.weight", ggml_type::f32, {4, 3}, 1);
  s.tensor("f16.weight", ggml_type::f16, {8}, 2);
  s.tensor("q4_0.weight", ggml_type::q4_0, {32, 2}, 3);
  s.tensor("q8_0.weight", ggml_type::q8_0, {64, 1, 2}, 4);
  s.tensor("bf16.weight", ggml_type::bf16, {2, 1, 1, 3}, 5);
}

void add_tiny_llama(gguf_sample& s) {
  auto& w = s.writer;
  std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
  for (char c = 'a'; c <= 'z'; ++c)
    tokens.push_back(std::string("\xe2\x96\x81") + c);
  std::vector<float> scores(tokens.size());
  std::vector<int32_t> types(tokens.size(), 1);
  for (size_t i = 0; i < tokens.size(); ++i)
    scores[i] = -static_cast<float>(i);
  types[0] = 2;
  types[1] = types[2] = 3;
  must(w.add("general.architecture", gguf_meta::string("llama")));
  must(w.add("general.name", gguf_meta::string("tiny")));
  must(w.add("llama.context_length", gguf_meta::u32(64)));
  must(w.add("llama.embedding_length", gguf_meta::u32(32)));
  must(w.add("llama.block_count", gguf_meta::u32(1)));
  must(w.add("llama.feed_forward_length", gguf_meta::u32(64)));
  must(w.add("llama.attention.head_count", gguf_meta::u32(4)));
  must(w.add("llama.attention.head_count_kv", gguf_meta::u32(2)));
  must(w.add("llama.attention.layer_norm_rms_epsilon", gguf_meta::f32(1e-5f)));
  must(w.add("tokenizer.ggml.model", gguf_meta::string("llama")));
  must(w.add("tokenizer.ggml.tokens", gguf_meta::strings(tokens)));
  must(w.add("tokenizer.ggml.scores", gguf_meta::array(scores)));
  must(w.add("tokenizer.ggml.token_type", gguf_meta::array(types)));
  must(w.add("tokenizer.ggml.bos_token_id", gguf_meta::u32(1)));
  must(w.add("tokenizer.ggml.eos_token_id", gguf_meta::u32(2)));
  const auto n_vocab = static_cast<int64_t>(tokens.size());
  s.tensor("token_embd.weight", ggml_type::q8_0, {32, n_vocab}, 10);
  s.tensor("output_norm.weight", ggml_type::f32, {32}, 11);
  s.tensor("blk.0.attn_q.weight", ggml_type::q4_1, {32, 32}, 12);
  s.tensor("blk.0.ffn_up.weight", ggml_type::q4_k, {256, 2}, 13);
  s.tensor("blk.0.ffn_down.weight", ggml_type::q6_k, {256, 2}, 14);
}

void add_aligned_64(gguf_sample& s) {
  auto& w = s.writer;
  must(w.add("general.alignment", gguf_meta::u32(64)));
  gguf_meta deep = gguf_meta::array(std::vector<uint16_t>{7, 8});
  for (int depth = 1; depth < gguf_max_array_depth; ++depth)
    deep = gguf_meta::arrays({deep, gguf_meta::array(std::vector<uint8_t>{})});
  must(w.add("a.deep", std::move(deep)));
  must(w.add("a.i64", gguf_meta::array(std::vector<int64_t>{-5, 5})));
  s.tensor("a", ggml_type::f32, {3}, 20);
  s.tensor("b", ggml_type::q8_1, {32, 2}, 21);
  s.tensor("c", ggml_type::q8_k, {256}, 22);
}

} // namespace

std::vector<unsigned char> random_bytes(size_t n, uint32_t seed) {
  std::vector<unsigned char> out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<unsigned char>(x);
  }
  return out;
}

void gguf_sample::tensor(const std::string& name, ggml_type type,
                         const std::vector<int64_t>& ne, uint32_t seed) {
  size_t bytes = ggml_row_size(type, ne[0]);
  for (size_t d = 1; d < ne.size(); ++d)
    bytes *= static_cast<size_t>(ne[d]);
  data.push_back(random_bytes(bytes, seed));
  must(writer.add_tensor(name, type, ne, data.back().data(), bytes));
}

std::unique_ptr<gguf_sample> make_sample(sample_kind kind) {
  auto s = std::make_unique<gguf_sample>();
  switch (kind) {
    case sample_kind::all_types: add_all_types(*s); break;
    case sample_kind::tiny_llama: add_tiny_llama(*s); break;
    case sample_kind::aligned_64: add_aligned_64(*s); break;
    case sample_kind::metadata_only:
      must(s->writer.add("general.architecture", gguf_meta::string("none")));
      must(s->writer.add("x", gguf_meta::strings({"a", "b"})));
      break;
    case sample_kind::empty: break;
  }
  return s;
}

std::vector<std::pair<sample_kind, std::string>> sample_kinds() {
  return {{sample_kind::all_types, "all_types.seed"},
          {sample_kind::tiny_llama, "tiny_llama.seed"},
          {sample_kind::aligned_64, "aligned_64.seed"},
          {sample_kind::metadata_only, "metadata_only.seed"},
          {sample_kind::empty, "empty.seed"}};
}

result<gguf_file, gguf_error> parse(const std::vector<unsigned char>& bytes) {
  return gguf_file::from_bytes("test.gguf", bytes.data(), bytes.size());
}

std::filesystem::path smollm2_path() {
  const auto path = std::filesystem::path(TROUPE_SOURCE_DIR) / "models"
                    / "SmolLM2-135M-Instruct.Q4_1.gguf";
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) ? path
                                                     : std::filesystem::path{};
}

} // namespace troupe::test
