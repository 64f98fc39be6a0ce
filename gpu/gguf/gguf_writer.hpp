#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gpu/ggml_type.hpp"
#include "gpu/gguf/gguf_error.hpp"
#include "gpu/gguf/gguf_value.hpp"
#include "gpu/status.hpp"
#include "runtime/base/result.hpp"

namespace troupe::gpu {

using base::result;

/// An owning metadata value for gguf_writer: any of the 13 GGUF types,
/// arrays of arrays included.
/// Invariants: a scalar's or numeric array's bytes_ hold its elements
/// little-endian (count_ * gguf_value_type_size(element_type_) bytes for an
/// array); a string's text is texts_[0]; a string array's elements are
/// texts_; an array of arrays' elements are items_.
class gguf_meta {
public:
  static gguf_meta u8(uint8_t x) { return scalar(x); }
  static gguf_meta i8(int8_t x) { return scalar(x); }
  static gguf_meta u16(uint16_t x) { return scalar(x); }
  static gguf_meta i16(int16_t x) { return scalar(x); }
  static gguf_meta u32(uint32_t x) { return scalar(x); }
  static gguf_meta i32(int32_t x) { return scalar(x); }
  static gguf_meta f32(float x) { return scalar(x); }
  static gguf_meta boolean(bool x) { return scalar(x); }
  static gguf_meta u64(uint64_t x) { return scalar(x); }
  static gguf_meta i64(int64_t x) { return scalar(x); }
  static gguf_meta f64(double x) { return scalar(x); }
  static gguf_meta string(std::string text);

  /// An array of numbers or bools (T as in gguf_type_of).
  template <class T>
  static gguf_meta array(const std::vector<T>& xs) {
    gguf_meta m;
    m.type_ = gguf_value_type::array;
    m.element_type_ = gguf_type_of<T>();
    m.count_ = xs.size();
    for (const T& x : xs)
      m.append(x);
    return m;
  }

  /// An array of strings.
  static gguf_meta strings(std::vector<std::string> texts);

  /// An array of arrays; gguf_writer::add refuses it unless every item is
  /// an array. The element type of an empty one is array.
  static gguf_meta arrays(std::vector<gguf_meta> items);

  /// An owning copy of a value read from a file (to rewrite a file).
  static gguf_meta copy_of(const gguf_value& v);

  gguf_value_type type() const noexcept {
    return type_;
  }

private:
  friend class gguf_writer;

  template <class T>
  static gguf_meta scalar(T x) {
    gguf_meta m;
    m.type_ = gguf_type_of<T>();
    m.append(x);
    return m;
  }

  template <class T>
  void append(T x) {
    unsigned char b[sizeof(T)];
    if constexpr (std::is_same_v<T, bool>)
      b[0] = x ? 1 : 0;
    else
      std::memcpy(b, &x, sizeof(T));
    bytes_.insert(bytes_.end(), b, b + sizeof(T));
  }

  gguf_value_type type_ = gguf_value_type::u8;
  gguf_value_type element_type_ = gguf_value_type::u8;
  uint64_t count_ = 0;
  std::vector<unsigned char> bytes_;
  std::vector<std::string> texts_;
  std::vector<gguf_meta> items_;
};

/// Builds a GGUF v3 file: metadata in the order added, then tensor
/// descriptors, then each tensor's data at the next multiple of the
/// alignment (general.alignment when added, else 32), padded with zeros to
/// the alignment at the end, as llama.cpp's writer lays it out.
/// Invariants: keys and tensor names are unique; every value and tensor
/// added passed the checks gguf_file applies on reading, so what write()
/// produces always reads back.
/// Not thread-safe; one writer per file.
class gguf_writer {
public:
  /// Adds a key/value pair. Fails with invalid_argument, adding nothing, for
  /// an empty key or one over 65535 bytes, a key already added, arrays
  /// nested deeper than gguf_max_array_depth or an array of arrays holding
  /// a non-array, and a general.alignment that is not a u32 power of two
  /// or comes after a tensor. A valid general.alignment also sets the
  /// tensor data alignment.
  status add(std::string key, gguf_meta value);

  /// Adds a tensor of `type` and shape `ne` ([ne0, ne1, ...], 1 to 4
  /// dimensions, each >= 1, ne0 a multiple of the block size) whose `size`
  /// bytes at `data` are in ggml's layout. Fails with invalid_argument for
  /// an empty or duplicate name, a name over 63 bytes, a bad shape or a
  /// `size` that is not the tensor's byte size. Does not copy the data:
  /// `data` must stay valid until the last write() or to_bytes().
  status add_tensor(std::string name, ggml_type type,
                    const std::vector<int64_t>& ne, const void* data,
                    size_t size);

  /// The whole file in memory (for tests, fuzz seeds and small files).
  std::vector<unsigned char> to_bytes() const;

  /// Writes the file to `path` atomically: into a temporary file beside it,
  /// flushed to disk, then renamed over `path`, so readers see either the
  /// old file or the whole new one. Returns the bytes written, or a
  /// gguf_error (empty field) naming what failed; the temporary file is
  /// removed on failure.
  result<uint64_t, gguf_error> write(const std::string& path) const;

private:
  struct tensor_entry {
    std::string name;
    ggml_type type;
    std::vector<int64_t> ne;
    const unsigned char* data;
    uint64_t size;
    uint64_t offset; // relative to the data section
  };

  // Header, metadata, tensor descriptors and the padding up to the data.
  std::vector<unsigned char> head() const;
  // Appends value `m` (without its type) as GGUF lays it out.
  static void put_meta(std::vector<unsigned char>& out, const gguf_meta& m);
  // True unless `m` (at `depth`, 1 for a value) is an array of arrays
  // holding a non-array or nesting deeper than gguf_max_array_depth, which
  // the reader refuses even when empty.
  static bool nesting_ok(const gguf_meta& m, int depth);

  uint32_t alignment_ = 32;
  uint64_t data_size_ = 0; // data section so far, padded
  std::vector<std::pair<std::string, gguf_meta>> kvs_;
  std::unordered_set<std::string> keys_;
  std::vector<tensor_entry> tensors_;
  std::unordered_set<std::string> names_;
};

} // namespace troupe::gpu
