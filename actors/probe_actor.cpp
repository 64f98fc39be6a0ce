#include "actors/probe_actor.hpp"

#include "caf/typed_event_based_actor.hpp"

#include "gpu/gguf/gguf_file.hpp"
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
  const auto file = gpu::gguf_file::open(reply.path);
  if (!file) {
    const auto& e = file.error();
    reply.error_offset = e.offset;
    reply.error_message =
      e.field.empty() ? e.message : "field '" + e.field + "': " + e.message;
    return reply;
  }
  const auto& f = file.value();
  reply.ok = true;
  reply.version = f.version();
  reply.tensor_count = f.tensors().size();
  reply.metadata_count = f.metadata().size();
  reply.file_size = f.file_size();
  reply.architecture = std::string(f.architecture());
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
