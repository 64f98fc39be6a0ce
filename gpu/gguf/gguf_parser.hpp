#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/gguf/gguf_file.hpp"

// Internal to gpu/gguf: gguf_file::open and from_bytes hand their bytes to
// this parser. Other code uses gguf_file.

namespace troupe::gpu::detail {

/// `s` with bytes outside printable ASCII (and ') escaped and cut to 80
/// bytes, for keys and names inside error messages and field names.
std::string gguf_printable(std::string_view s);

/// Capacity to reserve for `count` entries announced by the file: the
/// counts are only bounded by the file size, so a corrupt one must not make
/// the reader allocate more than the entries actually read.
inline size_t gguf_reserve_hint(uint64_t count) {
  return static_cast<size_t>(count < 65536 ? count : 65536);
}

/// "1 byte", "12 bytes".
std::string gguf_bytes_text(uint64_t n);

/// The little-endian T at `p` (any alignment).
template <class T>
T gguf_load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Validates the bytes of one GGUF file and builds the gguf_file that views
/// them. Single use: construct, call run() once.
/// Invariants: pos_ <= size_; once error_ is set every step fails fast and
/// run() returns it.
class gguf_parser {
public:
  /// `bytes` holds `size` readable bytes (may be null when size is 0); the
  /// gguf_file returned by run() shares ownership of them.
  gguf_parser(std::string path, std::shared_ptr<const unsigned char> bytes,
              uint64_t size);

  /// The validated file, or the first defect found. Never reads outside
  /// the bytes, never throws for any content (only std::bad_alloc).
  result<gguf_file, gguf_error> run();

private:
  bool header();
  bool metadata();
  bool kv(uint64_t i);
  bool alignment(const gguf_kv& kv, uint64_t type_at);
  bool value(gguf_value& v, gguf_value_type type, int depth);
  bool array(gguf_value& v, int depth);
  bool numbers(gguf_value& v);
  bool tensor_infos();
  bool tensor_info(uint64_t i);
  bool tensor_dims(gguf_tensor& t, uint64_t dims_at);
  bool tensor_type(gguf_tensor& t, uint64_t ne0_at);
  bool tensor_extents();
  bool tensor_overlaps();

  // Reads a little-endian u32/u64 or a GGUF string at pos_; on a short file
  // fails at pos_ naming field().
  template <class Field>
  bool read_u32(uint32_t& out, Field&& field);
  template <class Field>
  bool read_u64(uint64_t& out, Field&& field);
  template <class Field>
  bool read_string(std::string_view& out, Field&& field);
  // Fails unless `n` bytes remain after pos_.
  template <class Field>
  bool need(uint64_t n, Field&& field);

  // Records the first error; returns false so callers can `return fail(..)`.
  bool fail(uint64_t at, std::string field, std::string message);

  // The name of the current metadata value (or part of it): key_, then
  // "[i]" for each index in indices_, then `suffix`.
  std::string value_field(std::string_view suffix = {}) const;
  // The name of a part of tensor `t`: "<name>:<part>".
  static std::string tensor_field(const gguf_tensor& t, std::string_view part);
  // Where tensor `t`'s offset field lies in its descriptor.
  static uint64_t offset_field_at(const gguf_tensor& t);

  uint64_t remaining() const {
    return size_ - pos_;
  }

  std::string path_;
  std::shared_ptr<const unsigned char> bytes_;
  const unsigned char* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  std::string_view key_;       // key of the value being read
  std::vector<uint64_t> indices_; // array indices inside that value
  std::optional<gguf_error> error_;
  gguf_file file_;
};

template <class Field>
inline bool gguf_parser::need(uint64_t n, Field&& field) {
  if (n <= remaining())
    return true;
  return fail(pos_, field(),
              "needs " + gguf_bytes_text(n) + " from byte " + std::to_string(pos_)
                + " but the file ends at byte " + std::to_string(size_)
                + " (truncated?)");
}

template <class Field>
inline bool gguf_parser::read_u32(uint32_t& out, Field&& field) {
  if (!need(4, field))
    return false;
  out = gguf_load<uint32_t>(base_ + pos_);
  pos_ += 4;
  return true;
}

template <class Field>
inline bool gguf_parser::read_u64(uint64_t& out, Field&& field) {
  if (!need(8, field))
    return false;
  out = gguf_load<uint64_t>(base_ + pos_);
  pos_ += 8;
  return true;
}

template <class Field>
inline bool gguf_parser::read_string(std::string_view& out, Field&& field) {
  const uint64_t at = pos_;
  uint64_t len = 0;
  if (!read_u64(len, field))
    return false;
  if (len > remaining()) {
    pos_ = at;
    return fail(at, field(),
                "string of " + gguf_bytes_text(len) + " from byte "
                  + std::to_string(at + 8) + " runs past the end of the file"
                  + " at byte " + std::to_string(size_) + " (truncated?)");
  }
  out = std::string_view(reinterpret_cast<const char*>(base_ + pos_),
                         static_cast<size_t>(len));
  pos_ += len;
  return true;
}

} // namespace troupe::gpu::detail
