#pragma once

#include <cstdint>
#include <string>

#include "caf/actor_system_config.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/type_id.hpp"

namespace troupe::actors {

/// Reply to a model_probe request: what gpu::gguf_file found for one model
/// file (error_message starts with the defective field, "field 'X': ..."). A failure is data, not a caf::error: set-up verification
/// reports it to the user with the offset.
/// Invariants: ok implies error_message is empty and error_offset is 0;
/// !ok implies error_message is not empty and the info fields are 0/empty.
struct model_probe_reply {
  /// The path probed (after model name resolution), or the name asked for
  /// when resolution failed.
  std::string path;
  bool ok = false;
  std::uint32_t version = 0;
  std::uint64_t tensor_count = 0;
  std::uint64_t metadata_count = 0;
  std::uint64_t file_size = 0;
  std::string architecture;
  /// Byte at which the file was found to be wrong.
  std::uint64_t error_offset = 0;
  std::string error_message;

  friend bool operator==(const model_probe_reply& a,
                         const model_probe_reply& b) {
    return a.path == b.path && a.ok == b.ok && a.version == b.version
           && a.tensor_count == b.tensor_count
           && a.metadata_count == b.metadata_count
           && a.file_size == b.file_size && a.architecture == b.architecture
           && a.error_offset == b.error_offset
           && a.error_message == b.error_message;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_probe_reply& x) {
  return f(caf::meta::type_name("model_probe_reply"), x.path, x.ok, x.version,
           x.tensor_count, x.metadata_count, x.file_size, x.architecture,
           x.error_offset, x.error_message);
}

} // namespace troupe::actors

// Type IDs for troupe's message types. A later block (another troupe library)
// starts at caf::id_block::troupe_actors::end.
CAF_BEGIN_TYPE_ID_BLOCK(troupe_actors, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::model_probe_reply))

  /// Request: (model_probe_atom, std::string model) -> model_probe_reply.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, model_probe_atom, "mdl_probe")

CAF_END_TYPE_ID_BLOCK(troupe_actors)

namespace troupe::actors {

/// Registers every type in the troupe_actors block with `cfg`, so messages
/// holding them can be serialized (remote actors, tests). Call once per
/// config, before constructing the actor_system.
inline void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::troupe_actors>();
}

} // namespace troupe::actors
