#pragma once

#include "dsl/ast.hpp"
#include "dsl/ir.hpp"
#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

#include <map>
#include <string>

/// Evaluation of checked .wf expressions at run time.
namespace troupe::runtime {

using base::result;

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
/// Semantics follow docs/dsl.md "Expressions":
///   - numbers are doubles; a result that is not finite (1e300 * 1e300) is a
///     fault, and so is division by zero; durations are milliseconds;
///   - `+` joins text when either operand is a string (the other must be a
///     string, number or bool, written with value_to_text()), else adds
///     numbers;
///   - `==`/`!=` compare as JSON (1 == 1.0; different kinds are unequal);
///     `<` etc. order two numbers or two strings (by bytes, which is code
///     point order), anything else is a fault;
///   - `and`/`or` short-circuit and need bools; `??` yields the right side
///     when the left is null (a fault on the left is not null: it stays);
///   - `x.f` and `x["f"]` on an object without that member, and any field
///     or index of null, are null (so `skipped.answer ?? "none"` works);
///     a field of anything else, an index of the wrong kind, a fractional
///     or out-of-range list index are faults;
///   - len counts code points of text and members of lists and objects;
///     contains(text, part), contains(list, item) (JSON equality) and
///     contains(object, key); join writes elements with value_to_text();
///     lower, upper and trim touch ASCII only;
///   - string interpolation renders with value_to_text().
/// A fault's range is the sub-expression to blame (the index, the argument,
/// the division). Scope pointers left null fault only when the expression
/// needs them; an absent step reads as null. Thread-safe: reads only.
result<value, eval_error> evaluate(const dsl::ast::expr& e, const eval_scope& scope);

/// Renders a string literal with its interpolations (what `"..{{x}}.."`
/// evaluates to); the first faulting interpolation fails it.
result<std::string, eval_error> render(const dsl::ast::template_string& s,
                                       const eval_scope& scope);

} // namespace troupe::runtime
