#pragma once

#include "actors/messages.hpp"
#include "dsl/ir.hpp"
#include "runtime/step_attempts.hpp"
#include "runtime/workflow_run.hpp"

/// The step_job an executor receives for one job the step policy asked for:
/// the task's tool and arguments, or the chosen model's backend with the
/// prompt, sampling and limits.
namespace troupe::actors {

/// Precondition: a model job's `r.model` names a model of `graph` (the
/// router only chooses those).
step_job step_job_for(const dsl::ir::graph& graph, const std::string& run_id,
                      const runtime::task& t, uint32_t attempt, const runtime::job_request& r);

} // namespace troupe::actors
