#pragma once

#include "dsl/ast.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/source.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace troupe::dsl {

/// Parses the text of one `{{ ... }}` interpolation that starts at `at`;
/// returns null after reporting its errors.
using interpolation_parser =
  std::function<ast::expr_ptr(const std::string& text, source_pos at)>;

/// Decodes the source spelling `raw` of a string literal that starts at
/// `start` (quotes included: "...", '...' or """..."""): applies escapes
/// (E003), the multi-line dedent rule (a blank first and last line are
/// dropped, then the indentation common to non-blank lines; blank lines
/// become empty), and splits out `{{ expr }}` parts through `sub` (E006 for
/// unterminated or empty ones). Returns false when any error was reported.
/// Part of the parse step; plain code with no ANTLR dependency.
bool decode_string(uint32_t file, const std::string& raw, source_pos start,
                   diagnostics& diags, const interpolation_parser& sub,
                   ast::template_string& out);

/// `p` moved past `text` (lines and code-point columns).
source_pos advance_pos(source_pos p, std::string_view text);

} // namespace troupe::dsl
