#pragma once

#include "runtime/base/error.hpp"

#include <cstdint>
#include <string>

namespace troupe::gpu {

/// Why a GGUF file could not be read (or written), and where.
///
/// `field` names the part of the file that is wrong, so a user can find it
/// with a hex dump or a GGUF tool:
///   header:   "magic", "version", "tensor_count", "metadata_kv_count"
///   metadata: "metadata[3]:key" (the key string of the 4th pair),
///             "<key>:type", "<key>" (the value), "<key>:element_type",
///             "<key>:count", "<key>[17]" (an array element; nested
///             arrays add further "[j]")
///   tensors:  "tensors[5]:name", then by name "<name>:n_dims",
///             "<name>:ne[1]", "<name>:type", "<name>:offset", and
///             "<name>:data" (the tensor's bytes in the data section)
///   lookups:  the key asked for, offset 0 when the key is absent
///   I/O:      empty
/// Invariants: message is not empty; offset is the absolute byte offset of
/// the start of `field` (or of the read that failed) and is at most the file
/// size.
struct gguf_error {
  std::string path;
  std::uint64_t offset = 0;
  std::string field;
  std::string message;

  /// The error in the libraries' one shape: the path, the offset, and the
  /// field folded into the message ("field 'X': message").
  base::error as_error() const {
    return {field.empty() ? message : "field '" + field + "': " + message, path, 0, 0, offset};
  }

  /// "PATH: byte N: field 'X': message", without the field part when field
  /// is empty.
  std::string to_string() const {
    return as_error().to_string();
  }
};

} // namespace troupe::gpu
