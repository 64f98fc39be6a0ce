#pragma once

#include "dsl/ast.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/ir.hpp"

#include <vector>

namespace troupe::dsl {

/// Lowers parsed files to the IR graph: reads every property into typed
/// fields, resolves every name (inputs, steps, loop variables, models, tools,
/// workflows) and records each step's dependencies.
///
/// `files` holds the main file first, then its imports; `registry_models` the
/// models read from imported TOML registries. Errors (undefined, duplicate and
/// unknown names; unknown, missing or malformed properties) go to `diags`; the
/// graph is still returned, with the broken parts left at their defaults, so
/// check() can report further independent errors.
ir::graph build_ir(const std::vector<const ast::file*>& files,
                   std::vector<ir::model> registry_models, diagnostics& diags);

} // namespace troupe::dsl
