#pragma once

#include "actors/messages.hpp"
#include "actors/model_host.hpp"
#include "runtime/tools.hpp"

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <filesystem>
#include <memory>

namespace troupe::actors {

/// An executor: runs one attempt at a step and answers with its record.
///   (execute_atom, step_job) -> step_outcome (bytes of an fb::step_record)
/// Tool steps run the runtime's built-in tools; model steps go to this
/// node's GPU actor for a local GGUF model, or to an OpenAI-compatible
/// endpoint. Work that blocks (HTTP, shell, endpoint calls) runs on a
/// detached worker actor, so no CAF scheduler thread waits; fast pure tools
/// (template, json_*, regex_extract, chunk_text) and workspace files run
/// inline. A failure is a record with ok = false, never a CAF error.
using executor_actor = caf::typed_actor<
  caf::replies_to<execute_atom, step_job>::with<step_outcome>>;

struct executor_options {
  std::string node;                   ///< Recorded in every step record.
  std::filesystem::path runs_root;    ///< Workspaces: runs_root/RUN_ID/workspace.
  runtime::tool_context tools;        ///< Limits and shell policy (workspace set per job).
  std::shared_ptr<model_host> models; ///< This node's GPU actors.
};

executor_actor executor_actor_spawn(caf::actor_system& sys, executor_options opts);

} // namespace troupe::actors
