#pragma once

#include "dsl/checked_graph.hpp"

#include <string>

namespace troupe::dsl {

/// A deterministic, position-free text dump of a checked graph: router,
/// models, then each workflow with inputs, steps (kind, type, dependencies,
/// every property that differs from its default) and run order. Two files
/// that mean the same compile to the same dump; golden tests compare it.
std::string ir_dump(const checked_graph& g);

} // namespace troupe::dsl
