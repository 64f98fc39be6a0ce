#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/router.hpp"
#include "runtime/verifier.hpp"

#include "caf/actor.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/type_id.hpp"

#include "runtime/base/job_class.hpp"
#include "runtime/base/load_report.hpp"

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


/// A step the planner hands to an executor: a tool call, or one model call
/// with the model the router chose. Values travel as JSON text.
/// Invariants: kind is "tool", "llm" or "plan"; tool steps set `tool` and
/// `args_json`; model steps set `model`, `backend` and `prompt`.
struct step_job {
  std::string run_id;
  std::string key;          ///< Task key in the run ("summary", "parts[2]").
  std::uint32_t attempt = 1;
  std::string kind;
  std::string tool;
  std::string args_json = "{}";
  std::string model;        ///< Name of the chosen model.
  std::string backend;      ///< "gguf" or "openai".
  std::string location;     ///< gguf: file name; openai: base URL.
  std::string api_model;    ///< openai: model name at the endpoint.
  std::string key_env;      ///< openai: variable holding the API key.
  std::string prompt;
  std::string system;
  bool json_output = false; ///< Parse the model's answer as JSON.
  std::int32_t max_tokens = 256;
  double temperature = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> stop;
  base::job_class cls = base::job_class::interactive; ///< The step's `priority:`.
  std::int64_t timeout_ms = 0; ///< 0: none.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_job& x) {
  return f(caf::meta::type_name("step_job"), x.run_id, x.key, x.attempt, x.kind, x.tool,
           x.args_json, x.model, x.backend, x.location, x.api_model, x.key_env, x.prompt,
           x.system, x.json_output, x.max_tokens, x.temperature, x.seed, x.stop, x.cls,
           x.timeout_ms);
}

/// An executor's answer to a step_job: the bytes of one fb::step_record
/// (actors/schema/records.fbs), verified by the receiver with
/// step_record_read() (actors/records.hpp).
struct step_outcome {
  std::vector<std::uint8_t> record;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_outcome& x) {
  return f(caf::meta::type_name("step_outcome"), x.record);
}

/// A generation request to a GPU actor. The actor tokenizes `prompt`,
/// wrapping it (and `system`) in the model's chat template when `chat`.
struct generation_job {
  std::string prompt;
  std::string system;
  bool chat = false;
  std::int32_t max_tokens = 256;
  double temperature = 0;
  double top_p = 1;
  std::uint64_t seed = 0;
  std::vector<std::string> stop;
  base::job_class cls = base::job_class::interactive; ///< Orders the engine's queue.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_job& x) {
  return f(caf::meta::type_name("generation_job"), x.prompt, x.system, x.chat, x.max_tokens,
           x.temperature, x.top_p, x.seed, x.stop, x.cls);
}

/// A GPU actor's answer. `tokens` holds the bytes of one fb::token_array.
/// Invariants: !ok implies error is set and text is empty.
struct generation_result {
  bool ok = false;
  std::string text;
  std::string error;
  std::string finish;        ///< "length", "stop", "end_of_generation", ...
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double queue_ms = 0;       ///< Waiting before decoding began.
  double decode_ms = 0;
  std::vector<std::uint8_t> tokens;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, generation_result& x) {
  return f(caf::meta::type_name("generation_result"), x.ok, x.text, x.error, x.finish,
           x.prompt_tokens, x.completion_tokens, x.queue_ms, x.decode_ms, x.tokens);
}

/// A streamed piece of a generation, sent to the listener named in the
/// request as decoding goes.
struct token_chunk {
  std::uint64_t request = 0;
  std::string text;
  bool done = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_chunk& x) {
  return f(caf::meta::type_name("token_chunk"), x.request, x.text, x.done);
}

/// One model's load on one node, as its GPU actor reports it to routers.
struct model_load {
  std::string node;
  std::string model;
  base::load_report load;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_load& x) {
  return f(caf::meta::type_name("model_load"), x.node, x.model, x.load);
}

/// An attempt's results to check against its step's verify clauses, all
/// in one message: the verdicts come back together, in order. The verifier
/// holds the checked graph; `context_json` carries the inputs, the results
/// of the steps the step depends on and the loop value, once for all
/// results: {"inputs": {...}, "steps": {...}, "loop": ...}.
struct verify_job {
  std::string workflow;
  std::string step;
  std::vector<std::string> results_json;
  std::string context_json;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verify_job& x) {
  return f(caf::meta::type_name("verify_job"), x.workflow, x.step, x.results_json,
           x.context_json);
}

/// Agreement among n answers (JSON texts): whether k agree, and which.
struct agree_reply {
  bool reached = false;
  std::vector<std::uint32_t> group;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agree_reply& x) {
  return f(caf::meta::type_name("agree_reply"), x.reached, x.group);
}

