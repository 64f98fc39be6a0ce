#include "runtime/gguf_probe.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <system_error>
#include <vector>

namespace troupe::runtime {

namespace {

constexpr std::uint64_t header_size = 24; // magic, version, two counts
constexpr std::uint32_t max_dims = 4;     // GGML_MAX_DIMS
constexpr int max_array_depth = 4;

// GGUF metadata value types (gguf.h, gguf_type).
enum class value_type : std::uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};

// Fixed size in bytes of a scalar metadata type; 0 for string and array.
std::uint64_t scalar_size(std::uint32_t type) {
  switch (static_cast<value_type>(type)) {
    case value_type::u8: case value_type::i8: case value_type::boolean:
      return 1;
    case value_type::u16: case value_type::i16:
      return 2;
    case value_type::u32: case value_type::i32: case value_type::f32:
      return 4;
    case value_type::u64: case value_type::i64: case value_type::f64:
      return 8;
    default:
      return 0;
  }
}

struct ggml_type_traits {
  const char* name;
  std::uint64_t block_elems; // elements per block
  std::uint64_t block_bytes; // bytes per block
};

// ggml tensor types by id (ggml.h, ggml_type); ids 4, 5 and 31-33 are retired.
std::optional<ggml_type_traits> ggml_type_lookup(std::uint32_t id) {
  static const std::array<ggml_type_traits, 40> table{{
    {"F32", 1, 4},        {"F16", 1, 2},       {"Q4_0", 32, 18},
    {"Q4_1", 32, 20},     {nullptr, 0, 0},     {nullptr, 0, 0},
    {"Q5_0", 32, 22},     {"Q5_1", 32, 24},    {"Q8_0", 32, 34},
    {"Q8_1", 32, 36},     {"Q2_K", 256, 84},   {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},   {"Q5_K", 256, 176},  {"Q6_K", 256, 210},
    {"Q8_K", 256, 292},   {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74},
    {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},  {"IQ4_NL", 32, 18},
    {"IQ3_S", 256, 110},  {"IQ2_S", 256, 82},  {"IQ4_XS", 256, 136},
    {"I8", 1, 1},         {"I16", 1, 2},       {"I32", 1, 4},
    {"I64", 1, 8},        {"F64", 1, 8},       {"IQ1_M", 256, 56},
    {"BF16", 1, 2},       {nullptr, 0, 0},     {nullptr, 0, 0},
    {nullptr, 0, 0},      {"TQ1_0", 256, 54},  {"TQ2_0", 256, 66},
    {nullptr, 0, 0},      {nullptr, 0, 0},     {nullptr, 0, 0},
    {"MXFP4", 32, 17},
  }};
  if (id >= table.size() || table[id].name == nullptr)
    return std::nullopt;
  return table[id];
}

// Bounds-checked little-endian reader over one file. The first failure is
// kept; every later call fails fast, so parsing code checks once per step.
class reader {
public:
  reader(std::ifstream& in, std::uint64_t size, const std::string& path)
    : in_(in), size_(size), path_(path) {
  }

  std::uint64_t offset() const {
    return offset_;
  }

  std::uint64_t remaining() const {
    return size_ - offset_;
  }

  bool failed() const {
    return error_.has_value();
  }

  gguf_error take_error() {
    return std::move(*error_);
  }

  // Records the first failure at `at`; returns false for use in returns.
  bool fail(std::uint64_t at, std::string message) {
    if (!error_)
      error_ = gguf_error{path_, at, std::move(message)};
    return false;
  }

  bool read_bytes(void* dst, std::uint64_t n, const char* what) {
    if (failed())
      return false;
    if (n > remaining())
      return fail(offset_, std::string{what} + " needs " + std::to_string(n)
                             + " bytes but the file ends at byte "
                             + std::to_string(size_) + " (truncated?)");
    if (!in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n)))
      return fail(offset_, std::string{"read error in "} + what);
    offset_ += n;
    return true;
  }

  bool skip(std::uint64_t n, const char* what) {
    if (failed())
      return false;
    if (n > remaining())
      return fail(offset_, std::string{what} + " of " + std::to_string(n)
                             + " bytes runs past the end of the file at byte "
                             + std::to_string(size_) + " (truncated?)");
    offset_ += n;
    in_.seekg(static_cast<std::streamoff>(offset_));
    return static_cast<bool>(in_) || fail(offset_, "seek error");
  }

  template <class T>
  bool read_le(T& out, const char* what) {
    std::array<unsigned char, sizeof(T)> bytes{};
    if (!read_bytes(bytes.data(), bytes.size(), what))
      return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      v |= std::uint64_t{bytes[i]} << (8 * i);
    out = static_cast<T>(v);
    return true;
  }

  // A gguf_string: uint64 length, then that many bytes.
  bool read_string(std::string& out, const char* what) {
    const std::uint64_t at = offset_;
    std::uint64_t len = 0;
    if (!read_le(len, what))
      return false;
    if (len > remaining())
      return fail(at, std::string{what} + " claims " + std::to_string(len)
                        + " bytes but only " + std::to_string(remaining())
                        + " remain in the file");
    out.resize(static_cast<std::size_t>(len));
    return read_bytes(out.data(), len, what);
  }

