#pragma once

#include "dsl/ast.hpp"
#include "dsl/source.hpp"

#include <string>

namespace troupe::dsl {

/// Renders an expression in canonical form: single spaces around binary
/// operators, parentheses only where precedence needs them, literals as
/// written in the source.
std::string expr_to_source(const ast::expr& e);

/// The same, but strings by their decoded value ("a\n{{x}}"), so two
/// spellings of one string print alike. Used by IR dumps.
std::string expr_to_ir(const ast::expr& e);

/// Renders `file` (parsed from `src`) in troupe's one canonical layout:
/// two-space indentation, one property per line, one blank line between
/// top-level declarations, blank lines inside workflows kept (at most one),
/// multi-line strings re-indented without changing their value, and every
/// comment kept. Idempotent, and the result compiles to the same IR.
std::string format_file(const ast::file& file, const source_file& src);

} // namespace troupe::dsl
