#pragma once

#include "dsl/source.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace troupe::dsl {

/// Every diagnostic troupe's front end can emit. Numbers are stable: a code
/// is never reused for another meaning. docs/dsl.md documents each one, and
/// tests/dsl/cases holds at least one case for each.
enum class diag_code {
  // Lexical and syntax (parse).
  E001 = 1, E002, E003, E004, E005, E006, E007, E008,
  // Files and imports.
  E010 = 10, E011, E012, E013,
  // Names and properties.
  E020 = 20, E021, E022, E023, E024, E025, E026, E027, E028, E029,
  // Types.
  E030 = 30, E031, E032, E033, E034, E035,
  // Graph.
  E040 = 40, E041, E042, E043, E044,
  // Policies and values.
  E050 = 50, E051, E052, E053, E054, E055, E056, E057, E058, E059, E060, E061,
  // Warnings.
  W001 = 1001, W002, W003, W004,
};

/// "E020", "W001".
std::string code_name(diag_code c);

/// One-line title of a code, as listed in docs/dsl.md.
std::string_view code_title(diag_code c);

/// All codes, in numeric order.
const std::vector<diag_code>& all_codes();

inline bool is_warning(diag_code c) { return static_cast<int>(c) > 1000; }

struct diag_note {
  source_range range;
  std::string message;
};

struct diagnostic {
  diag_code code;
  source_range range;
  std::string message;
  std::string hint;  ///< Optional; rendered as "= hint: ...".
  std::vector<diag_note> notes;

  bool is_error() const { return !is_warning(code); }
};

/// Collects diagnostics from every stage of one compilation. Nothing is
/// printed until render(): errors are reported all at once, sorted by
/// position, each exactly once.
class diagnostics {
public:
  diagnostic& add(diag_code code, source_range range, std::string message,
                  std::string hint = {});

  size_t error_count() const;
  size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }
  const std::vector<diagnostic>& items() const { return items_; }

  /// Sorts by file, line, column and code, and drops exact duplicates.
  void finalize(const source_manager& sm);

  /// Renders every diagnostic as
  ///   file:line:col: error[Ennn]: message
  ///     12 | source line
  ///        |      ^^^^
  ///     = hint: ...
  /// followed by a summary line when there is at least one error or warning.
  std::string render(const source_manager& sm) const;

private:
  std::vector<diagnostic> items_;
};

/// The closest candidate to `name` within a small edit distance, or "".
std::string closest_match(std::string_view name,
                          const std::vector<std::string>& candidates);

/// "did you mean 'x'?" when a close candidate exists, else "".
std::string did_you_mean(std::string_view name,
                         const std::vector<std::string>& candidates);

} // namespace troupe::dsl
