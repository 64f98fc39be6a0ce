#include "runtime/http_client.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace troupe::runtime {

namespace {

// curl_global_init is not thread-safe and must run once before any handle
// exists; its outcome is kept for every later call.
CURLcode global_init_once() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return code;
}

struct easy_deleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using easy_handle = std::unique_ptr<CURL, easy_deleter>;

struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using header_list = std::unique_ptr<curl_slist, slist_deleter>;

// Where the body goes; refuses bytes past the limit so curl aborts the
// transfer instead of downloading the rest.
struct body_sink {
  std::string body;
  size_t max_bytes = 0;
  bool overflowed = false;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  const size_t n = size * count;
  if (n > sink->max_bytes - sink->body.size()) {
    sink->overflowed = true;
    return 0; // Anything but n makes curl fail with CURLE_WRITE_ERROR.
  }
  sink->body.append(data, n);
  return n;
}

// Failures that will happen again whatever the timing.
bool permanent(CURLcode code) {
  switch (code) {
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
  case CURLE_NOT_BUILT_IN:
  case CURLE_TOO_MANY_REDIRECTS:
  case CURLE_FILESIZE_EXCEEDED:
  case CURLE_WRITE_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_BAD_FUNCTION_ARGUMENT:
  case CURLE_OUT_OF_MEMORY:
    return true;
  default:
    return false;
  }
}

http_error transfer_error(const std::string& method, const std::string& url, CURLcode code,
                          const char* detail, const body_sink& sink, int64_t timeout_ms) {
  const std::string where = method + " " + url + ": ";
  if (sink.overflowed || code == CURLE_FILESIZE_EXCEEDED)
    return {where + "response body exceeds max_bytes (" + std::to_string(sink.max_bytes)
              + " bytes); transfer aborted",
            false};
  if (code == CURLE_OPERATION_TIMEDOUT)
    return {where + "timed out after " + std::to_string(timeout_ms) + " ms", true};
  if (code == CURLE_TOO_MANY_REDIRECTS)
    return {where + "more than " + std::to_string(http_max_redirects) + " redirects", false};
  std::string message = where + curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0')
    message += std::string{" ("} + detail + ")";
  return {message, !permanent(code)};
}

// The options every request shares: protocols, limits, the body sink.
void set_common(CURL* h, const std::string& url, body_sink& sink, int64_t timeout_ms,
                char* error_buffer) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // Signals would be unsafe with other threads running transfers.
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(sink.max_bytes));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "troupe/0.1");
}

result<http_response, http_error> perform(CURL* h, const std::string& method,
                                          const std::string& url, body_sink& sink,
                                          int64_t timeout_ms, const char* error_buffer) {
  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK)
    return transfer_error(method, url, code, error_buffer, sink, timeout_ms);
  http_response response;
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  char* content_type = nullptr;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr)
    response.content_type = content_type;
  response.body = std::move(sink.body);
  return response;
}

result<easy_handle, http_error> new_handle() {
  const CURLcode init = global_init_once();
  if (init != CURLE_OK)
    return http_error{std::string{"libcurl initialization failed: "} + curl_easy_strerror(init),
                      false};
  easy_handle h{curl_easy_init()};
  if (!h)
    return http_error{"libcurl could not create a handle", false};
  return result<easy_handle, http_error>{std::move(h)};
}

bool header_safe(const std::string& s) {
  return s.find_first_of(std::string{"\r\n\0", 3}) == std::string::npos;
}

} // namespace

result<http_response, http_error> http_get(const std::string& url, size_t max_bytes,
                                           int64_t timeout_ms) {
  // Declared before the handle: curl holds pointers to them until cleanup.
  body_sink sink;
  sink.max_bytes = max_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {};
  auto h = new_handle();
  if (!h)
    return h.error();
  CURL* handle = h.value().get();
  set_common(handle, url, sink, timeout_ms, error_buffer);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, static_cast<long>(http_max_redirects));
  return perform(handle, "GET", url, sink, timeout_ms, error_buffer);
}

result<http_response, http_error>
http_post_json(const std::string& url, const value& body, const http_headers& headers,
               size_t max_bytes, int64_t timeout_ms) {
  header_list list{curl_slist_append(nullptr, "Content-Type: application/json")};
  for (const auto& [name, text] : headers) {
    if (name.empty() || !header_safe(name) || !header_safe(text)
        || name.find(':') != std::string::npos)
      return http_error{"POST " + url + ": header '" + name
                          + "' has an empty name, a ':' in its name, or a CR, LF or NUL",
                        false};
    curl_slist* grown = curl_slist_append(list.get(), (name + ": " + text).c_str());
    if (grown == nullptr)
      return http_error{"POST " + url + ": out of memory building headers", false};
    list.release();
    list.reset(grown);
  }
  // Invalid UTF-8 in a string is replaced rather than thrown on: the
  // request still goes out and the server sees U+FFFD.
  const std::string payload = value_to_json(body);
  // Declared before the handle: curl holds pointers to them until cleanup.
  body_sink sink;
  sink.max_bytes = max_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {};
  auto h = new_handle();
  if (!h)
    return h.error();
  CURL* handle = h.value().get();
  set_common(handle, url, sink, timeout_ms, error_buffer);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, payload.c_str());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(payload.size()));
  return perform(handle, "POST", url, sink, timeout_ms, error_buffer);
}

} // namespace troupe::runtime
