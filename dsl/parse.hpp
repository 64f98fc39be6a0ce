#pragma once

#include "dsl/ast.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/source.hpp"

#include <optional>

namespace troupe::dsl {

/// Limits that keep hostile input from exhausting the stack: nesting of
/// brackets and blocks, and operators at one nesting level.
inline constexpr int max_nesting = 32;
inline constexpr int max_operators_per_level = 64;

/// Parses file `file_id` of `sm` into an AST.
///
/// Every lexical and syntax error of the file is added to `diags` (invalid
/// UTF-8 stops at the first bad byte). Returns the AST only when the file
/// had no such error; later stages never see a partial tree. Never throws.
std::optional<ast::file> parse(const source_manager& sm, uint32_t file_id,
                               diagnostics& diags);

} // namespace troupe::dsl
