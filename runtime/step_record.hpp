#pragma once

#include <cstdint>
#include <string>
#include <vector>

/// One attempt's answer from an executor, as the planner and the step
/// policy read it. Across nodes it travels as a FlatBuffers fb::step_record
/// (actors/records.hpp writes and verifies the bytes).
namespace troupe::runtime {

/// Generated tokens: ids and the log-probability of each.
/// Invariants: ids.size() == logprobs.size().
struct token_list {
  std::vector<std::int32_t> ids;
  std::vector<float> logprobs;
};

struct step_record {
  std::string key;
  std::uint32_t attempt = 1;
  bool ok = false;
  std::string output_json;
  std::string error;
  bool retryable = false; ///< !ok: whether the same call may pass when repeated.
  std::string model;      ///< "" for a tool.
  std::string node;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t started_us = 0;
  std::int64_t finished_us = 0;
  token_list tokens;

  /// A record of a call that never answered (its executor failed, its node
  /// sent bytes that do not read): retryable, with the reason.
  static step_record unanswered(std::string key, std::string model, std::string node,
                                std::string error) {
    step_record r;
    r.key = std::move(key);
    r.model = std::move(model);
    r.node = std::move(node);
    r.error = std::move(error);
    r.retryable = true;
    return r;
  }
};

} // namespace troupe::runtime
