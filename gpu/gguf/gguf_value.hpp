#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "gpu/gguf/gguf_views.hpp"

namespace troupe::gpu {

namespace detail {
class gguf_parser;
} // namespace detail

/// GGUF metadata value types, numbered as in the format (gguf_type).
enum class gguf_value_type : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};

/// Number of value types; ids at or above it are invalid in a file.
constexpr uint32_t gguf_value_type_count = 13;

/// "u8", "i32", "f32", "bool", "string", "array", ...; "?" for an id out of
/// range.
std::string_view gguf_value_type_name(gguf_value_type t);

/// Bytes of one scalar of type `t`; 0 for string, array and invalid ids.
size_t gguf_value_type_size(gguf_value_type t);

/// The value type whose scalars are C++ type T (uint8_t -> u8, float -> f32,
/// bool -> boolean, ...).
template <class T>
constexpr gguf_value_type gguf_type_of() {
  if constexpr (std::is_same_v<T, uint8_t>) return gguf_value_type::u8;
  else if constexpr (std::is_same_v<T, int8_t>) return gguf_value_type::i8;
  else if constexpr (std::is_same_v<T, uint16_t>) return gguf_value_type::u16;
  else if constexpr (std::is_same_v<T, int16_t>) return gguf_value_type::i16;
  else if constexpr (std::is_same_v<T, uint32_t>) return gguf_value_type::u32;
  else if constexpr (std::is_same_v<T, int32_t>) return gguf_value_type::i32;
  else if constexpr (std::is_same_v<T, float>) return gguf_value_type::f32;
  else if constexpr (std::is_same_v<T, bool>) return gguf_value_type::boolean;
  else if constexpr (std::is_same_v<T, uint64_t>) return gguf_value_type::u64;
  else if constexpr (std::is_same_v<T, int64_t>) return gguf_value_type::i64;
  else {
    static_assert(std::is_same_v<T, double>, "not a GGUF scalar type");
    return gguf_value_type::f64;
  }
}

/// One metadata value of a parsed GGUF file: a view into the file's bytes,
/// made only by the reader, owned by its gguf_file and valid while that
/// lives (moving the gguf_file keeps it valid).
/// Invariants: the reader validated every byte this value refers to: a
/// string's bytes, an array's elements (all of element_type(), a bool byte
/// is 0 or 1), nested arrays at most gguf_max_array_depth deep.
class gguf_value {
public:
  gguf_value_type type() const noexcept {
    return type_;
  }

  /// Absolute file offset of the value's first byte (after its type field;
  /// for an array, its element type field).
  uint64_t offset() const noexcept {
    return offset_;
  }

  bool is_array() const noexcept {
    return type_ == gguf_value_type::array;
  }

  /// An integer scalar of any width as uint64; nullopt for other types or a
  /// negative value.
  std::optional<uint64_t> as_u64() const;

  /// An integer scalar of any width as int64; nullopt for other types or a
  /// u64 above INT64_MAX.
  std::optional<int64_t> as_i64() const;

  /// An f32 or f64 scalar as double; nullopt for other types.
  std::optional<double> as_f64() const;

  /// A bool scalar; nullopt for other types.
  std::optional<bool> as_bool() const;

  /// A string scalar, pointing into the file; nullopt for other types.
  std::optional<std::string_view> as_string() const;

  /// The type of an array's elements; for a scalar, its own type.
  gguf_value_type element_type() const noexcept {
    return is_array() ? element_type_ : type_;
  }

  /// Elements of an array; 0 for a scalar.
  uint64_t count() const noexcept {
    return is_array() ? count_ : 0;
  }

  /// The elements of a string array; an empty list for anything else.
  gguf_string_list strings() const;

  /// The elements of an array of T (element type exactly gguf_type_of<T>),
  /// without copying; nullopt for anything else.
  template <class T>
  std::optional<gguf_numbers<T>> numbers() const {
    if (!is_array() || element_type_ != gguf_type_of<T>())
      return std::nullopt;
    return gguf_numbers<T>(data_, static_cast<size_t>(count_));
  }

  /// The elements of an array of arrays; empty for anything else.
  const std::vector<gguf_value>& elements() const noexcept {
    return elements_;
  }

private:
  friend class detail::gguf_parser;

  gguf_value_type type_ = gguf_value_type::u8;
  gguf_value_type element_type_ = gguf_value_type::u8;
  uint64_t offset_ = 0;
  uint64_t count_ = 0;               // array elements
  const unsigned char* data_ = nullptr; // scalar bytes or numeric elements
  size_t size_ = 0;                  // bytes of a string scalar
  std::vector<std::string_view> strings_; // string array elements
  std::vector<gguf_value> elements_;      // array of arrays
};

/// Arrays nest at most this deep (an array of arrays is depth 2).
constexpr int gguf_max_array_depth = 4;

/// One line for people: "u32 2048", "string \"llama\"", "f32 1e-05",
/// "[string; 512] \"<unk>\", \"<s>\", \"</s>\", ...". Shows at most
/// `max_items` array elements and `max_chars` bytes of a string, escaping
/// control and non-ASCII bytes.
std::string gguf_value_summary(const gguf_value& v, size_t max_items = 6,
                               size_t max_chars = 60);

} // namespace troupe::gpu
