#include "gpu/tokenizer/tokenizer.hpp"

#include "gpu/tokenizer/bpe.hpp"

#include <algorithm>
#include <cstdio>

namespace troupe::gpu {

namespace {

const char* const space_marker = "\xE2\x96\x81"; // U+2581, SentencePiece's space


bool is_eog_text(const std::string& t) {
  return t == "<|im_end|>" || t == "<|endoftext|>" || t == "<|eot_id|>"
         || t == "<end_of_turn>" || t == "</s>";
}

} // namespace

tokenizer::tokenizer(vocab v) : vocab_(std::move(v)) {
  ids_.reserve(vocab_.tokens.size());
  for (size_t i = 0; i < vocab_.tokens.size(); ++i)
    ids_.emplace(vocab_.tokens[i], static_cast<int32_t>(i));
  for (size_t i = 0; i < vocab_.merges.size(); ++i)
    merge_rank_.emplace(vocab_.merges[i], static_cast<int32_t>(i));
  for (size_t i = 0; i < vocab_.tokens.size(); ++i) {
    auto a = vocab_.attr(static_cast<int32_t>(i));
    if ((a == token_attr::control || a == token_attr::user_defined)
        && !vocab_.tokens[i].empty())
      specials_.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(specials_.begin(), specials_.end(), [&](int32_t a, int32_t b) {
    return vocab_.tokens[size_t(a)].size() > vocab_.tokens[size_t(b)].size();
  });
  if (vocab_.model == vocab::model_kind::bpe)
    splitter_ = make_bpe_splitter(vocab_.pre);
}

int32_t tokenizer::find(std::string_view text) const {
  auto it = ids_.find(std::string(text));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int32_t> tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && vocab_.add_bos && vocab_.bos >= 0)
    out.push_back(vocab_.bos);
  bool prev_special = true; // SPM prefixes a space at the start and after specials.
  size_t start = 0;
  auto flush = [&](size_t end) {
    if (end <= start)
      return;
    auto frag = text.substr(start, end - start);
    if (vocab_.model == vocab::model_kind::spm)
      encode_spm(frag, vocab_.add_space_prefix && prev_special, out);
    else
      encode_bpe(frag, out);
    prev_special = false;
  };
  for (size_t i = 0; parse_special && i < text.size();) {
    int32_t hit = -1;
    for (int32_t id : specials_) {
      const auto& t = vocab_.tokens[size_t(id)];
      if (text.compare(i, t.size(), t) == 0) {
        hit = id;
        break;
      }
    }
    if (hit < 0) {
      ++i;
      continue;
    }
    flush(i);
    out.push_back(hit);
    prev_special = true;
    i += vocab_.tokens[size_t(hit)].size();
    start = i;
  }
  flush(text.size());
  if (add_special && vocab_.add_eos && vocab_.eos >= 0)
    out.push_back(vocab_.eos);
  return out;
}

void tokenizer::append_bytes(std::string_view bytes, std::vector<int32_t>& out) const {
  for (unsigned char b : bytes) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    int32_t id = find(name);
    if (id < 0)
      id = vocab_.unk;
    if (id >= 0)
      out.push_back(id);
  }
}

std::string tokenizer::piece(int32_t id, bool render_special) const {
  if (id < 0 || id >= size())
    return {};
  const auto& t = vocab_.tokens[size_t(id)];
  switch (vocab_.attr(id)) {
    case token_attr::control:
      return render_special ? t : std::string();
    case token_attr::unused:
      return {};
    case token_attr::byte:
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0)
        return std::string(1, static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
      return t;
    default:
      break;
  }
  if (vocab_.model == vocab::model_kind::bpe)
    return bpe_token_bytes(t);
  std::string out;
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, 3, space_marker) == 0) {
      out += ' ';
      i += 3;
    } else {
      out += t[i++];
    }
  }
  return out;
}

std::string tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
  std::string out;
  for (auto id : ids)
    out += piece(id, render_special);
  return out;
}

bool tokenizer::is_end_of_generation(int32_t id) const {
  if (id < 0 || id >= size())
    return false;
  if (id == vocab_.eos || id == vocab_.eot)
    return true;
  return vocab_.attr(id) == token_attr::control && is_eog_text(vocab_.tokens[size_t(id)]);
}

} // namespace troupe::gpu
