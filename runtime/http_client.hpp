#pragma once

#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// A small HTTP client over libcurl for the http_get tool and the
// OpenAI-compatible model client. Only http:// and https:// URLs are
// fetched, redirects included; every transfer is bounded in size and time.

namespace troupe::runtime {

using base::result;

/// A response that arrived in full, whatever its status.
/// Invariants: body.size() <= the max_bytes of the request that produced it.
struct http_response {
  int status = 0;           ///< The final status, after redirects.
  std::string body;         ///< Bytes as received (decoded transfer encoding).
  std::string content_type; ///< The Content-Type header, or "" when absent.
};

/// Why no complete response arrived: a bad URL, a network failure, a
/// timeout, a body over the size limit, too many redirects. `message` names
/// the URL and the cause. `retryable` is true for failures that may pass on
/// a later try (timeouts, refused or reset connections, name lookups) and
/// false for ones that will repeat (bad URL, size limit, redirect loop,
/// certificate rejected).
struct http_error {
  std::string message;
  bool retryable = false;
};

/// Extra request headers as (name, value) pairs.
using http_headers = std::vector<std::pair<std::string, std::string>>;

/// The most redirects a GET follows before failing.
inline constexpr int http_max_redirects = 5;

/// Fetches `url` (http or https only, also for redirect targets), following
/// at most http_max_redirects redirects. The transfer is aborted, and an
/// http_error returned, as soon as the body exceeds `max_bytes` or the whole
/// transfer exceeds `timeout_ms` (connecting included). Non-2xx statuses
/// are not errors here: the caller reads `status`.
/// Preconditions: max_bytes > 0, timeout_ms > 0.
/// Thread-safe: each call uses its own curl handle; libcurl's global state
/// is initialized once, on first use.
result<http_response, http_error> http_get(const std::string& url, size_t max_bytes,
                                           int64_t timeout_ms);

/// POSTs `body` serialized as JSON (Content-Type: application/json) to
/// `url`, with `headers` added. Redirects are not followed (a redirected
/// POST would lose its body), and a 3xx comes back as the status. Size and
/// time limits as for http_get. A header name or value holding CR, LF or
/// NUL is refused before anything is sent. Thread-safe as http_get.
result<http_response, http_error>
http_post_json(const std::string& url, const value& body, const http_headers& headers,
               size_t max_bytes, int64_t timeout_ms);

} // namespace troupe::runtime
