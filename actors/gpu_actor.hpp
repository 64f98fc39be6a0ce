#pragma once

#include "actors/messages.hpp"
#include "gpu/engine/device_select.hpp"
#include "gpu/engine/engine_worker.hpp"
#include "runtime/base/result.hpp"

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <memory>
#include <string>

namespace troupe::actors {

/// A GPU actor: owns one engine (on a CUDA device, or the CPU engine) for
/// one model, decodes on the engine's own thread (gpu::engine_worker) so it
/// never blocks a CAF scheduler thread, and batches every request it has
/// continuously.
///   (generate_atom, generation_job) -> generation_result
///   (generate_atom, generation_job, caf::actor listener) -> generation_result,
///       sending token_chunk messages to `listener` while decoding
///   (load_atom) -> model_load
/// A full queue (admission control) or a prompt that does not fit answers
/// with ok = false and a reason; never a crash.
using gpu_actor = caf::typed_actor<
  caf::replies_to<generate_atom, generation_job>::with<generation_result>,
  caf::replies_to<generate_atom, generation_job, caf::actor>::with<generation_result>,
  caf::replies_to<load_atom>::with<model_load>>;

struct gpu_actor_options {
  std::string node;                 ///< Node name for load reports.
  std::string model_name;           ///< The model's name in the workflow.
  gpu::engine_options engine;
  gpu::worker_options worker;
  gpu::device_kind device = gpu::device_kind::automatic;
  /// Receive a model_load whenever a request enters or leaves (routers).
  std::vector<caf::actor> load_listeners;
};

/// Chooses the device (gpu::select_device), starts the engine thread and
/// spawns the actor. Errors: the device cannot run the model (with why).
/// `model` stays shared with the actor.
base::result<gpu_actor, std::string>
gpu_actor_spawn(caf::actor_system& sys, std::shared_ptr<const gpu::engine_model> model,
                gpu_actor_options opts);

} // namespace troupe::actors
