#pragma once

#include "dsl/checked_graph.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/ir.hpp"

#include <optional>

namespace troupe::dsl {

/// Validates an IR graph: types of every expression and argument, dependency
/// and call cycles, outputs that may be missing, policy values (weights, k of
/// n, retries, timeouts, ranges, regexes, schemas), model availability, and
/// unused steps and inputs (warnings). Assigns step output types.
///
/// Every finding goes to `diags`. Returns the checked graph only when `diags`
/// holds no error at all (from this or an earlier stage).
std::optional<checked_graph> check(ir::graph g, diagnostics& diags);

} // namespace troupe::dsl
