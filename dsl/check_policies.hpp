#pragma once

#include "dsl/diagnostics.hpp"
#include "dsl/ir.hpp"

#include <cstddef>
#include <map>
#include <string>

/// The value checks of check(): each reports into `diags` and changes nothing.
namespace troupe::dsl {

/// The source range recorded for property `key`, else `fallback`.
source_range range_of(const std::map<std::string, source_range>& ranges,
                      const std::string& key, source_range fallback);

/// Accuracy in [0, 1], non-negative cost, positive latency and context,
/// exit threshold in (0, 1], and a well-formed backend (E051, E061).
void check_model(const ir::model& m, diagnostics& diags);

/// Each weight in [0, 1] (E051) and their sum 1 (E050).
void check_router(const ir::router_policy& r, diagnostics& diags);

/// Retries, timeout, cache TTL, sampling and plan bounds of one step (E051,
/// E053, E054).
void check_step_policies(const ir::step& s, diagnostics& diags);

/// The step's verify clauses: regexes (E055), schema (E056), length bounds
/// (E057) and agreement (E052; E059 when fewer than n of the `serving`
/// models can serve it, `serving` being 0 for a pinned model).
void check_verify(const ir::step& s, size_t serving, diagnostics& diags);

} // namespace troupe::dsl
