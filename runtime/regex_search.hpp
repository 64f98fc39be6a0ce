#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <regex>
#include <string>

/// std::regex_search made safe for long texts. libstdc++'s ECMAScript
/// matcher recurses for every character a match attempt consumes (about
/// 800 bytes of stack per character for `^(a|b)*$`), so a 20 000-character
/// text overflows an 8 MiB stack and kills the process.
namespace troupe::runtime {

using base::result;

/// The longest text regex_search_bounded() searches, in bytes.
constexpr size_t regex_search_max_text = 512u << 10;

/// Whether `re` matches somewhere in `text` (std::regex_search). Texts over
/// a few hundred bytes are searched on a thread of its own whose stack grows
/// with the text (reserved, committed only as touched); the call blocks
/// until it finishes. Fails with a message when the text is longer than
/// regex_search_max_text, when no such thread can start, or when the
/// matcher throws (std::regex_error). Catastrophic backtracking (`(a+)+b`)
/// is not bounded: patterns come from the workflow's author. Thread-safe.
result<bool, std::string> regex_search_bounded(const std::regex& re,
                                               const std::string& text);

} // namespace troupe::runtime
