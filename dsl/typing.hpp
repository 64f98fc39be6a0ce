#pragma once

#include "dsl/diagnostics.hpp"
#include "dsl/ir.hpp"
#include "dsl/types.hpp"

#include <string>
#include <vector>

namespace troupe::dsl {

/// Assigns types to expressions of one workflow for check(). Every error is
/// reported once, at the innermost expression at fault; an expression that
/// already failed has type `error`, which is accepted everywhere so one
/// mistake does not cascade. Requires step output types to be set.
class expr_typer {
public:
  expr_typer(const ir::workflow& w, diagnostics& diags) : w_(w), diags_(diags) {}

  /// The type of `e` evaluated inside `owner` (null outside any step): the
  /// loop variable and `result` are typed from the owner.
  type type_of(const ast::expr& e, const ir::step* owner);

  /// Types `e` and reports E030 unless it is assignable to `expected`.
  /// `what` names the place ("'when' of step 'x'").
  void expect(const ast::expr& e, const ir::step* owner, const type& expected,
              const std::string& what);

  /// Built-in functions usable in expressions.
  static const std::vector<std::string>& function_names();

private:
  type name_type(const ast::expr& e, const ir::step* owner);
  type field_type(const ast::expr& e, const ir::step* owner);
  type index_type(const ast::expr& e, const ir::step* owner);
  type call_type(const ast::expr& e, const ir::step* owner);
  type unary_type(const ast::expr& e, const ir::step* owner);
  type binary_type(const ast::expr& e, const ir::step* owner);
  type list_type(const ast::expr& e, const ir::step* owner);
  type mismatch(const ast::expr& at, const std::string& message,
                const std::string& hint = {});

  const ir::workflow& w_;
  diagnostics& diags_;
};

/// The element type of a step's `for` list, or error.
type loop_element_type(const ir::workflow& w, const ir::step& s,
                       diagnostics& diags);

/// A step's output before fan-out: text/json for llm, json for plan, the
/// tool's result, or the called workflow's outputs as a record.
type base_output_type(const ir::graph& g, const ir::step& s);

} // namespace troupe::dsl
