#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "runtime/result.hpp"

namespace troupe::runtime {

/// What gguf_probe learned from a valid GGUF file.
/// Invariants: version is 2 or 3; alignment is a power of two;
/// data_offset % alignment == 0; data_offset + data_size <= file_size.
struct gguf_info {
  std::uint32_t version = 0;
  std::uint64_t tensor_count = 0;
  std::uint64_t metadata_count = 0;
  /// general.alignment, or GGUF's default of 32 when absent.
  std::uint32_t alignment = 32;
  /// Absolute byte offset where tensor data begins.
  std::uint64_t data_offset = 0;
  /// Bytes from data_offset to the end of the last tensor's data.
  std::uint64_t data_size = 0;
  std::uint64_t file_size = 0;
  /// general.architecture ("llama", ...), empty when the key is absent.
  std::string architecture;
};

/// Why a file is not a usable GGUF model, and where that was found.
struct gguf_error {
  std::string path;
  /// Absolute byte offset of the field (or tensor data) found to be wrong.
  std::uint64_t offset = 0;
  std::string message;

  /// "<path>: byte <offset>: <message>", for logs and diagnostics.
  std::string to_string() const;
};

/// Checks that `path` is a complete, well-formed GGUF v2/v3 file: the magic
/// "GGUF", the version, every metadata key/value and tensor descriptor lies
/// inside the file, general.alignment is a power of two, each tensor has a
/// known ggml type, at most 4 dimensions and an aligned offset, and its data
/// ends before the end of the file (so truncated copies are caught).
/// Reads the header and metadata (a few MB for large vocabularies), never
/// the tensor data. Returns gguf_error with the byte offset of the first
/// problem; never throws for any file content. Safe to call from any thread.
result<gguf_info, gguf_error> gguf_probe(const std::filesystem::path& path);

} // namespace troupe::runtime
