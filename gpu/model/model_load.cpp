// GGUF file -> engine_model: hyperparameters, tensors, tokenizer.
#include "gpu/model/model_load.hpp"

#include "gpu/cpu/matmul.hpp"

#include <optional>

namespace troupe::gpu {

namespace {

class loader {
public:
  explicit loader(const gguf_file& f) : f_(f) {}

  std::optional<model_error> error; ///< The first failure, if any.

  bool fail(std::string msg) {
    if (!error)
      error = model_error{std::move(msg), f_.path()};
    return false;
  }

  template <class T, class Get>
  T required(Get get, const std::string& key) {
    auto r = get(key);
    if (!r) {
      if (!error)
        error = r.error().as_error();
      return T{};
    }
    return r.value();
  }

  uint32_t u32(const std::string& key) {
    return required<uint32_t>([&](const std::string& k) { return f_.get_u32(k); }, key);
  }
  uint32_t u32_or(const std::string& key, uint32_t fallback) {
    return f_.find(key) ? u32(key) : fallback;
  }
  float f32_or(const std::string& key, float fallback) {
    if (!f_.find(key))
      return fallback;
    return required<float>([&](const std::string& k) { return f_.get_f32(k); }, key);
  }

  // A 2-D weight of shape [cols, rows] (GGUF ne0, ne1).
  cpu::weight_view matrix(const std::string& name, int64_t cols, int64_t rows) {
    const auto* t = f_.tensor(name);
    if (!t) {
      fail("tensor '" + name + "' is missing");
      return {};
    }
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1) {
      fail("tensor '" + name + "' has shape [" + std::to_string(t->ne[0]) + ", "
           + std::to_string(t->ne[1]) + "], expected [" + std::to_string(cols) + ", "
           + std::to_string(rows) + "]");
      return {};
    }
    return {t->type, rows, cols, ggml_row_size(t->type, cols), t->data};
  }

