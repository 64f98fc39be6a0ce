#pragma once

#include "runtime/base/result.hpp"
#include "runtime/step_record.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Bulk payloads that cross nodes, as FlatBuffers (actors/schema/records.fbs).
// Writers build the bytes; readers run flatbuffers::Verifier first, so a
// truncated, corrupt or hostile buffer is an error value naming what is
// wrong, never a crash.

namespace troupe::actors {

std::vector<std::uint8_t> token_list_write(const runtime::token_list& t);
base::result<runtime::token_list, std::string> token_list_read(const std::vector<std::uint8_t>& bytes);

std::vector<std::uint8_t> step_record_write(const runtime::step_record& r);

/// Verifies and decodes. Errors: "step record: not a valid FlatBuffer
/// (N bytes)", "step record: no key", "step record: token ids and
/// logprobs differ in length".
base::result<runtime::step_record, std::string>
step_record_read(const std::vector<std::uint8_t>& bytes);

} // namespace troupe::actors
