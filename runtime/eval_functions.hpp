#pragma once

#include "dsl/ast.hpp"
#include "runtime/eval.hpp"
#include "runtime/value.hpp"

#include <string>
#include <vector>

/// Pieces of evaluate() that work on values already computed: the built-in
/// functions and the operators. Internal to runtime/eval*.cpp; every function
/// reports a fault at the range of the expression (or argument) to blame.
namespace troupe::runtime::eval_detail {

/// A fault at `at`'s range.
eval_error fault(const dsl::ast::expr& at, std::string message);

/// What a value is, for messages: "number 3", "text \"abc\"" (cut to 40
/// code points), "bool true", "null", "a list of 3 elements", "an object".
std::string describe(const value& v);

/// Applies the built-in function `call.text` (len, contains, join, lower,
/// upper, trim) to `args`, the values of call.args in order. An unknown name
/// or a wrong arity is a fault too: a checked graph never has them, but an
/// unchecked one must not crash.
result<value, eval_error> call_builtin(const dsl::ast::expr& call,
                                       const std::vector<value>& args);

/// `l op r` for op in + - * / == != < <= > >=, both operands evaluated.
result<value, eval_error> apply_binary(const dsl::ast::expr& e, const value& l,
                                       const value& r);

} // namespace troupe::runtime::eval_detail
