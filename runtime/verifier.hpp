#pragma once

#include "dsl/ir.hpp"
#include "dsl/source.hpp"
#include "runtime/eval.hpp"
#include "runtime/value.hpp"

#include <cstddef>
#include <string>
#include <vector>

/// The checks of a step's `verify { ... }` block, and agreement among the N
/// answers of `agree: K of N`. Plain functions: thread-safe, no state.
namespace troupe::runtime {

/// The verifier's verdict on one answer, as it travels back to the planner
/// and into runtime::step_attempts.
struct verdict {
  bool passed = false;
  std::vector<std::string> failures; ///< One sentence per failed check.
  std::string error;                 ///< Set when the verifier itself failed.
};

/// Serialization (CAF's inspect protocol; no CAF is included here).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verdict& x) {
  return f(x.passed, x.failures, x.error);
}

/// One check a result failed.
struct verify_failure {
  std::string check;         ///< "json", "schema", "regex", "assert" or "length".
  std::string message;       ///< Says what was expected and what was found.
  dsl::source_range range;   ///< The entry in the verify block (for an assert
                             ///< that faulted: the faulting sub-expression).
};

/// Everything one result failed, in the order json, schema, regex (in
/// source order), assert (in source order), length.
struct verify_report {
  std::vector<verify_failure> failures;

  bool passed() const { return failures.empty(); }
};

/// Checks `result` (one task's result: one element's under `for`) against
/// `policy`, running every check rather than stopping at the first failure.
/// `scope` gives what asserts may name besides `result`, which is bound to
/// `result` here (scope.result is ignored). `agree` is not checked here (it
/// compares several results: find_agreement()).
///   json    a string result must parse as JSON, nesting at most
///           value_max_depth levels; any other result already is JSON.
///   schema  the result, parsed first when it is a string, must match the
///           schema (schema_validate(); up to 8 violations, one failure each).
///           A string that is not JSON fails with that reason.
///   regex   std::regex_search of the pattern (a leading "(?i)" makes it
///           case-insensitive) in value_to_text(result): a search, not a
///           full match, so `^` and `$` anchor where users expect.
///   assert  the expression must evaluate to true; false, a non-bool or an
///           evaluation fault (with its message) fails.
///   length  code points of a text, elements of a list, otherwise the code
///           points of value_to_text(result); must lie within MIN..MAX
///           inclusive.
/// Never throws; a bad policy (an invalid schema or regex, which the checker
/// rejects) becomes a failure too.
verify_report verify_result(const dsl::ir::verify_policy& policy, const value& result,
                            const eval_scope& scope);

/// The form in which two answers agree when equal. Strings that parse as a
/// JSON object or array become that JSON's canonical dump (keys sorted, no
/// spaces), so equal JSON agrees whatever its spacing and key order; other
/// strings are ASCII-lower-cased, whitespace runs become one space, and
/// surrounding whitespace and trailing . ! ? are removed ("Paris." and
/// " paris" agree). Other values: their canonical JSON dump.
std::string agreement_key(const value& v);

/// The outcome of comparing N answers.
/// Invariants: group is sorted ascending; reached == (group.size() >= k).
struct agreement {
  bool reached = false;
  std::vector<size_t> group; ///< Indices of the largest agreeing group.
};

/// Groups `answers` by agreement_key() and picks the largest group; among
/// equally large groups, the one whose first member comes first. `reached`
/// when that group has at least `k` members (k == 0 is always reached; no
/// answers give an empty group).
agreement find_agreement(const std::vector<value>& answers, size_t k);

} // namespace troupe::runtime
