#pragma once

#include "dsl/ast.hpp"
#include "dsl/ir.hpp"
#include "runtime/result.hpp"
#include "runtime/value.hpp"

#include <map>
#include <string>

/// Evaluation of checked .wf expressions at run time.
namespace troupe::runtime {

/// Why an expression has no value: a json operand of the wrong kind, an index
/// out of range, a division by zero, a field of a non-object. `range` points
/// at the offending sub-expression.
struct eval_error {
  std::string message;
  dsl::source_range range;
};

/// What names mean while evaluating one expression of workflow `wf`.
/// Pointers are borrowed for the duration of the call; null means "absent".
/// Invariants: wf is not null; inputs is an object holding every input of wf
/// (defaults already applied).
struct eval_scope {
  const dsl::ir::workflow* wf = nullptr;
  const value* inputs = nullptr;
  /// Results of finished steps. A step that is absent (skipped by `when`,
  /// or not run yet) reads as null, which is what `??` tests.
  const std::map<std::string, value>* steps = nullptr;
  const value* loop_value = nullptr; ///< The `for` variable, inside that step.
  const value* result = nullptr;     ///< `result`, inside `verify`.
};

/// Evaluates a checked expression. Names resolve through scope.wf->refs.
/// Semantics follow docs/dsl.md "Expressions": `+` joins text when either
/// operand is a string, else adds numbers; `??` yields the right side when
/// the left is null; `and`/`or` short-circuit; `len` counts code points of
/// text and elements of arrays/objects; string interpolation renders with
/// value_to_text(); durations are numbers of milliseconds. Returns
/// eval_error for run-time type faults (only json operands can cause them in
/// a checked graph). Thread-safe: reads only.
result<value, eval_error> evaluate(const dsl::ast::expr& e, const eval_scope& scope);

/// Renders a string literal with its interpolations (what `"..{{x}}.."`
/// evaluates to).
result<std::string, eval_error> render(const dsl::ast::template_string& s,
                                       const eval_scope& scope);

} // namespace troupe::runtime
