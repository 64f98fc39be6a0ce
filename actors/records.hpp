#pragma once

#include "runtime/result.hpp"

#include <cstdint>
#include <string>
#include <vector>

// Bulk payloads that cross nodes, as FlatBuffers (actors/schema/records.fbs).
// Writers build the bytes; readers run flatbuffers::Verifier first, so a
// truncated, corrupt or hostile buffer is an error value naming what is
// wrong, never a crash.

namespace troupe::actors {

/// Generated tokens: ids and the log-probability of each.
/// Invariants: ids.size() == logprobs.size().
struct token_list {
  std::vector<std::int32_t> ids;
  std::vector<float> logprobs;
};

/// The plain form of fb::step_record: one attempt at a step.
struct step_record_data {
  std::string key;
  std::uint32_t attempt = 1;
  bool ok = false;
  std::string output_json;
  std::string error;
  bool retryable = false;
  std::string model;
  std::string node;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t started_us = 0;
  std::int64_t finished_us = 0;
  token_list tokens;
};

std::vector<std::uint8_t> token_list_write(const token_list& t);
runtime::result<token_list, std::string> token_list_read(const std::vector<std::uint8_t>& bytes);

std::vector<std::uint8_t> step_record_write(const step_record_data& r);

/// Verifies and decodes. Errors: "step record: not a valid FlatBuffer
/// (N bytes)", "step record: no key", "step record: token ids and
/// logprobs differ in length".
runtime::result<step_record_data, std::string>
step_record_read(const std::vector<std::uint8_t>& bytes);

} // namespace troupe::actors
