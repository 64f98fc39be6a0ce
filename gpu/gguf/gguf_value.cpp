#include "gpu/gguf/gguf_value.hpp"

#include "runtime/base/utf8.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace troupe::gpu {

namespace {

template <class T>
T load(const unsigned char* p) {
  T out;
  std::memcpy(&out, p, sizeof(T));
  return out;
}

bool is_signed_integer(gguf_value_type t) {
  return t == gguf_value_type::i8 || t == gguf_value_type::i16
         || t == gguf_value_type::i32 || t == gguf_value_type::i64;
}

bool is_unsigned_integer(gguf_value_type t) {
  return t == gguf_value_type::u8 || t == gguf_value_type::u16
         || t == gguf_value_type::u32 || t == gguf_value_type::u64;
}

// The integer scalar of type `t` at `p`, sign-extended.
int64_t load_signed(gguf_value_type t, const unsigned char* p) {
  switch (t) {
    case gguf_value_type::i8: return load<int8_t>(p);
    case gguf_value_type::i16: return load<int16_t>(p);
    case gguf_value_type::i32: return load<int32_t>(p);
    default: return load<int64_t>(p);
  }
}

uint64_t load_unsigned(gguf_value_type t, const unsigned char* p) {
  switch (t) {
    case gguf_value_type::u8: return load<uint8_t>(p);
    case gguf_value_type::u16: return load<uint16_t>(p);
    case gguf_value_type::u32: return load<uint32_t>(p);
    default: return load<uint64_t>(p);
  }
}

// `s` in double quotes, cut to `max_chars` bytes; control bytes and
// invalid UTF-8 are escaped, so a token list prints on one line.
std::string quoted(std::string_view s, size_t max_chars) {
  std::string out = "\"";
  size_t i = 0;
  for (; i < s.size() && i < max_chars;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (size_t n = c >= 0x80 ? base::utf8_valid_length(s, i) : 0; n != 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
    ++i;
  }
  out += '"';
  if (i < s.size())
    out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string float_text(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

// A scalar value as text.
std::string scalar_text(const gguf_value& v) {
  if (auto b = v.as_bool())
    return *b ? "true" : "false";
  if (auto d = v.as_f64())
    return float_text(*d);
  if (is_signed_integer(v.type()))
    return std::to_string(*v.as_i64());
  return std::to_string(v.as_u64().value_or(0));
}

template <class T>
std::string number_text(const gguf_value& v, size_t i) {
  const T x = (*v.numbers<T>())[i];
  if constexpr (std::is_same_v<T, bool>)
    return x ? "true" : "false";
  else if constexpr (std::is_floating_point_v<T>)
    return float_text(x);
  else
    return std::to_string(x);
}

// Element `i` of a numeric array as text. Precondition: i < v.count().
std::string element_text(const gguf_value& v, size_t i) {
  switch (v.element_type()) {
    case gguf_value_type::u8: return number_text<uint8_t>(v, i);
    case gguf_value_type::i8: return number_text<int8_t>(v, i);
    case gguf_value_type::u16: return number_text<uint16_t>(v, i);
    case gguf_value_type::i16: return number_text<int16_t>(v, i);
    case gguf_value_type::u32: return number_text<uint32_t>(v, i);
    case gguf_value_type::i32: return number_text<int32_t>(v, i);
    case gguf_value_type::f32: return number_text<float>(v, i);
    case gguf_value_type::boolean: return number_text<bool>(v, i);
    case gguf_value_type::u64: return number_text<uint64_t>(v, i);
    case gguf_value_type::i64: return number_text<int64_t>(v, i);
    case gguf_value_type::f64: return number_text<double>(v, i);
    default: return "?";
  }
}

// The first `max_items` elements of array `v`, comma separated.
std::string array_items(const gguf_value& v, size_t max_items,
                        size_t max_chars) {
  std::string out;
  const size_t shown = static_cast<size_t>(
    std::min<uint64_t>(v.count(), max_items));
  const auto et = v.element_type();
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0)
      out += ", ";
    if (et == gguf_value_type::string) {
      out += quoted(v.strings()[i], max_chars);
    } else if (et == gguf_value_type::array) {
      const auto& e = v.elements()[i];
      out += "[" + std::string(gguf_value_type_name(e.element_type())) + "; "
             + std::to_string(e.count()) + "] {"
             + array_items(e, max_items, max_chars) + "}";
    } else {
      out += element_text(v, i);
    }
  }
  if (v.count() > shown)
    out += shown > 0 ? ", ..." : "...";
  return out;
}

} // namespace

std::string_view gguf_value_type_name(gguf_value_type t) {
  static constexpr std::string_view names[gguf_value_type_count] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32",
    "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < gguf_value_type_count ? names[i] : "?";
}

size_t gguf_value_type_size(gguf_value_type t) {
  switch (t) {
    case gguf_value_type::u8: case gguf_value_type::i8:
    case gguf_value_type::boolean:
      return 1;
    case gguf_value_type::u16: case gguf_value_type::i16:
      return 2;
    case gguf_value_type::u32: case gguf_value_type::i32:
    case gguf_value_type::f32:
      return 4;
    case gguf_value_type::u64: case gguf_value_type::i64:
    case gguf_value_type::f64:
      return 8;
    default:
      return 0;
  }
}

gguf_string_list::gguf_string_list() {
  static const std::vector<std::string_view> none;
  items_ = &none;
}

std::optional<uint64_t> gguf_value::as_u64() const {
  if (is_unsigned_integer(type_))
    return load_unsigned(type_, data_);
  if (is_signed_integer(type_)) {
    const int64_t v = load_signed(type_, data_);
    if (v >= 0)
      return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

std::optional<int64_t> gguf_value::as_i64() const {
  if (is_signed_integer(type_))
    return load_signed(type_, data_);
  if (is_unsigned_integer(type_)) {
    const uint64_t v = load_unsigned(type_, data_);
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

std::optional<double> gguf_value::as_f64() const {
  if (type_ == gguf_value_type::f32)
    return load<float>(data_);
  if (type_ == gguf_value_type::f64)
    return load<double>(data_);
  return std::nullopt;
}

std::optional<bool> gguf_value::as_bool() const {
  if (type_ != gguf_value_type::boolean)
    return std::nullopt;
  return data_[0] != 0;
}

std::optional<std::string_view> gguf_value::as_string() const {
  if (type_ != gguf_value_type::string)
    return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(data_), size_);
}

gguf_string_list gguf_value::strings() const {
  if (!is_array() || element_type_ != gguf_value_type::string)
    return {};
  return gguf_string_list(strings_);
}

std::string gguf_value_summary(const gguf_value& v, size_t max_items,
                               size_t max_chars) {
  const std::string type(gguf_value_type_name(v.type()));
  if (v.is_array())
    return "[" + std::string(gguf_value_type_name(v.element_type())) + "; "
           + std::to_string(v.count()) + "] "
           + array_items(v, max_items, max_chars);
  if (auto s = v.as_string())
    return type + " " + quoted(*s, max_chars);
  return type + " " + scalar_text(v);
}

} // namespace troupe::gpu