/// One event of a run (a journal line, JSON text), streamed to listeners
/// (the launcher's live view, --json).
struct run_event {
  std::string json;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_event& x) {
  return f(caf::meta::type_name("run_event"), x.json);
}

/// How a run ended: its id, outputs (JSON text) or the failures.
struct run_summary {
  std::string run_id;
  bool ok = false;
  std::string outputs_json;
  std::vector<std::string> failures;
  std::string journal_path;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_summary& x) {
  return f(caf::meta::type_name("run_summary"), x.run_id, x.ok, x.outputs_json, x.failures,
           x.journal_path);
}

/// One node of a cluster as its peers see it: its name and the executors
/// it hosts (executor_actor handles, carried as caf::actor).
struct member_info {
  std::string name;
  std::string address; ///< HOST:PORT its node_actor listens on.
  std::vector<caf::actor> executors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  return f(caf::meta::type_name("member_info"), x.name, x.address, x.executors);
}

/// Asking to join a cluster through one of its nodes: `proof` is
/// runtime::cluster_proof(secret, nonce, name) for the nonce that node
/// handed out. A joining node (role "node") brings its executors; a
/// launcher (role "client") brings none.
struct join_request {
  std::string name;
  std::string role;
  std::string nonce;
  std::string proof;
  std::string address; ///< A joining node's listen HOST:PORT.
  std::vector<caf::actor> executors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_request& x) {
  return f(caf::meta::type_name("join_request"), x.name, x.role, x.nonce, x.proof, x.address,
           x.executors);
}

/// The answer: refused with a reason, or every live member with its executors.
struct join_reply {
  bool ok = false;
  std::string error;
  std::string node; ///< The answering node's name.
  std::vector<member_info> members;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_reply& x) {
  return f(caf::meta::type_name("join_reply"), x.ok, x.error, x.node, x.members);
}

} // namespace troupe::actors

// Type IDs for troupe's message types. A later block (another troupe library)
// starts at caf::id_block::troupe_actors::end.
CAF_BEGIN_TYPE_ID_BLOCK(troupe_actors, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::model_probe_reply))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::step_job))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::step_outcome))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::generation_job))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::generation_result))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::token_chunk))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::model_load))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::runtime::route_request))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::runtime::route_reply))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::runtime::call_report))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::verify_job))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::runtime::verdict))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::agree_reply))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::run_event))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::run_summary))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::member_info))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::join_request))
  CAF_ADD_TYPE_ID(troupe_actors, (troupe::actors::join_reply))
  CAF_ADD_TYPE_ID(troupe_actors, (std::vector<std::string>))
  CAF_ADD_TYPE_ID(troupe_actors, (std::vector<troupe::runtime::verdict>))

  /// Request: (model_probe_atom, std::string model) -> model_probe_reply.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, model_probe_atom, "mdl_probe")
  /// executor: (execute_atom, step_job) -> step_outcome.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, execute_atom, "execute")
  /// gpu actor: (generate_atom, generation_job) -> generation_result, and
  /// (generate_atom, generation_job, caf::actor listener) streaming
  /// token_chunk messages to the listener before the reply.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, generate_atom, "generate")
  /// gpu actor: (load_atom) -> model_load.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, load_atom, "load")
  /// router: (route_atom, runtime::route_request) -> runtime::route_reply.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, route_atom, "route")
  /// verifier: (verify_atom, verify_job) -> std::vector<runtime::verdict>, one per result.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, verify_atom, "verify")
  /// verifier: (agree_atom, std::vector<std::string> answers, uint32 k) -> agree_reply.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, agree_atom, "agree")
  /// router: (stats_atom) -> std::string (JSON snapshot of its state).
  CAF_ADD_ATOM(troupe_actors, troupe::actors, stats_atom, "stats")
  /// node: (hello_atom) -> std::string nonce, for one join.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, hello_atom, "hello")
  /// node: (join_atom, join_request) -> join_reply.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, join_atom, "join")
  /// planner: (run_atom) -> run_summary, once the run has ended.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, run_atom, "run")
  /// planner internal: (journaled_atom, std::string key) after a durable write.
  CAF_ADD_ATOM(troupe_actors, troupe::actors, journaled_atom, "journaled")

CAF_END_TYPE_ID_BLOCK(troupe_actors)

namespace troupe::actors {

/// Registers every type in the troupe_actors block with `cfg`, so messages
/// holding them can be serialized (remote actors, tests). Call once per
/// config, before constructing the actor_system.
inline void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::troupe_actors>();
}

} // namespace troupe::actors
