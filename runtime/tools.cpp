#include "runtime/tools.hpp"

#include "dsl/tools.hpp"
#include "runtime/base/utf8.hpp"
#include "runtime/http_client.hpp"
#include "runtime/tools_builtin.hpp"

#include <cctype>
#include <cmath>
#include <exception>

// The dispatcher, the argument checks every tool shares, and the tools too
// small for a file of their own (template, json_parse, json_get, http_get).

namespace troupe::runtime {

namespace tools_builtin {

tool_error fail(const std::string& tool, std::string message, bool retryable) {
  return tool_error{tool, std::move(message), retryable};
}

const std::string& text_arg(const value& args, const char* name) {
  return args.at(name).get_ref<const std::string&>();
}

result<int64_t, tool_error> whole_arg(const value& args, const char* tool, const char* name,
                                      int64_t fallback) {
  if (!args.contains(name) || args[name].is_null())
    return fallback;
  const value& v = args[name];
  // Doubles are exact up to 2^53; beyond that "whole" means nothing.
  constexpr double limit = 9007199254740992.0;
  const double d = v.get<double>();
  if (!(std::fabs(d) <= limit) || std::floor(d) != d)
    return fail(tool, std::string{"argument '"} + name + "' must be a whole number, got "
                        + v.dump());
  return static_cast<int64_t>(d);
}

result<bool, tool_error> require_utf8(const std::string& tool, const std::string& what,
                                      const std::string& text) {
  const size_t bad = base::utf8_invalid_at(text);
  if (bad == std::string::npos)
    return true;
  return fail(tool, what + " is not valid UTF-8 text (bad byte at offset "
                      + std::to_string(bad) + ")");
}

} // namespace tools_builtin

namespace {

using namespace tools_builtin;

// Deeper documents are refused: later stages (the journal, comparisons)
// walk values recursively and must not run out of stack.
constexpr int max_json_depth = 1000;

bool kind_matches(const value& v, const dsl::type& t) {
  switch (t.kind()) {
  case dsl::type_kind::text:
    return v.is_string();
  case dsl::type_kind::number:
  case dsl::type_kind::duration:
    return v.is_number();
  case dsl::type_kind::boolean:
    return v.is_boolean();
  case dsl::type_kind::json:
    return true;
  case dsl::type_kind::null:
    return v.is_null();
  case dsl::type_kind::record:
    return v.is_object();
  case dsl::type_kind::list:
    if (!v.is_array())
      return false;
    for (const auto& element : v)
      if (!kind_matches(element, t.element()))
        return false;
    return true;
  case dsl::type_kind::error:
    return false;
  }
  return false;
}

// Checks `args` against the tool table, as the checker would have.
result<bool, tool_error> check_args(const dsl::tool_spec& spec, const value& args) {
  if (!args.is_object())
    return fail(spec.name, "arguments must be an object, got " + std::string{args.type_name()});
  for (const auto& [key, ignored] : args.items()) {
    bool known = false;
    for (const auto& p : spec.params)
      known = known || p.name == key;
    if (!known)
      return fail(spec.name, "unknown argument '" + key + "'");
  }
  for (const auto& p : spec.params) {
    const bool present = args.contains(p.name);
    if (!p.required && (!present || args[p.name].is_null()))
      continue;
    if (!present)
      return fail(spec.name, "missing argument '" + p.name + "'");
    if (!kind_matches(args[p.name], p.type_))
      return fail(spec.name, "argument '" + p.name + "' must be " + p.type_.to_string()
                               + ", got " + args[p.name].type_name());
  }
  return true;
}

// Nesting depth of a JSON text, counting brackets outside strings; stops
// counting once past `limit`.
bool json_too_deep(const std::string& text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

tool_result json_parse(const value& args) {
  const std::string& text = text_arg(args, "text");
  if (json_too_deep(text, max_json_depth))
    return fail("json_parse", "document nests deeper than " + std::to_string(max_json_depth)
                                + " levels");
  try {
    return value::parse(text);
  } catch (const value::parse_error& e) {
    return fail("json_parse", e.what());
  }
}

tool_result json_get(const value& args) {
  const std::string& pointer = text_arg(args, "pointer");
  value::json_pointer ptr;
  try {
    ptr = value::json_pointer{pointer};
  } catch (const value::exception& e) {
    return fail("json_get", "malformed JSON pointer '" + pointer + "': " + e.what());
  }
  const value& doc = args.at("doc");
  // contains() is false for absent keys, out-of-range or non-numeric
  // indices and paths that run into a scalar; it throws for an index too
  // large for size_t, which is just as absent.
  try {
    if (doc.contains(ptr))
      return doc.at(ptr);
  } catch (const value::exception&) {
  }
  return fail("json_get", "no value at pointer '" + pointer + "'");
}

bool http_url(const std::string& url) {
  std::string scheme = url.substr(0, url.find(':'));
  for (auto& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return url.find("://") == scheme.size() && (scheme == "http" || scheme == "https");
}

tool_result http_get_tool(const value& args, const tool_context& ctx) {
  const std::string& url = text_arg(args, "url");
  if (!http_url(url))
    return fail("http_get", "url '" + url + "' must start with http:// or https://");
  auto max_bytes = whole_arg(args, "http_get", "max_bytes",
                             static_cast<int64_t>(ctx.http_max_bytes));
  if (!max_bytes)
    return max_bytes.error();
  auto timeout = whole_arg(args, "http_get", "timeout", ctx.http_timeout_ms);
  if (!timeout)
    return timeout.error();
  if (max_bytes.value() <= 0 || timeout.value() <= 0)
    return fail("http_get", "max_bytes and timeout must be positive");
  auto response = http_get(url, static_cast<size_t>(max_bytes.value()), timeout.value());
  if (!response)
    return fail("http_get", response.error().message, response.error().retryable);
  const http_response& r = response.value();
  if (r.status < 200 || r.status > 299) {
    const bool retryable = r.status == 408 || r.status == 429 || r.status >= 500;
    return fail("http_get", "GET " + url + ": HTTP status " + std::to_string(r.status),
                retryable);
  }
  auto utf8 = require_utf8("http_get", "response body of " + url, r.body);
  if (!utf8)
    return utf8.error();
  return value(r.body);
}

// Messages quote arguments (paths, patterns, parser excerpts) that may hold
// invalid UTF-8; a message must still go into JSON (the journal) intact.
tool_error printable(tool_error e) {
  base::utf8_ascii_fallback(e.message);
  return e;
}

using tool_fn = tool_result (*)(const value& args, const tool_context& ctx);

struct tool_entry {
  const char* name;
  tool_fn run;
};

const tool_entry tool_table[] = {
  {"chunk_text", [](const value& a, const tool_context&) { return chunk_text(a); }},
  {"http_get", http_get_tool},
  {"json_get", [](const value& a, const tool_context&) { return json_get(a); }},
  {"json_parse", [](const value& a, const tool_context&) { return json_parse(a); }},
  {"read_file", read_file},
  {"regex_extract", [](const value& a, const tool_context&) { return regex_extract(a); }},
  {"shell", shell},
  {"template",
   [](const value& a, const tool_context&) { return tool_result{value(text_arg(a, "text"))}; }},
  {"write_file", write_file},
};

} // namespace

bool tool_is_pure(const std::string& name) {
  return tool_is_quick(name) || name == "regex_extract";
}

bool tool_is_quick(const std::string& name) {
  return name == "template" || name == "json_get" || name == "json_parse" || name == "chunk_text";
}

result<value, tool_error> run_tool(const std::string& name, const value& args,
                                   const tool_context& ctx) {
  const dsl::tool_spec* spec = dsl::find_tool(name);
  const tool_entry* entry = nullptr;
  for (const auto& e : tool_table)
    if (name == e.name)
      entry = &e;
  if (spec == nullptr || entry == nullptr)
    return fail(name, "unknown tool '" + name + "'");
  auto checked = check_args(*spec, args);
  if (!checked)
    return checked.error();
  // No exception crosses this boundary: a tool that throws (out of memory,
  // a file system error not mapped to a value) fails this call alone.
  try {
    auto r = entry->run(args, ctx);
    if (r.ok())
      return r;
    return printable(r.error());
  } catch (const std::exception& e) {
    return printable(fail(name, std::string{"internal error: "} + e.what()));
  }
}

} // namespace troupe::runtime