private:
  std::ifstream& in_;
  std::uint64_t size_;
  std::uint64_t offset_ = 0;
  const std::string& path_;
  std::optional<gguf_error> error_;
};

bool skip_value(reader& rd, std::uint32_t type, std::uint64_t type_at,
                int depth);

bool skip_array(reader& rd, int depth) {
  const std::uint64_t at = rd.offset();
  std::uint32_t elem_type = 0;
  std::uint64_t count = 0;
  if (!rd.read_le(elem_type, "array element type")
      || !rd.read_le(count, "array length"))
    return false;
  if (depth >= max_array_depth)
    return rd.fail(at, "arrays nested deeper than "
                         + std::to_string(max_array_depth));
  if (const std::uint64_t size = scalar_size(elem_type); size != 0) {
    if (count > rd.remaining() / size)
      return rd.fail(at + 4, "array of " + std::to_string(count)
                               + " elements runs past the end of the file");
    return rd.skip(count * size, "array data");
  }
  for (std::uint64_t i = 0; i < count && !rd.failed(); ++i)
    skip_value(rd, elem_type, at, depth + 1);
  return !rd.failed();
}

bool skip_value(reader& rd, std::uint32_t type, std::uint64_t type_at,
                int depth) {
  if (const std::uint64_t size = scalar_size(type); size != 0)
    return rd.skip(size, "metadata value");
  if (type == static_cast<std::uint32_t>(value_type::string)) {
    std::string ignored;
    return rd.read_string(ignored, "metadata string");
  }
  if (type == static_cast<std::uint32_t>(value_type::array))
    return skip_array(rd, depth);
  return rd.fail(type_at, "unknown metadata value type "
                            + std::to_string(type));
}

// Reads one key/value pair, keeping the two keys the probe reports.
bool read_metadata_kv(reader& rd, gguf_info& info) {
  std::string key;
  if (!rd.read_string(key, "metadata key"))
    return false;
  const std::uint64_t type_at = rd.offset();
  std::uint32_t type = 0;
  if (!rd.read_le(type, "metadata value type"))
    return false;
  const auto u32 = static_cast<std::uint32_t>(value_type::u32);
  const auto str = static_cast<std::uint32_t>(value_type::string);
  if (key == "general.alignment" && type == u32) {
    const std::uint64_t at = rd.offset();
    if (!rd.read_le(info.alignment, "general.alignment"))
      return false;
    const std::uint32_t a = info.alignment;
    if (a == 0 || (a & (a - 1)) != 0)
      return rd.fail(at, "general.alignment " + std::to_string(a)
                           + " is not a power of two");
    return true;
  }
  if (key == "general.architecture" && type == str)
    return rd.read_string(info.architecture, "general.architecture");
  return skip_value(rd, type, type_at, 0);
}

struct tensor_extent {
  std::uint64_t offset; // relative to the start of tensor data
  std::uint64_t bytes;
  std::string name;
};

// Bytes of a tensor of shape `ne` and type `traits`, checking that rows are
// whole blocks and that the size fits in 64 bits; `dims_at` locates errors.
bool tensor_bytes(reader& rd, const tensor_extent& t,
                  const std::array<std::uint64_t, max_dims>& ne,
                  const ggml_type_traits& traits, std::uint64_t dims_at,
                  std::uint64_t& bytes) {
  if (ne[0] % traits.block_elems != 0)
    return rd.fail(dims_at, "tensor '" + t.name + "' row of "
                              + std::to_string(ne[0])
                              + " elements is not a whole number of "
                              + traits.name + " blocks");
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t blocks = ne[0] / traits.block_elems;
  for (std::uint32_t d = 1; d < max_dims; ++d) {
    if (ne[d] != 0 && blocks > max / ne[d])
      return rd.fail(dims_at, "tensor '" + t.name + "' size overflows");
    blocks *= ne[d];
  }
  if (blocks > max / traits.block_bytes)
    return rd.fail(dims_at, "tensor '" + t.name + "' size overflows");
  bytes = blocks * traits.block_bytes;
  return true;
}

