#include "actors/probe_actor.hpp"

#include "caf/typed_event_based_actor.hpp"

#include "runtime/gguf_probe.hpp"
#include "runtime/model_paths.hpp"

namespace troupe::actors {

model_probe_reply model_probe(const std::string& model) {
  model_probe_reply reply;
  reply.path = model;
  const auto path = runtime::model_path_resolve(model);
  if (!path) {
    reply.error_message = path.error().message;
    return reply;
  }
  reply.path = path.value().string();
  const auto probed = runtime::gguf_probe(path.value());
  if (!probed) {
    reply.error_offset = probed.error().offset;
    reply.error_message = probed.error().message;
    return reply;
  }
  const auto& info = probed.value();
  reply.ok = true;
  reply.version = info.version;
  reply.tensor_count = info.tensor_count;
  reply.metadata_count = info.metadata_count;
  reply.file_size = info.file_size;
  reply.architecture = info.architecture;
  return reply;
}

namespace {

// Class-based rather than function-based: CAF 0.17.6 spawns argument-less
// functions through a null shared_ptr dereference that UBSan rejects.
class probe_actor_impl : public probe_actor::base {
public:
  explicit probe_actor_impl(caf::actor_config& cfg) : probe_actor::base(cfg) {
  }

  behavior_type make_behavior() override {
    return {
      [](model_probe_atom, const std::string& model) {
        return model_probe(model);
      },
    };
  }
};

} // namespace

probe_actor probe_actor_spawn(caf::actor_system& sys) {
  return sys.spawn<probe_actor_impl, caf::detached>();
}

} // namespace troupe::actors
