// The string half of parse(): escapes, dedent and interpolation splitting.
#include "dsl/parse_string.hpp"

#include "runtime/base/utf8.hpp"

#include <algorithm>

namespace troupe::dsl {

source_pos advance_pos(source_pos p, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.col = 1;
    } else if (!base::utf8_is_continuation(c)) {
      ++p.col;
    }
  }
  return p;
}

namespace {

// Decodes a string token: escapes, multi-line dedent, and `{{ expr }}` parts.
class string_decoder {
public:
  string_decoder(uint32_t file, diagnostics& diags, const interpolation_parser& sub)
    : file_(file), diags_(diags), sub_(sub) {}

  bool decode(const std::string& raw, source_pos start, ast::template_string& out) {
    out.raw = raw;
    bool triple = raw.size() >= 6 && raw.compare(0, 3, "\"\"\"") == 0;
    size_t q = triple ? 3 : 1;
    std::string body = raw.substr(q, raw.size() - 2 * q);
    source_pos pos = start;
    pos.col += uint32_t(q);
    auto lines = split_lines(body, pos);
    if (triple)
      dedent(lines);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0)
        literal_ += '\n';
      decode_line(lines[i], out);
    }
    flush(out);
    return ok_;
  }

private:
  struct line {
    std::string text;
    source_pos pos;
    size_t skip = 0; // Indentation removed by dedent.
  };

  static std::vector<line> split_lines(const std::string& body, source_pos pos) {
    std::vector<line> lines;
    size_t begin = 0;
    while (true) {
      size_t nl = body.find('\n', begin);
      std::string text = body.substr(begin, nl == std::string::npos ? nl : nl - begin);
      if (!text.empty() && text.back() == '\r')
        text.pop_back();
      lines.push_back({text, pos, 0});
      if (nl == std::string::npos)
        break;
      begin = nl + 1;
      pos = {pos.line + 1, 1};
    }
    return lines;
  }

  static bool blank(const std::string& s) {
    return s.find_first_not_of(" \t") == std::string::npos;
  }

  // Multi-line strings drop a blank first and last line and the indentation
  // common to all non-blank lines, so prompts can be indented with the file.
  static void dedent(std::vector<line>& lines) {
    if (lines.size() > 1 && blank(lines.front().text))
      lines.erase(lines.begin());
    if (lines.size() > 1 && blank(lines.back().text))
      lines.pop_back();
    size_t common = std::string::npos;
    for (const auto& l : lines)
      if (!blank(l.text))
        common = std::min(common, l.text.find_first_not_of(" \t"));
    if (common == std::string::npos)
      common = 0;
    for (auto& l : lines)
      l.skip = blank(l.text) ? l.text.size() : common;
  }

  void decode_line(const line& l, ast::template_string& out) {
    const std::string& s = l.text;
    auto pos_at = [&](size_t i) {
      return advance_pos(l.pos, std::string_view(s).substr(0, i));
    };
    for (size_t i = l.skip; i < s.size();) {
      char c = s[i];
      if (c == '\\') {
        i = decode_escape(s, i, pos_at);
      } else if (c == '{' && i + 1 < s.size() && s[i + 1] == '{') {
        size_t close = s.find("}}", i + 2);
        source_range r{file_, pos_at(i), pos_at(close == std::string::npos ? s.size() : close + 2)};
        if (close == std::string::npos) {
          error(diag_code::E006, r, "unterminated interpolation",
                "close it with '}}' on the same line, or write '\\{{' for "
                "literal braces");
          return;
        }
        std::string inner = s.substr(i + 2, close - i - 2);
        if (blank(inner)) {
          error(diag_code::E006, r, "empty interpolation",
                "put an expression between '{{' and '}}'");
        } else if (auto e = sub_(inner, pos_at(i + 2))) {
          flush(out);
          out.parts.push_back({"", e});
        } else {
          ok_ = false;
        }
        i = close + 2;
      } else {
        literal_ += c;
        ++i;
      }
    }
  }

  template <class PosAt>
  size_t decode_escape(const std::string& s, size_t i, PosAt pos_at) {
    if (i + 1 >= s.size()) {
      error(diag_code::E003, {file_, pos_at(i), pos_at(i + 1)},
            "a backslash cannot end a line", "write '\\\\' for a backslash");
      return i + 1;
    }
    char n = s[i + 1];
    switch (n) {
      case 'n': literal_ += '\n'; return i + 2;
      case 't': literal_ += '\t'; return i + 2;
      case 'r': literal_ += '\r'; return i + 2;
      case '\\': case '"': case '\'': case '{': case '}':
        literal_ += n;
        return i + 2;
      case 'u': {
        size_t close = s.find('}', i);
        if (i + 2 < s.size() && s[i + 2] == '{' && close != std::string::npos
            && close > i + 3 && close <= i + 9) {
          std::string hex = s.substr(i + 3, close - i - 3);
          if (hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
            unsigned long cp = std::stoul(hex, nullptr, 16);
            if (cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
              base::utf8_append(literal_, uint32_t(cp));
              return close + 1;
            }
          }
        }
        error(diag_code::E003,
              {file_, pos_at(i), pos_at(close == std::string::npos ? i + 2 : close + 1)},
              "invalid unicode escape", "write \\u{XXXX} with 1 to 6 hex digits");
        return close == std::string::npos ? i + 2 : close + 1;
      }
      default:
        error(diag_code::E003, {file_, pos_at(i), pos_at(i + 2)},
              std::string("unknown escape sequence '\\") + n + "'",
              "valid escapes: \\n \\t \\r \\\\ \\\" \\' \\{ \\} \\u{XXXX}");
        return i + 2;
    }
  }

  void flush(ast::template_string& out) {
    if (!literal_.empty())
      out.parts.push_back({std::move(literal_), nullptr});
    literal_.clear();
  }

  void error(diag_code code, source_range r, std::string msg, std::string hint) {
    diags_.add(code, r, std::move(msg), std::move(hint));
    ok_ = false;
  }

  uint32_t file_;
  diagnostics& diags_;
  const interpolation_parser& sub_;
  std::string literal_;
  bool ok_ = true;
};

} // namespace

bool decode_string(uint32_t file, const std::string& raw, source_pos start,
                   diagnostics& diags, const interpolation_parser& sub,
                   ast::template_string& out) {
  return string_decoder(file, diags, sub).decode(raw, start, out);
}

} // namespace troupe::dsl
