#pragma once

#include "dsl/diagnostics.hpp"
#include "dsl/ir.hpp"

namespace troupe::dsl {

/// Binds every name expression of `w` (prompts, arguments, conditions, `for`
/// lists, verify asserts, outputs) in `w.refs`, fills each step's `deps` and
/// `inputs_used`, and checks the models, tools and workflows steps name.
/// Reports E020, E021 (a loop variable hiding a name), E022, E023, E024,
/// E034 (non-constant input defaults) and E044. Part of build_ir(); `g`
/// must hold every model and workflow already.
void resolve_names(const ir::graph& g, ir::workflow& w, diagnostics& diags);

} // namespace troupe::dsl
