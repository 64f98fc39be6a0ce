#pragma once

#include "runtime/base/result.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

/// Run-time values of the .wf language. Every language type maps onto JSON,
/// so a value can go into the journal, the result cache and a message as is:
///   text -> string, number -> number, bool -> boolean, null -> null,
///   list<T> -> array, json -> any JSON, duration -> number (milliseconds),
///   record (a called workflow's outputs) -> object.
namespace troupe::runtime {

using base::result;

using value = nlohmann::json;

/// How a value reads when interpolated into text (`"{{x}}"`) or handed to a
/// tool that wants text: strings as they are (no quotes), integral numbers
/// without a fraction ("3", not "3.0"; up to 2^63), other numbers in
/// shortest round-trip form ("0.1", "1e+300"), booleans "true"/"false", null
/// "" (nothing), arrays and objects as compact JSON. Invalid UTF-8 inside an
/// array or object is written as U+FFFD. Never throws, and values nested
/// deeper than value_max_depth are written without recursion.
std::string value_to_text(const value& v);

/// `v` as compact JSON (no spaces, UTF-8 as is): the one way a value is
/// written to the journal, the cache file and request bodies. Invalid UTF-8
/// in a string is written as U+FFFD instead of throwing. Recursive, so `v`
/// must nest no deeper than value_max_depth (see parse_json_bounded()).
std::string value_to_json(const value& v);

/// A number as a value: whole numbers within +-2^53 (exact in a double) are
/// stored as integers, so JSON outputs and journals print `3`, not `3.0`;
/// others stay doubles. Arithmetic reads either kind with get<double>().
value number_value(double x);

/// `text` for a message: JSON-quoted and escaped, cut to at most
/// `max_code_points` code points with "..." inside the quotes marking a cut
/// ("\"Once upon a ti...\""). Never splits a UTF-8 sequence.
std::string quote_excerpt(std::string_view text, size_t max_code_points = 80);

/// The deepest nesting the runtime handles with nlohmann's recursive
/// operations (dump, ==, <). Values parsed from untrusted text (model output,
/// tool results) should come through parse_json_bounded(), which enforces it.
constexpr size_t value_max_depth = 512;

/// Nesting depth of `v`: 0 for a scalar, 1 for `[]` or `[1]`, 2 for `[[1]]`.
/// Iterative, so any depth is safe.
size_t value_depth(const value& v);

/// Parses JSON text that came from outside (a model, a tool). Fails with a
/// message ("syntax error ... at line 1, column 4", "nests deeper than 512
/// levels") when the text is not JSON or nests deeper than value_max_depth.
/// Never throws. Thread-safe.
result<value, std::string> parse_json_bounded(std::string_view text);

} // namespace troupe::runtime
