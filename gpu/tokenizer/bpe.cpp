#define PCRE2_CODE_UNIT_WIDTH 8
#include "gpu/tokenizer/bpe.hpp"

#include "gpu/tokenizer/tokenizer.hpp"
#include "runtime/base/utf8.hpp"

#include <pcre2.h>

#include <array>
#include <map>
#include <queue>

namespace troupe::gpu {

namespace {

// GPT-2's pre-tokenizer pattern, with its final `\s+` alternative so that no
// text is ever left unmatched.
const char* const gpt2_pattern =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char* const digit_pattern = "\\p{N}";

struct code_deleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};

std::unique_ptr<pcre2_code, code_deleter> compile(const char* pattern) {
  int err = 0;
  PCRE2_SIZE at = 0;
  auto* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &at, nullptr);
  return std::unique_ptr<pcre2_code, code_deleter>(code);
}

// Splits `text` at the matches of `re`: matches and the gaps between them
// are both kept, in order.
void split(const pcre2_code* re, std::string_view text, std::vector<std::string_view>& out) {
  auto* md = pcre2_match_data_create_from_pattern(re, nullptr);
  size_t pos = 0;
  while (pos < text.size()) {
    int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos,
                         PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0)
      break;
    auto* ov = pcre2_get_ovector_pointer(md);
    size_t b = ov[0], e = ov[1];
    if (b > pos)
      out.push_back(text.substr(pos, b - pos));
    if (e == b) { // Empty match: step one code point to make progress.
      const size_t next = base::utf8_next(text, b);
      out.push_back(text.substr(b, next - b));
      pos = next;
      continue;
    }
    out.push_back(text.substr(b, e - b));
    pos = e;
  }
  if (pos < text.size())
    out.push_back(text.substr(pos));
  pcre2_match_data_free(md);
}

struct byte_maps {
  std::array<std::string, 256> to_unicode;
  std::map<std::string, unsigned char> to_byte;

  byte_maps() {
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      base::utf8_append(to_unicode[size_t(b)], printable ? uint32_t(b) : next++);
      to_byte[to_unicode[size_t(b)]] = static_cast<unsigned char>(b);
    }
  }
};

const byte_maps& maps() {
  static const byte_maps m;
  return m;
}


} // namespace

struct bpe_splitter {
  std::unique_ptr<pcre2_code, code_deleter> digits; ///< Null unless digits split first.
  std::unique_ptr<pcre2_code, code_deleter> main;
};

std::shared_ptr<const bpe_splitter> make_bpe_splitter(const std::string& pre) {
  auto s = std::make_shared<bpe_splitter>();
  if (pre == "smollm" || pre == "starcoder" || pre == "refact")
    s->digits = compile(digit_pattern);
  s->main = compile(gpt2_pattern);
  return s;
}

std::vector<std::string_view> bpe_pre_split(const bpe_splitter& s, std::string_view text) {
  std::vector<std::string_view> first, out;
  if (s.digits)
    split(s.digits.get(), text, first);
  else
    first.push_back(text);
  for (auto piece : first)
    split(s.main.get(), piece, out);
  return out;
}

std::string bpe_bytes_to_unicode(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes)
    out += maps().to_unicode[b];
  return out;
}

std::string bpe_token_bytes(const std::string& text) {
  std::string out;
  const auto& m = maps().to_byte;
  for (size_t i = 0; i < text.size();) {
    size_t n = base::utf8_char_bytes(text, i);
    auto it = m.find(text.substr(i, n));
    if (it != m.end())
      out += static_cast<char>(it->second);
    else
      out += text.substr(i, n); // Not byte-mapped (user-defined text): as is.
    i += n;
  }
  return out;
}

void tokenizer::encode_bpe(std::string_view text, std::vector<int32_t>& out) const {
  struct sym {
    int prev, next;
    std::string text;
  };
  for (auto word : bpe_pre_split(*splitter_, text)) {
    std::string mapped = bpe_bytes_to_unicode(word);
    if (int32_t id = find(mapped); id >= 0) {
      out.push_back(id);
      continue;
    }
    std::vector<sym> syms;
    for (size_t i = 0; i < mapped.size();) {
      size_t n = base::utf8_char_bytes(mapped, i);
      int idx = static_cast<int>(syms.size());
      syms.push_back({idx - 1, idx + 1, mapped.substr(i, n)});
      i += n;
    }
    syms.back().next = -1;
    // Lowest merge rank first; the leftmost pair among equal ranks.
    using cand = std::tuple<int32_t, int, int, size_t>; // rank, left, right, size
    std::priority_queue<cand, std::vector<cand>, std::greater<cand>> queue;
    auto try_pair = [&](int l, int r) {
      if (l < 0 || r < 0)
        return;
      auto it = merge_rank_.find(syms[size_t(l)].text + " " + syms[size_t(r)].text);
      if (it != merge_rank_.end())
        queue.emplace(it->second, l, r, syms[size_t(l)].text.size() + syms[size_t(r)].text.size());
    };
    for (size_t i = 1; i < syms.size(); ++i)
      try_pair(int(i) - 1, int(i));
    while (!queue.empty()) {
      auto [rank, l, r, size] = queue.top();
      queue.pop();
      auto& left = syms[size_t(l)];
      auto& right = syms[size_t(r)];
      if (left.text.empty() || right.text.empty() || left.next != r
          || left.text.size() + right.text.size() != size)
        continue;
      left.text += right.text;
      right.text.clear();
      left.next = right.next;
      if (right.next >= 0)
        syms[size_t(right.next)].prev = l;
      try_pair(left.prev, l);
      try_pair(l, left.next);
    }
    for (int i = 0; i >= 0; i = syms[size_t(i)].next) {
      if (int32_t id = find(syms[size_t(i)].text); id >= 0) {
        out.push_back(id);
        continue;
      }
      const auto& t = syms[size_t(i)].text; // Unknown merge result: per character.
      for (size_t k = 0; k < t.size();) {
        size_t n = base::utf8_char_bytes(t, k);
        int32_t id = find(t.substr(k, n));
        if (id >= 0)
          out.push_back(id);
        else if (vocab_.unk >= 0)
          out.push_back(vocab_.unk);
        k += n;
      }
    }
  }
}

} // namespace troupe::gpu