  std::vector<float> vector(const std::string& name, int64_t n) {
    auto m = matrix(name, n, 1);
    std::vector<float> out(static_cast<size_t>(n));
    if (m.data)
      cpu::dequantize_row(m.type, m.data, out.data(), n);
    return out;
  }

private:
  const gguf_file& f_;
};

bool read_hparams(loader& L, const gguf_file& f, llama_hparams& hp) {
  hp.n_embd = int(L.u32("llama.embedding_length"));
  hp.n_layer = int(L.u32("llama.block_count"));
  hp.n_ff = int(L.u32("llama.feed_forward_length"));
  hp.n_head = int(L.u32("llama.attention.head_count"));
  hp.n_head_kv = int(L.u32_or("llama.attention.head_count_kv", uint32_t(hp.n_head)));
  hp.n_ctx_train = int(L.u32_or("llama.context_length", 2048));
  hp.rms_eps = L.f32_or("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  hp.rope_base = L.f32_or("llama.rope.freq_base", 10000.f);
  if (L.error)
    return false;
  if (hp.n_embd <= 0 || hp.n_layer <= 0 || hp.n_ff <= 0 || hp.n_head <= 0 || hp.n_head_kv <= 0
      || hp.n_embd % hp.n_head != 0 || hp.n_head % hp.n_head_kv != 0 || hp.n_layer > 1024
      || hp.n_embd > (1 << 16) || hp.n_ff > (1 << 18))
    return L.fail("inconsistent hyperparameters: embedding " + std::to_string(hp.n_embd)
                  + ", heads " + std::to_string(hp.n_head) + "/" + std::to_string(hp.n_head_kv)
                  + ", layers " + std::to_string(hp.n_layer));
  hp.head_dim = hp.n_embd / hp.n_head;
  hp.n_rot = int(L.u32_or("llama.rope.dimension_count", uint32_t(hp.head_dim)));
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    return L.fail("rope dimension count " + std::to_string(hp.n_rot) + " does not fit head size "
                  + std::to_string(hp.head_dim));
  if (auto type = f.get_string("llama.rope.scaling.type"); type && type.value() == "linear")
    hp.rope_scale = L.f32_or("llama.rope.scaling.factor", 1.f);
  if (!(hp.rope_scale > 0) || !(hp.rope_base > 0) || !(hp.rms_eps > 0))
    return L.fail("rope base, rope scale and rms epsilon must be positive");
  return !L.error;
}

} // namespace

result<vocab, model_error> vocab_from_gguf(const gguf_file& f) {
  vocab v;
  auto fail = [&](const std::string& msg) { return model_error{msg, f.path()}; };
  auto model = f.get_string("tokenizer.ggml.model");
  if (!model)
    return model.error().as_error();
  if (model.value() == "llama")
    v.model = vocab::model_kind::spm;
  else if (model.value() == "gpt2")
    v.model = vocab::model_kind::bpe;
  else
    return fail("unsupported tokenizer '" + std::string(model.value())
                + "' (troupe reads 'llama' and 'gpt2')");
  auto tokens = f.get_strings("tokenizer.ggml.tokens");
  if (!tokens)
    return tokens.error().as_error();
  for (auto t : tokens.value())
    v.tokens.emplace_back(t);
  if (f.find("tokenizer.ggml.scores")) {
    auto scores = f.get_array<float>("tokenizer.ggml.scores");
    if (!scores || scores.value().size() != v.tokens.size())
      return fail("tokenizer.ggml.scores must hold one f32 per token");
    v.scores = scores.value().to_vector();
  }
  if (f.find("tokenizer.ggml.token_type")) {
    auto types = f.get_array<int32_t>("tokenizer.ggml.token_type");
    if (!types || types.value().size() != v.tokens.size())
      return fail("tokenizer.ggml.token_type must hold one i32 per token");
    for (auto t : types.value())
      v.attrs.push_back(t >= 1 && t <= 6 ? token_attr(t) : token_attr::normal);
  }
  if (v.model == vocab::model_kind::bpe) {
    auto merges = f.get_strings("tokenizer.ggml.merges");
    if (!merges)
      return merges.error().as_error();
    for (auto m : merges.value())
      v.merges.emplace_back(m);
    if (auto pre = f.get_string("tokenizer.ggml.pre"))
      v.pre = std::string(pre.value());
    v.add_bos = false;
    v.add_space_prefix = false;
  }
  // Converters write "none" as -1 (0xFFFFFFFF as u32): an id outside the
  // vocabulary means the model has no such token.
  auto id = [&](const char* key, int32_t& out) -> bool {
    if (!f.find(key))
      return true;
    auto r = f.get_i64(key);
    if (!r)
      return false;
    if (r.value() >= 0 && uint64_t(r.value()) < v.tokens.size())
      out = int32_t(r.value());
    return true;
  };
  if (!id("tokenizer.ggml.bos_token_id", v.bos) || !id("tokenizer.ggml.eos_token_id", v.eos)
      || !id("tokenizer.ggml.unknown_token_id", v.unk) || !id("tokenizer.ggml.padding_token_id", v.pad)
      || !id("tokenizer.ggml.eot_token_id", v.eot))
    return fail("a tokenizer.ggml.*_token_id is not an integer");
  if (auto b = f.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = b.value();
  if (auto b = f.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = b.value();
  if (auto b = f.get_bool("tokenizer.ggml.add_space_prefix")) v.add_space_prefix = b.value();
  if (auto t = f.get_string("tokenizer.chat_template")) v.chat_template = std::string(t.value());
  return v;
}

result<std::shared_ptr<const engine_model>, model_error>
load_model(std::shared_ptr<const gguf_file> file) {
  const auto& f = *file;
  if (f.architecture() != "llama")
    return model_error{"unsupported architecture '" + std::string(f.architecture())
                         + "': troupe runs Llama-family models (general.architecture = llama)",
                       f.path()};
  loader L(f);
  llama_weights w;
  if (!read_hparams(L, f, w.hp))
    return *L.error;
  auto voc = vocab_from_gguf(f);
  if (!voc)
    return voc.error();
  auto& hp = w.hp;
  hp.n_vocab = int(voc.value().tokens.size());
  const int64_t d = hp.n_embd, dq = int64_t(hp.n_head) * hp.head_dim,
                dkv = int64_t(hp.n_head_kv) * hp.head_dim;
  w.tok_embd = L.matrix("token_embd.weight", d, hp.n_vocab);
  w.output_norm = L.vector("output_norm.weight", d);
  w.output = f.tensor("output.weight") ? L.matrix("output.weight", d, hp.n_vocab) : w.tok_embd;
  for (int i = 0; i < hp.n_layer && !L.error; ++i) {
    std::string p = "blk." + std::to_string(i) + ".";
    llama_layer l;
    l.attn_norm = L.vector(p + "attn_norm.weight", d);
    l.wq = L.matrix(p + "attn_q.weight", d, dq);
    l.wk = L.matrix(p + "attn_k.weight", d, dkv);
    l.wv = L.matrix(p + "attn_v.weight", d, dkv);
    l.wo = L.matrix(p + "attn_output.weight", dq, d);
    l.ffn_norm = L.vector(p + "ffn_norm.weight", d);
    l.w_gate = L.matrix(p + "ffn_gate.weight", d, hp.n_ff);
    l.w_up = L.matrix(p + "ffn_up.weight", d, hp.n_ff);
    l.w_down = L.matrix(p + "ffn_down.weight", hp.n_ff, d);
    w.layers.push_back(std::move(l));
  }
  if (L.error)
    return *L.error;
  auto m = std::make_shared<engine_model>(engine_model{std::move(w), tokenizer(std::move(voc).value()), file});
  return std::shared_ptr<const engine_model>(std::move(m));
}

result<std::shared_ptr<const engine_model>, model_error> load_model(const std::string& path) {
  auto f = gguf_file::open(path);
  if (!f)
    return f.error().as_error();
  return load_model(std::make_shared<const gguf_file>(std::move(f).value()));
}

} // namespace troupe::gpu
