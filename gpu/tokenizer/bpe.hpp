#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

/// GPT-2 byte-level BPE helpers of the tokenizer (internal to gpu/tokenizer).
namespace troupe::gpu {

/// Compiled pre-tokenizer regexes for one `tokenizer.ggml.pre` value.
struct bpe_splitter;

/// The pre-tokenizer for `pre`: "smollm", "starcoder" and "refact" split
/// digits one by one before the GPT-2 pattern; anything else uses the GPT-2
/// pattern alone.
std::shared_ptr<const bpe_splitter> make_bpe_splitter(const std::string& pre);

/// Splits `text` into the words BPE merges within (views into `text`).
std::vector<std::string_view> bpe_pre_split(const bpe_splitter& s, std::string_view text);

/// GPT-2's reversible byte -> printable code point mapping, as UTF-8.
std::string bpe_bytes_to_unicode(std::string_view bytes);

/// The inverse: a vocabulary entry's text back to the bytes it stands for.
std::string bpe_token_bytes(const std::string& token_text);

} // namespace troupe::gpu
