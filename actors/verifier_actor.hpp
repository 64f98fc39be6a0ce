#pragma once

#include "actors/messages.hpp"
#include "dsl/compile.hpp"

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include <memory>

namespace troupe::actors {

/// The verifier: checks a step's result against its `verify` clauses
/// (json, schema, regex, assert, length) and finds agreement among answers.
///   (verify_atom, verify_job) -> std::vector<runtime::verdict>, one per result
///   (agree_atom, std::vector<std::string> answers_json, uint32_t k) -> agree_reply
/// It holds the compilation whose steps it checks, so it runs on the node
/// that compiled the workflow. Checks are fast and pure; it never blocks.
using verifier_actor = caf::typed_actor<
  caf::replies_to<verify_atom, verify_job>::with<std::vector<runtime::verdict>>,
  caf::replies_to<agree_atom, std::vector<std::string>, std::uint32_t>::with<agree_reply>>;

/// `program` must hold a checked graph (program->ok()).
verifier_actor verifier_actor_spawn(caf::actor_system& sys,
                                    std::shared_ptr<const dsl::compilation> program);

/// The plain function behind (verify_atom, job): a verdict per result, in
/// order. An unknown workflow or step, or malformed JSON in the job, are
/// failures that say so.
std::vector<runtime::verdict> verify_step(const dsl::compilation& program, const verify_job& job);

} // namespace troupe::actors
