#pragma once

#include <string>

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "actors/messages.hpp"

namespace troupe::actors {

/// Answers (model_probe_atom, model) with a model_probe_reply. `model` is a
/// file name resolved by runtime::model_path_resolve ("stories260K.gguf") or
/// a path with a directory part.
using probe_actor = caf::typed_actor<
  caf::replies_to<model_probe_atom, std::string>::with<model_probe_reply>>;

/// The plain function behind probe_actor: resolves `model`, opens it with
/// gpu::gguf_file (mapping it and validating header, metadata, tensor
/// descriptors and data extents, without reading tensor data) and packs the
/// outcome. Never throws for missing or corrupt files; blocks on file I/O.
/// Safe to call from any thread.
model_probe_reply model_probe(const std::string& model);

/// Spawns a probe_actor on its own thread (caf::detached), because probing
/// blocks on file reads. Its behaviour decodes the request, calls
/// model_probe and replies. The handle keeps the actor alive; it ends when
/// the last handle goes or on an exit message.
probe_actor probe_actor_spawn(caf::actor_system& sys);

} // namespace troupe::actors
