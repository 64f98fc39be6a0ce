#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe::gpu {

/// Token attributes, numbered as GGUF's tokenizer.ggml.token_type.
enum class token_attr : int32_t {
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

/// Everything a tokenizer needs, as read from a model's GGUF metadata
/// (tokenizer.ggml.*). Plain data: built by vocab_from_gguf() or by tests.
/// Invariants: scores and attrs are empty or as long as tokens; special ids
/// are -1 or index tokens.
struct vocab {
  enum class model_kind { spm, bpe } model = model_kind::spm;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<token_attr> attrs;
  std::vector<std::string> merges; ///< BPE: "left right", by rank.
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t eot = -1; ///< End of turn, when distinct from eos.
  int32_t unk = -1;
  int32_t pad = -1;
  bool add_bos = true;
  bool add_eos = false;
  bool add_space_prefix = true; ///< SPM: a leading space before the text.
  std::string pre = "default";  ///< BPE pre-tokenizer (tokenizer.ggml.pre).
  std::string chat_template;    ///< tokenizer.chat_template, may be empty.

  token_attr attr(int32_t id) const {
    return attrs.empty() ? token_attr::normal : attrs[static_cast<size_t>(id)];
  }
};

} // namespace troupe::gpu
