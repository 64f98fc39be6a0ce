#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

/// UTF-8 helpers: the only place in troupe that knows how UTF-8 is laid out.
/// Text is bytes in a std::string_view; offsets are byte offsets. None of
/// these functions allocates except those that return or append a string,
/// and none throws on any input.
namespace troupe::base {

/// True for a continuation byte (10xxxxxx), which never starts a code point.
constexpr bool utf8_is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

/// The sequence length that byte `c` announces when it leads one: 1 (ASCII),
/// 2, 3 or 4; 0 for a continuation byte or 0xF8..0xFF. Says nothing about
/// the bytes that follow it.
constexpr size_t utf8_lead_length(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
}

/// Bytes of the character at s[i] when walking text that may be broken: what
/// its lead byte announces, cut at the end of `s`, and 1 for a byte that
/// leads nothing, so that a walk always advances. Precondition: i < s.size().
inline size_t utf8_char_bytes(std::string_view s, size_t i) {
  const size_t n = utf8_lead_length(static_cast<unsigned char>(s[i]));
  return std::min(n == 0 ? size_t{1} : n, s.size() - i);
}

/// Length (1 to 4) of the valid UTF-8 sequence starting at s[i], or 0 when
/// none starts there: a continuation byte, a truncated or overlong sequence,
/// a surrogate (U+D800..U+DFFF) or a code point past U+10FFFF.
/// Precondition: i < s.size().
inline size_t utf8_valid_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t len = utf8_lead_length(c);
  if (len == 0 || len > s.size() - i)
    return 0;
  uint32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if (!utf8_is_continuation(cc))
      return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  const bool overlong =
    (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/// Offset of the first byte of `s` that does not start a valid sequence (see
/// utf8_valid_length), or std::string_view::npos when all of `s` is valid.
inline size_t utf8_invalid_at(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_valid_length(s, i);
    if (n == 0)
      return i;
    i += n;
  }
  return std::string_view::npos;
}

/// Number of code points in `s`: its bytes that are not continuation bytes.
/// Exact for valid text; in broken text each stray lead byte counts as one.
inline size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if (!utf8_is_continuation(c))
      ++n;
  return n;
}

/// Bytes taken by the first `n` code points of `s` (counted as utf8_length
/// counts them): the offset where code point `n` starts, or s.size() when
/// `s` has no more than `n`. Never ends inside a sequence.
inline size_t utf8_prefix_bytes(std::string_view s, size_t n) {
  size_t points = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if (!utf8_is_continuation(static_cast<unsigned char>(s[i])) && points++ == n)
      return i;
  return s.size();
}

/// The largest offset no greater than `at` that is not inside a sequence
/// (not on a continuation byte), so s.substr(0, result) splits none;
/// s.size() when at >= s.size().
inline size_t utf8_floor(std::string_view s, size_t at) {
  if (at >= s.size())
    return s.size();
  while (at > 0 && utf8_is_continuation(static_cast<unsigned char>(s[at])))
    --at;
  return at;
}

/// Offset just past the code point that starts at s[i]: past i and past the
/// continuation bytes that follow it. Precondition: i < s.size().
inline size_t utf8_next(std::string_view s, size_t i) {
  ++i;
  while (i < s.size() && utf8_is_continuation(static_cast<unsigned char>(s[i])))
    ++i;
  return i;
}

/// Length of the longest prefix of `s` that does not end in a sequence still
/// waiting for bytes: when `s` ends with a lead byte (and some of its
/// continuation bytes) short of what the lead announces, those bytes are held
/// back; everything else, broken bytes included, is complete. For streaming
/// text out as it is generated, a token at a time.
inline size_t utf8_complete_prefix(std::string_view s) {
  size_t i = s.size();
  for (size_t back = 0; back < 4 && i > 0; ++back) {
    const auto c = static_cast<unsigned char>(s[i - 1]);
    if (utf8_is_continuation(c)) {
      --i;
      continue;
    }
    const size_t lead = utf8_lead_length(c);
    const size_t need = lead == 0 ? 1 : lead;
    return s.size() - (i - 1) >= need ? s.size() : i - 1;
  }
  return s.size();
}

/// Appends the UTF-8 encoding of code point `cp` to `out`.
/// Precondition: cp <= 0x10FFFF (surrogates are encoded as they are).
inline void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// `s` as valid UTF-8: each byte that does not start a valid sequence is
/// replaced by U+FFFD (one per byte); valid text comes back unchanged.
inline std::string utf8_replace_invalid(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (const size_t n = utf8_valid_length(s, i); n != 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

/// Makes `s` safe to put into JSON when it is not valid UTF-8, keeping its
/// length: unchanged when valid, else every byte >= 0x80 becomes '?'.
inline void utf8_ascii_fallback(std::string& s) {
  if (utf8_invalid_at(s) == std::string_view::npos)
    return;
  for (auto& c : s)
    if (static_cast<unsigned char>(c) >= 0x80)
      c = '?';
}

} // namespace troupe::base
