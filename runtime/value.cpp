#include "runtime/value.hpp"

#include "runtime/base/utf8.hpp"

#include <cmath>
#include <vector>

namespace troupe::runtime {

namespace {

std::string number_text(double x) {
  if (std::isnan(x))
    return "nan";
  if (std::isinf(x))
    return x < 0 ? "-inf" : "inf";
  // Whole numbers below 2^63 print as integers; past that a double is
  // integral anyway and the exponent form is the readable one.
  if (std::trunc(x) == x && std::fabs(x) < 9.2e18)
    return std::to_string(static_cast<long long>(x));
  return value_to_json(value(x));
}

// The same text dump() gives, with an explicit stack instead of recursion.
void write_iterative(const value& root, std::string& out) {
  struct frame {
    const value* node;
    value::const_iterator next;
    bool first;
  };
  std::vector<frame> stack;
  auto open = [&](const value& v) {
    if (!v.is_structured() || v.empty()) {
      out += value_to_json(v);
      return;
    }
    out += v.is_array() ? '[' : '{';
    stack.push_back({&v, v.cbegin(), true});
  };
  open(root);
  while (!stack.empty()) {
    frame& f = stack.back();
    if (f.next == f.node->cend()) {
      out += f.node->is_array() ? ']' : '}';
      stack.pop_back();
      continue;
    }
    if (!f.first)
      out += ',';
    f.first = false;
    if (f.node->is_object()) {
      out += value_to_json(value(f.next.key()));
      out += ':';
    }
    const value& child = *f.next;
    ++f.next;
    open(child); // May grow the stack: `f` is not used after this.
  }
}

// Depth of the brackets in JSON text, ignoring those inside strings; stops
// counting once past `limit`.
size_t text_depth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit)
        return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

} // namespace

std::string value_to_json(const value& v) {
  // `replace` instead of the default `strict`: model output is not always
  // valid UTF-8, and writing a value must not throw.
  return v.dump(-1, ' ', false, value::error_handler_t::replace);
}

std::string value_to_text(const value& v) {
  switch (v.type()) {
    case value::value_t::string: return v.get_ref<const std::string&>();
    case value::value_t::null: return "";
    case value::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case value::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case value::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case value::value_t::number_float: return number_text(v.get<double>());
    case value::value_t::array:
    case value::value_t::object: {
      if (value_depth(v) <= value_max_depth)
        return value_to_json(v);
      std::string out;
      write_iterative(v, out);
      return out;
    }
    default: return value_to_json(v); // binary, discarded: not produced by the runtime
  }
}

std::string quote_excerpt(std::string_view text, size_t max_code_points) {
  const size_t cut = base::utf8_prefix_bytes(text, max_code_points);
  std::string excerpt(text.substr(0, cut));
  if (cut < text.size())
    excerpt += "...";
  return value_to_json(value(std::move(excerpt)));
}

size_t value_depth(const value& v) {
  size_t deepest = 0;
  std::vector<std::pair<const value*, size_t>> todo{{&v, 0}};
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (!node->is_structured())
      continue;
    deepest = std::max(deepest, depth + 1);
    for (const auto& child : *node)
      if (child.is_structured())
        todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

result<value, std::string> parse_json_bounded(std::string_view text) {
  // nlohmann's parser is iterative, but dump, == and < recurse, so a deep
  // document is refused here, before anything recurses over it.
  if (text_depth(text, value_max_depth) > value_max_depth)
    return "JSON nests deeper than " + std::to_string(value_max_depth) + " levels";
  try {
    return value::parse(text.begin(), text.end());
  } catch (const value::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 4: ..."
    std::string message = e.what();
    auto close = message.find("] ");
    if (message.rfind("[json.exception.", 0) == 0 && close != std::string::npos)
      message.erase(0, close + 2);
    return message;
  }
}

value number_value(double x) {
  constexpr double exact = 9007199254740992.0; // 2^53
  if (x == x && x >= -exact && x <= exact && x == static_cast<double>(static_cast<int64_t>(x)))
    return value(static_cast<int64_t>(x));
  return value(x);
}

} // namespace troupe::runtime
