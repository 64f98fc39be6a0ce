#pragma once

#include "actors/messages.hpp"
#include "dsl/ir.hpp"
#include "runtime/step_attempts.hpp"
#include "runtime/tools.hpp"
#include "runtime/workflow_run.hpp"

/// The step_job an executor receives for one job the step policy asked for:
/// the task's tool and arguments, or the chosen model's backend with the
/// prompt, sampling and limits.
namespace troupe::actors {

/// Precondition: a model job's `r.model` names a model of `graph` (the
/// router only chooses those).
step_job step_job_for(const dsl::ir::graph& graph, const std::string& run_id,
                      const runtime::task& t, uint32_t attempt, const runtime::job_request& r);

/// What an executor on `node` answered for `job`: its step record, or one
/// that says why there is none (the executor failed, or its record is not
/// valid) and counts as a failed call.
runtime::step_record answer_of(const base::result<step_outcome, caf::error>& reply,
                               const step_job& job, const std::string& node);

/// The record of `job` run on `node`, started now: key, attempt, model and
/// node set; the caller fills in the outcome and finished_us.
runtime::step_record record_for(const step_job& job, const std::string& node);

/// Runs tool job `job` here, in the calling thread, with `ctx` (whose
/// workspace is the run's), and records it as run on `node`: its output as
/// JSON or its error, and when it started and finished.
runtime::step_record tool_job_record(const step_job& job, const runtime::tool_context& ctx,
                                     const std::string& node);

} // namespace troupe::actors
