#pragma once

#include "gpu/tokenizer/vocab.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe::gpu {

struct bpe_splitter;

/// Text <-> token ids for a model's vocabulary: SentencePiece-style
/// (`llama`: score-driven merges, byte fallback) or GPT-2 byte-level BPE
/// (`gpt2`: regex pre-split, rank-driven merges). Immutable after
/// construction; encode and decode may run on several threads at once.
class tokenizer {
public:
  explicit tokenizer(vocab v);

  /// Token ids of `text`. With `add_special`, BOS (and EOS) are added as
  /// the vocabulary asks. With `parse_special`, control and user-defined
  /// token texts in `text` (such as "<|im_start|>") become those tokens;
  /// otherwise they are tokenized as plain text.
  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special) const;

  /// The bytes token `id` stands for. Control tokens render as "" unless
  /// `render_special`. Out-of-range ids render as "".
  std::string piece(int32_t id, bool render_special = false) const;

  /// Concatenated pieces; exact inverse of encode for normal text.
  std::string decode(const std::vector<int32_t>& ids, bool render_special = false) const;

  /// True for tokens that end generation (EOS, EOT).
  bool is_end_of_generation(int32_t id) const;

  const vocab& vocabulary() const { return vocab_; }
  int32_t size() const { return static_cast<int32_t>(vocab_.tokens.size()); }

  /// Id of the token whose text is exactly `text`, or -1.
  int32_t find(std::string_view text) const;

private:
  void encode_spm(std::string_view text, bool space_prefix, std::vector<int32_t>& out) const;
  void encode_bpe(std::string_view text, std::vector<int32_t>& out) const;
  void append_bytes(std::string_view bytes, std::vector<int32_t>& out) const;

  vocab vocab_;
  std::unordered_map<std::string, int32_t> ids_;
  std::unordered_map<std::string, int32_t> merge_rank_;
  std::vector<int32_t> specials_; ///< Control/user-defined tokens, longest first.
  std::shared_ptr<const bpe_splitter> splitter_; ///< BPE only.
};

} // namespace troupe::gpu
