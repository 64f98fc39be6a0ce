// SentencePiece-style encoding (GGUF tokenizer model "llama"): spaces become
// U+2581, then adjacent symbols merge greedily by the score of the token
// their concatenation forms; what no token covers falls back to bytes.
#include "gpu/tokenizer/tokenizer.hpp"
#include "runtime/base/utf8.hpp"

#include <queue>
#include <tuple>

namespace troupe::gpu {

namespace {


struct symbol {
  int prev;
  int next;
  size_t begin; // into the escaped text
  size_t size;  // 0 once merged into its left neighbour
};

struct bigram {
  float score;
  int left;
  int right;
  size_t size;

  // Highest score first; among equal scores the leftmost pair.
  bool operator<(const bigram& o) const {
    return score < o.score || (score == o.score && left > o.left);
  }
};

} // namespace

void tokenizer::encode_spm(std::string_view raw, bool space_prefix,
                           std::vector<int32_t>& out) const {
  std::string text;
  if (space_prefix)
    text += "\xE2\x96\x81";
  for (char c : raw) {
    if (c == ' ')
      text += "\xE2\x96\x81";
    else
      text += c;
  }
  std::vector<symbol> syms;
  for (size_t i = 0; i < text.size();) {
    size_t n = base::utf8_char_bytes(text, i);
    int idx = static_cast<int>(syms.size());
    syms.push_back({idx - 1, idx + 1, i, n});
    i += n;
  }
  if (syms.empty())
    return;
  syms.back().next = -1;
  std::priority_queue<bigram> queue;
  auto try_pair = [&](int l, int r) {
    if (l < 0 || r < 0)
      return;
    const auto& a = syms[size_t(l)];
    const auto& b = syms[size_t(r)];
    int32_t id = find(std::string_view(text).substr(a.begin, a.size + b.size));
    if (id < 0)
      return;
    float score = vocab_.scores.empty() ? 0.f : vocab_.scores[size_t(id)];
    queue.push({score, l, r, a.size + b.size});
  };
  for (size_t i = 1; i < syms.size(); ++i)
    try_pair(int(i) - 1, int(i));
  while (!queue.empty()) {
    auto bg = queue.top();
    queue.pop();
    auto& left = syms[size_t(bg.left)];
    auto& right = syms[size_t(bg.right)];
    if (left.size == 0 || right.size == 0 || left.size + right.size != bg.size)
      continue; // Stale: one side merged since this pair was queued.
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0)
      syms[size_t(right.next)].prev = bg.left;
    try_pair(left.prev, bg.left);
    try_pair(bg.left, left.next);
  }
  for (int i = 0; i >= 0; i = syms[size_t(i)].next) {
    auto piece = std::string_view(text).substr(syms[size_t(i)].begin, syms[size_t(i)].size);
    if (int32_t id = find(piece); id >= 0)
      out.push_back(id);
    else
      append_bytes(piece, out);
  }
}

} // namespace troupe::gpu
