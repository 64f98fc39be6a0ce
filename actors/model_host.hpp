#pragma once

#include "actors/gpu_actor.hpp"
#include "runtime/base/result.hpp"

#include "caf/actor_system.hpp"

#include <map>
#include <mutex>
#include <string>

namespace troupe::actors {

/// The GPU actors of one node: one per local model file, started on first
/// use (resolve the name through the models directory, load the GGUF,
/// choose the device, spawn). A model that fails to load is reported each
/// time it is asked for, with the loader's reason, and not retried in a
/// loop. Thread-safe: executors on several scheduler threads share one.
/// Invariants: at most one GPU actor per resolved file path.
class model_host {
public:
  /// `load_listeners` (routers) get every GPU actor's load reports.
  model_host(caf::actor_system& sys, std::string node, gpu::engine_options engine,
             gpu::worker_options worker, gpu::device_kind device,
             std::vector<caf::actor> load_listeners = {})
    : sys_(sys), node_(std::move(node)), engine_(engine), worker_(worker), device_(device),
      load_listeners_(std::move(load_listeners)) {}

  /// The GPU actor serving `location` (a file name or path) as `model_name`.
  /// Blocks while the model loads (milliseconds: the file is mapped).
  base::result<gpu_actor, std::string> get(const std::string& model_name,
                                              const std::string& location);

  /// Every GPU actor started so far, by model name.
  std::map<std::string, gpu_actor> actors() const;

  const std::string& node() const { return node_; }

private:
  caf::actor_system& sys_;
  std::string node_;
  gpu::engine_options engine_;
  gpu::worker_options worker_;
  gpu::device_kind device_;
  std::vector<caf::actor> load_listeners_;
  mutable std::mutex mu_;
  std::map<std::string, gpu_actor> by_path_;      ///< Guarded by mu_.
  std::map<std::string, gpu_actor> by_name_;      ///< Guarded by mu_.
  std::map<std::string, std::string> failures_;   ///< Guarded by mu_: path -> why.
};

} // namespace troupe::actors
