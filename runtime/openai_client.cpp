#include "runtime/openai_client.hpp"

#include "runtime/base/utf8.hpp"
#include "runtime/http_client.hpp"

#include <cmath>
#include <cstdlib>

namespace troupe::runtime {

namespace {

constexpr size_t excerpt_bytes = 300;

// The first `excerpt_bytes` of `body`, cut before a UTF-8 sequence rather
// than inside one.
std::string excerpt(const std::string& body) {
  if (body.size() <= excerpt_bytes)
    return body;
  return body.substr(0, base::utf8_floor(body, excerpt_bytes)) + "...";
}

// What an error response says about itself: error.message (or a string
// error) when the body is such JSON, else the start of the body.
std::string error_detail(const std::string& body) {
  const value doc = value::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("error")) {
    const value& error = doc["error"];
    if (error.is_object() && error.contains("message") && error["message"].is_string())
      return error["message"].get<std::string>();
    if (error.is_string())
      return error.get<std::string>();
  }
  return body.empty() ? std::string{"(empty body)"} : excerpt(body);
}

bool status_retryable(int status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

chat_error malformed(const std::string& what) {
  return {"malformed chat completion: " + what, false, 0};
}

// A token count: absent or null reads as 0; anything but a whole,
// non-negative number is malformed.
result<int64_t, chat_error> token_count(const value& usage, const char* name) {
  if (!usage.contains(name) || usage[name].is_null())
    return int64_t{0};
  const value& n = usage[name];
  if (n.is_number_unsigned() || (n.is_number_integer() && n.get<int64_t>() >= 0))
    return n.get<int64_t>();
  if (n.is_number_float()) {
    const double d = n.get<double>();
    if (d >= 0 && d < 9.0e15 && std::floor(d) == d)
      return static_cast<int64_t>(d);
  }
  return malformed(std::string{"usage."} + name + " is not a whole non-negative number");
}

result<std::string, chat_error> api_key(const std::string& env) {
  const char* key = std::getenv(env.c_str());
  if (key == nullptr)
    return chat_error{"API key variable " + env + " is not set", false, 0};
  if (key[0] == '\0')
    return chat_error{"API key variable " + env + " is empty", false, 0};
  return std::string{key};
}

} // namespace

value openai_chat_body(const chat_request& request) {
  value messages = value::array();
  if (!request.system.empty())
    messages.push_back({{"role", "system"}, {"content", request.system}});
  messages.push_back({{"role", "user"}, {"content", request.prompt}});
  value body = {{"model", request.model},
                {"messages", std::move(messages)},
                {"max_tokens", request.max_tokens},
                {"temperature", request.temperature}};
  if (!request.stop.empty())
    body["stop"] = request.stop;
  return body;
}

result<chat_reply, chat_error> openai_chat_parse(const std::string& body) {
  const value doc = value::parse(body, nullptr, false);
  if (doc.is_discarded())
    return malformed("response is not JSON: " + excerpt(body));
  if (!doc.is_object())
    return malformed("response is not a JSON object");
  const value::json_pointer content_ptr{"/choices/0/message/content"};
  if (!doc.contains(content_ptr) || !doc[content_ptr].is_string())
    return malformed("response has no choices[0].message.content string");
  chat_reply reply;
  reply.text = doc[content_ptr].get<std::string>();
  const value::json_pointer finish_ptr{"/choices/0/finish_reason"};
  if (doc.contains(finish_ptr) && !doc[finish_ptr].is_null()) {
    if (!doc[finish_ptr].is_string())
      return malformed("choices[0].finish_reason is neither a string nor null");
    reply.finish_reason = doc[finish_ptr].get<std::string>();
  }
  if (doc.contains("usage") && !doc["usage"].is_null()) {
    const value& usage = doc["usage"];
    if (!usage.is_object())
      return malformed("usage is not an object");
    auto prompt = token_count(usage, "prompt_tokens");
    if (!prompt)
      return prompt.error();
    auto completion = token_count(usage, "completion_tokens");
    if (!completion)
      return completion.error();
    reply.prompt_tokens = prompt.value();
    reply.completion_tokens = completion.value();
  }
  return reply;
}

result<chat_reply, chat_error> openai_chat(const openai_endpoint& endpoint,
                                           const chat_request& request) {
  http_headers headers;
  if (!endpoint.api_key_env.empty()) {
    auto key = api_key(endpoint.api_key_env);
    if (!key)
      return key.error();
    headers.emplace_back("Authorization", "Bearer " + key.value());
  }
  std::string url = endpoint.base_url;
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  url += "/chat/completions";
  auto response = http_post_json(url, openai_chat_body(request), headers,
                                 endpoint.max_bytes, endpoint.timeout_ms);
  if (!response)
    return chat_error{response.error().message, response.error().retryable, 0};
  const http_response& r = response.value();
  if (r.status < 200 || r.status > 299)
    return chat_error{"POST " + url + ": HTTP " + std::to_string(r.status) + ": "
                        + error_detail(r.body),
                      status_retryable(r.status), r.status};
  auto reply = openai_chat_parse(r.body);
  if (!reply)
    return chat_error{"POST " + url + ": " + reply.error().message, false, r.status};
  return reply;
}

} // namespace troupe::runtime
