#pragma once

#include "dsl/ir.hpp"

#include <map>
#include <string>
#include <vector>

namespace troupe::dsl {


/// An IR graph that passed check(): every name resolves, every expression is
/// well typed, every policy is valid, and each workflow's steps form a DAG.
/// Only check() can construct one, so holding a checked_graph is proof of
/// all that; later stages (deploy) take nothing else. Immutable.
class checked_graph {
public:
  const ir::graph& graph() const { return graph_; }

  /// Step names of workflow `w` in a valid run order (dependencies first,
  /// source order among independent steps).
  const std::vector<std::string>& run_order(const std::string& workflow) const {
    return order_.at(workflow);
  }

private:
  friend class checker;
  checked_graph(ir::graph g, std::map<std::string, std::vector<std::string>> order)
    : graph_(std::move(g)), order_(std::move(order)) {}

  ir::graph graph_;
  std::map<std::string, std::vector<std::string>> order_;
};

} // namespace troupe::dsl
