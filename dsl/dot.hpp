#pragma once

#include "dsl/checked_graph.hpp"

#include <string>

namespace troupe::dsl {

/// Graphviz DOT of a checked graph, accepted by `dot -Tsvg`: one cluster per
/// workflow; inputs as ellipses, steps as boxes labelled with kind and model
/// or tool, outputs as double octagons; data edges solid, `after` edges
/// dashed; conditional steps dashed, fan-out steps stacked.
std::string to_dot(const checked_graph& g);

} // namespace troupe::dsl
