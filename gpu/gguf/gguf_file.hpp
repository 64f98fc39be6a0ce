#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gpu/ggml_type.hpp"
#include "gpu/gguf/gguf_error.hpp"
#include "gpu/gguf/gguf_value.hpp"
#include "runtime/base/result.hpp"

namespace troupe::gpu {

using base::result;

/// One metadata key/value pair, in file order.
/// Invariants: key is not empty and unique within its file; offset is where
/// the key's length prefix starts.
struct gguf_kv {
  std::string_view key;
  gguf_value value;
  uint64_t offset = 0;
};

/// One tensor descriptor and where its data lies.
/// Invariants: 1 <= n_dims <= 4; ne[d] >= 1, and ne[d] == 1 for d >= n_dims;
/// n_elements = ne0*ne1*ne2*ne3 fits in int64; ne[0] is a multiple of the
/// type's block size; size_bytes = ggml_row_size(type, ne[0]) * ne1*ne2*ne3;
/// file_offset = data_offset + offset is a multiple of the alignment; the
/// bytes [file_offset, file_offset + size_bytes) lie inside the file and
/// overlap no other tensor's.
struct gguf_tensor {
  std::string_view name;
  ggml_type type = ggml_type::f32;
  uint32_t n_dims = 0;
  std::array<int64_t, 4> ne{1, 1, 1, 1}; // [ne0 (fastest), ne1, ne2, ne3]
  int64_t n_elements = 0;
  uint64_t size_bytes = 0;
  uint64_t offset = 0;      ///< As stored: relative to the data section.
  uint64_t file_offset = 0; ///< Absolute position of the data in the file.
  uint64_t info_offset = 0; ///< Where the descriptor (its name) starts.
  /// The data in memory, file_offset bytes past the start of the file.
  /// Aligned to min(alignment, 4096).
  const void* data = nullptr;
};

/// A validated GGUF v2/v3 file (little-endian), memory-mapped read-only.
///
/// Loading checks everything the format promises (see gguf_error for the
/// names of the fields it reports), so users of the file index tensor data
/// and read metadata without further bounds checks.
///
/// Ownership and lifetime: the object owns the mapping; every string_view,
/// gguf_value, gguf_numbers, gguf_string_list and tensor data pointer it
/// hands out points into it and stays valid until the object (or the one
/// it was moved into) is destroyed. Move-only. The file must not be
/// truncated by another process while mapped (that raises SIGBUS, which no
/// reader of a mapping can prevent).
/// Thread safety: all const members may be called concurrently.
class gguf_file {
public:
  gguf_file(gguf_file&&) = default;
  gguf_file& operator=(gguf_file&&) = default;
  gguf_file(const gguf_file&) = delete;
  gguf_file& operator=(const gguf_file&) = delete;
  ~gguf_file() = default;

  /// Maps and validates the file at `path`. Returns gguf_error with the
  /// path, byte offset and field of the first defect, or with an empty field
  /// when the file cannot be opened or mapped. Never throws for any file
  /// content and never reads outside the file.
  static result<gguf_file, gguf_error> open(const std::string& path);

  /// Validates a copy of `size` bytes at `data` as if they were the file
  /// `name` (for fuzzing and for files built in memory). Same checks and
  /// errors as open().
  static result<gguf_file, gguf_error>
  from_bytes(std::string name, const void* data, size_t size);

  /// The path given to open(), or the name given to from_bytes().
  const std::string& path() const noexcept {
    return path_;
  }

  /// 2 or 3 (the two share one layout for little-endian files).
  uint32_t version() const noexcept {
    return version_;
  }

  uint64_t file_size() const noexcept {
    return size_;
  }

  /// general.alignment, or GGUF's default of 32; a power of two.
  uint32_t alignment() const noexcept {
    return alignment_;
  }

  /// Where the data section starts: the end of the tensor descriptors
  /// rounded up to the alignment. May exceed file_size() in a file with no
  /// tensors.
  uint64_t data_offset() const noexcept {
    return data_offset_;
  }

  /// general.architecture ("llama", ...) or empty when absent or not a
  /// string.
  std::string_view architecture() const;

  /// Every key/value pair in file order.
  const std::vector<gguf_kv>& metadata() const noexcept {
    return kvs_;
  }

  /// The value of `key`, or nullptr when the file has no such key.
  const gguf_value* find(std::string_view key) const;

  // Typed lookups. Each fails with a gguf_error naming the key: at offset 0
  // when the key is absent, at the value when its type does not fit.

  /// A string value.
  result<std::string_view, gguf_error> get_string(std::string_view key) const;
  /// An integer of any width whose value fits in the result type.
  result<uint32_t, gguf_error> get_u32(std::string_view key) const;
  result<uint64_t, gguf_error> get_u64(std::string_view key) const;
  result<int32_t, gguf_error> get_i32(std::string_view key) const;
  result<int64_t, gguf_error> get_i64(std::string_view key) const;
  /// An f32 or f64 (narrowed to float).
  result<float, gguf_error> get_f32(std::string_view key) const;
  result<bool, gguf_error> get_bool(std::string_view key) const;
  /// A string array, without copying (a 50k-token vocabulary is cheap).
  result<gguf_string_list, gguf_error> get_strings(std::string_view key) const;

  /// A numeric array whose element type is exactly gguf_type_of<T>() (f32
  /// scores, i32 token types), without copying.
  template <class T>
  result<gguf_numbers<T>, gguf_error> get_array(std::string_view key) const {
    auto v = find_array(key, gguf_type_of<T>());
    if (!v)
      return std::move(v).error();
    return *v.value()->template numbers<T>();
  }

  /// Every tensor in descriptor order.
  const std::vector<gguf_tensor>& tensors() const noexcept {
    return tensors_;
  }

  /// The tensor named `name`, or nullptr.
  const gguf_tensor* tensor(std::string_view name) const;

private:
  friend class detail::gguf_parser;

  gguf_file() = default;

  // An array of `element` at `key`, or the error a get_* reports.
  result<const gguf_value*, gguf_error>
  find_array(std::string_view key, gguf_value_type element) const;
  // `key`'s value, or the error for a missing key.
  result<const gguf_value*, gguf_error> find_or_error(std::string_view key) const;
  // The error for `key`'s value `v` not being `wanted`.
  gguf_error type_error(std::string_view key, const gguf_value& v,
                        std::string_view wanted) const;

  std::string path_;
  std::shared_ptr<const unsigned char> bytes_; // the mapping or a copy
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<gguf_kv> kvs_;
  std::vector<gguf_tensor> tensors_;
  std::unordered_map<std::string_view, size_t> kv_index_;     // into kvs_
  std::unordered_map<std::string_view, size_t> tensor_index_; // into tensors_
};

} // namespace troupe::gpu