// Reads one tensor descriptor: name, dims, ggml type, data offset.
bool read_tensor_info(reader& rd, const gguf_info& info, tensor_extent& out) {
  if (!rd.read_string(out.name, "tensor name"))
    return false;
  const std::uint64_t dims_at = rd.offset();
  std::uint32_t n_dims = 0;
  if (!rd.read_le(n_dims, "tensor dimension count"))
    return false;
  if (n_dims == 0 || n_dims > max_dims)
    return rd.fail(dims_at, "tensor '" + out.name + "' has "
                              + std::to_string(n_dims)
                              + " dimensions; expected 1 to 4");
  std::array<std::uint64_t, max_dims> ne{1, 1, 1, 1};
  for (std::uint32_t d = 0; d < n_dims; ++d)
    if (!rd.read_le(ne[d], "tensor dimension"))
      return false;
  const std::uint64_t type_at = rd.offset();
  std::uint32_t type_id = 0;
  if (!rd.read_le(type_id, "tensor type"))
    return false;
  const auto traits = ggml_type_lookup(type_id);
  if (!traits)
    return rd.fail(type_at, "tensor '" + out.name + "' has unknown ggml type "
                              + std::to_string(type_id));
  if (!tensor_bytes(rd, out, ne, *traits, dims_at, out.bytes))
    return false;
  const std::uint64_t offset_at = rd.offset();
  if (!rd.read_le(out.offset, "tensor data offset"))
    return false;
  if (out.offset % info.alignment != 0)
    return rd.fail(offset_at, "tensor '" + out.name + "' data offset "
                                + std::to_string(out.offset)
                                + " is not a multiple of the alignment "
                                + std::to_string(info.alignment));
  return true;
}

// Checks the fixed 24-byte header and fills version and counts.
bool read_header(reader& rd, gguf_info& info) {
  std::array<char, 4> magic{};
  if (!rd.read_bytes(magic.data(), magic.size(), "magic"))
    return false;
  if (std::memcmp(magic.data(), "GGUF", 4) != 0)
    return rd.fail(0, "bad magic: expected \"GGUF\"; not a GGUF file");
  if (!rd.read_le(info.version, "version"))
    return false;
  if (info.version == 0x02000000u || info.version == 0x03000000u)
    return rd.fail(4, "big-endian GGUF files are not supported");
  if (info.version != 2 && info.version != 3)
    return rd.fail(4, "unsupported GGUF version " + std::to_string(info.version)
                        + "; expected 2 or 3");
  return rd.read_le(info.tensor_count, "tensor count")
         && rd.read_le(info.metadata_count, "metadata count");
}

// Places the tensor data after the descriptors and checks every tensor's
// bytes lie inside the file.
bool check_tensor_data(reader& rd, gguf_info& info,
                       const std::vector<tensor_extent>& tensors) {
  const std::uint64_t a = info.alignment;
  info.data_offset = (rd.offset() + a - 1) / a * a;
  for (const auto& t : tensors) {
    const std::uint64_t begin = info.data_offset + t.offset;
    if (begin < t.offset || t.bytes > info.file_size
        || begin > info.file_size - t.bytes)
      return rd.fail(begin, "tensor '" + t.name + "' needs "
                              + std::to_string(t.bytes) + " bytes from byte "
                              + std::to_string(begin)
                              + " but the file ends at byte "
                              + std::to_string(info.file_size)
                              + " (truncated?)");
    info.data_size = std::max(info.data_size, t.offset + t.bytes);
  }
  return true;
}

} // namespace

std::string gguf_error::to_string() const {
  return path + ": byte " + std::to_string(offset) + ": " + message;
}

result<gguf_info, gguf_error> gguf_probe(const std::filesystem::path& path) {
  const std::string path_str = path.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec)
    return gguf_error{path_str, 0, "cannot read file: " + ec.message()};
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return gguf_error{path_str, 0,
                      std::string{"cannot open file: "} + std::strerror(errno)};
  gguf_info info;
  info.file_size = size;
  reader rd{in, size, path_str};
  if (size < header_size)
    return gguf_error{path_str, size,
                      "file is " + std::to_string(size)
                        + " bytes; a GGUF header needs "
                        + std::to_string(header_size)};
  if (!read_header(rd, info))
    return rd.take_error();
  for (std::uint64_t i = 0; i < info.metadata_count; ++i)
    if (!read_metadata_kv(rd, info))
      return rd.take_error();
  std::vector<tensor_extent> tensors;
  for (std::uint64_t i = 0; i < info.tensor_count; ++i) {
    tensor_extent t;
    if (!read_tensor_info(rd, info, t))
      return rd.take_error();
    tensors.push_back(std::move(t));
  }
  if (!check_tensor_data(rd, info, tensors))
    return rd.take_error();
  return info;
}

} // namespace troupe::runtime
