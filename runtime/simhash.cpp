#include "runtime/simhash.hpp"

#include <array>
#include <bitset>
#include <vector>

#include <xxhash.h>

namespace troupe::runtime {

namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'
         || c == '\r';
}

// The words of a normalized text: the pieces between single spaces.
std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos)
      end = text.size();
    if (end > start)
      words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

} // namespace

std::string normalize_prompt(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char c : text) {
    if (is_ascii_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space)
      out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::uint64_t hash64(std::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::uint64_t simhash64(std::string_view normalized) {
  const auto words = split_words(normalized);
  if (words.empty())
    return 0;
  // Per bit: (features with the bit set) - (features with it clear).
  std::array<std::int64_t, 64> weight{};
  const auto add = [&weight](std::string_view feature) {
    const std::uint64_t h = hash64(feature);
    for (int bit = 0; bit < 64; ++bit)
      weight[bit] += ((h >> bit) & 1u) != 0 ? 1 : -1;
  };
  if (words.size() < 3) {
    add(normalized);
  } else {
    // The words are views into `normalized`, separated by single spaces,
    // so a shingle is the span from its first word to its third.
    for (std::size_t i = 0; i + 2 < words.size(); ++i) {
      const char* begin = words[i].data();
      const char* end = words[i + 2].data() + words[i + 2].size();
      add(std::string_view{begin, static_cast<std::size_t>(end - begin)});
    }
  }
  std::uint64_t out = 0;
  for (int bit = 0; bit < 64; ++bit)
    if (weight[bit] > 0)
      out |= std::uint64_t{1} << bit;
  return out;
}

int hamming_distance(std::uint64_t a, std::uint64_t b) {
  return static_cast<int>(std::bitset<64>(a ^ b).count());
}

} // namespace troupe::runtime
