#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::base {

/// How a step's model work is scheduled, from the .wf `priority:` property
/// to the engine: an engine admits queued interactive requests before batch
/// ones and preempts batch sequences first; when a model's queue is full an
/// interactive step moves to another model while a batch step fails. Crosses
/// actors as a field of step_job and generation_job (CAF serializes an enum
/// by its underlying type).
enum class job_class : std::uint8_t { interactive = 0, batch = 1 };

/// True when work of class `a` is served before work of class `b`
/// (interactive before batch): queues admit in this order and an engine
/// preempts in the reverse one. The only ordering of classes.
constexpr bool job_class_before(job_class a, job_class b) {
  return a == job_class::interactive && b == job_class::batch;
}

/// "interactive" or "batch": the .wf spelling, also used by the IR dump and
/// by CAF when it prints a message.
inline std::string to_string(job_class c) {
  return c == job_class::batch ? "batch" : "interactive";
}

/// The class spelled `name` ("interactive" or "batch"), or nothing.
inline std::optional<job_class> job_class_from_name(std::string_view name) {
  if (name == "interactive")
    return job_class::interactive;
  if (name == "batch")
    return job_class::batch;
  return std::nullopt;
}

} // namespace troupe::base
