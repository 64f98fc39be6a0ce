#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Builds small GGUF files byte by byte, so tests can place a defect at a
// known offset. Little-endian, as GGUF is.

namespace troupe::test {

class gguf_builder {
public:
  /// Offset the next appended byte will have.
  std::uint64_t offset() const {
    return bytes_.size();
  }

  gguf_builder& raw(const std::string& s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }

  gguf_builder& u32(std::uint32_t v) {
    return le(v, 4);
  }

  gguf_builder& u64(std::uint64_t v) {
    return le(v, 8);
  }

  gguf_builder& str(const std::string& s) {
    u64(s.size());
    return raw(s);
  }

  /// "GGUF", version, tensor count, metadata count.
  gguf_builder& header(std::uint32_t version, std::uint64_t tensors,
                       std::uint64_t kvs) {
    return raw("GGUF").u32(version).u64(tensors).u64(kvs);
  }

  gguf_builder& kv_u32(const std::string& key, std::uint32_t v) {
    return str(key).u32(4).u32(v);
  }

  gguf_builder& kv_str(const std::string& key, const std::string& v) {
    return str(key).u32(8).str(v);
  }

  /// A tensor descriptor with `dims`, ggml type id and data offset.
  gguf_builder& tensor(const std::string& name,
                       const std::vector<std::uint64_t>& dims,
                       std::uint32_t type, std::uint64_t data_offset) {
    str(name).u32(static_cast<std::uint32_t>(dims.size()));
    for (auto d : dims)
      u64(d);
    return u32(type).u64(data_offset);
  }

  /// Zero bytes up to the next multiple of `alignment`.
  gguf_builder& pad(std::uint64_t alignment) {
    while (bytes_.size() % alignment != 0)
      bytes_.push_back(0);
    return *this;
  }

  gguf_builder& zeros(std::uint64_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }

  const std::vector<char>& bytes() const {
    return bytes_;
  }

private:
  gguf_builder& le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }

  std::vector<char> bytes_;
};

} // namespace troupe::test
