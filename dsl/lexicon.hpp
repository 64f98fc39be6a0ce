#pragma once

#include <string>
#include <string_view>
#include <vector>

// The words and string spelling of .wf, for code that writes .wf text
// (the formatter, runtime plans). The grammar (grammar/Troupe.g4) is the
// reference; tests/dsl/lexicon_test.cpp checks this file against it.

namespace troupe::dsl {

/// Every reserved word of .wf (the grammar's keyword tokens), sorted. None
/// of them lexes as a name, so none can name a workflow, step or input.
const std::vector<std::string_view>& keywords();

/// True when `word` is one of keywords().
bool is_keyword(std::string_view word);

/// True when `word` lexes as one name token ([A-Za-z_][A-Za-z0-9_]*) and
/// is no keyword: what may name a workflow, step, input or output.
bool is_identifier(std::string_view word);

/// How quote_string() writes braces.
enum class string_braces {
  interpolate, ///< As they are: `{{expr}}` in the text stays an interpolation.
  literal,     ///< Escaped (`\{`): the text is taken literally.
};

/// The body of a double-quoted .wf string literal (no quotes) that decodes
/// to `text`: '"', '\\', newline, tab and carriage return escaped, and '{'
/// too with string_braces::literal. Other bytes (UTF-8 included) are kept.
std::string escape_string(std::string_view text, string_braces braces);

/// `text` as a double-quoted .wf string literal: '"' + escape_string() + '"'.
/// With string_braces::interpolate, `{{...}}` parts of `text` parse back as
/// interpolations (an unclosed `{{` is then a parse error, E006).
std::string quote_string(std::string_view text,
                         string_braces braces = string_braces::interpolate);

} // namespace troupe::dsl
