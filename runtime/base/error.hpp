#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace troupe::base {

/// Why something failed, and where: the one error shape of the libraries.
/// Errors that are only a sentence use it as it is (`message` first, so
/// `error{"cannot ..."}` reads naturally); richer ones (a GGUF field, a
/// retryable flag) keep their own fields but print through to_string().
/// Invariants: message is not empty for a real error; col > 0 only when
/// line > 0; offset is a byte offset into `path`.
struct error {
  std::string message{}; ///< What went wrong, one sentence, no location prefix.
  std::string path{};    ///< The file (or URL, or name) it is about; "" when none.
  std::uint64_t line = 0; ///< 1-based line in `path`; 0 when not about a line.
  std::uint64_t col = 0;  ///< 1-based column (code points); 0 when none.
  std::optional<std::uint64_t> offset{}; ///< Byte in `path`, when about one.

  /// The error as one line, the location first as compilers print it:
  /// "path:line:col: message", "path:line: message", "path: byte N:
  /// message", "path: message", or just the message when there is no path.
  std::string to_string() const {
    if (path.empty())
      return message;
    std::string out = path;
    if (line > 0) {
      out += ":" + std::to_string(line);
      if (col > 0)
        out += ":" + std::to_string(col);
    } else if (offset) {
      out += ": byte " + std::to_string(*offset);
    }
    return out + ": " + message;
  }
};

} // namespace troupe::base
