#pragma once

#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// The client for OpenAI-compatible chat endpoints (OpenAI, vLLM, llama.cpp's
// server, ...): one `POST {base_url}/chat/completions` per call, no
// streaming. Retrying is the caller's decision, guided by
// chat_error::retryable.

namespace troupe::runtime {

using base::result;

/// Where an endpoint lives and how to authenticate to it.
struct openai_endpoint {
  /// e.g. "https://api.openai.com/v1"; "/chat/completions" is appended
  /// (a trailing '/' is dropped first).
  std::string base_url;
  /// Name of the environment variable holding the API key, sent as
  /// "Authorization: Bearer KEY". Empty: the endpoint needs no key and no
  /// Authorization header is sent.
  std::string api_key_env;
  int64_t timeout_ms = 60000; ///< The whole call, connecting included.
  size_t max_bytes = 8 << 20; ///< The largest response body accepted.
};

/// One model call: an optional system message and one user message.
struct chat_request {
  std::string model;
  std::string system; ///< Empty: no system message is sent.
  std::string prompt; ///< The user message.
  int64_t max_tokens = 256;
  double temperature = 0;
  std::vector<std::string> stop; ///< Empty: "stop" is left out.
};

/// What the model answered.
struct chat_reply {
  std::string text;          ///< choices[0].message.content
  int64_t prompt_tokens = 0; ///< usage.prompt_tokens; 0 when usage is absent.
  int64_t completion_tokens = 0;
  std::string finish_reason; ///< choices[0].finish_reason; "" when null or absent.
};

/// Why there is no reply. `status` is the HTTP status when one arrived, else
/// 0. `retryable`: timeouts, network failures, 429 and 5xx.
struct chat_error {
  std::string message;
  bool retryable = false;
  int status = 0;
};

/// The request body for `request`:
/// {model, messages: [{role: "system"}?, {role: "user"}], max_tokens,
///  temperature, stop?}.
value openai_chat_body(const chat_request& request);

/// Reads a 2xx response body. Returns chat_error (not retryable) naming
/// precisely what is wrong: not JSON, no choices[0].message.content (or not
/// a string), usage counts that are not whole numbers, a finish_reason that
/// is neither a string nor null.
result<chat_reply, chat_error> openai_chat_parse(const std::string& body);

/// Sends `request` to `endpoint` and reads the reply. Errors: an unset or
/// empty key variable (naming it), a transport failure or timeout, a non-2xx
/// status (with error.message from the body when present, else an excerpt
/// of the body), and the malformed replies of openai_chat_parse. The key
/// never appears in a message. Thread-safe, except against concurrent
/// setenv() of the key variable.
result<chat_reply, chat_error> openai_chat(const openai_endpoint& endpoint,
                                           const chat_request& request);

} // namespace troupe::runtime
