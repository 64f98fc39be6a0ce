#include "gpu/gguf/gguf_parser.hpp"

#include <cstdio>
#include <cstring>

// The header and the metadata; the tensor descriptors are read in
// gguf_tensor_infos.cpp.

namespace troupe::gpu::detail {

namespace {

constexpr uint64_t header_bytes = 24; // magic, version, two counts
constexpr uint64_t min_kv_bytes = 8 + 1 + 4 + 1; // key, type, a u8 value
// Name (one byte at least), n_dims, one dimension, type, offset.
constexpr uint64_t min_tensor_info_bytes = 8 + 1 + 4 + 8 + 4 + 8;
constexpr uint64_t max_key_bytes = 65535; // GGUF spec

uint32_t byte_swap(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

// Bytes an array element of type `t` takes at least: a scalar's size, a
// string's length prefix, an array's element type and count.
uint64_t min_element_bytes(gguf_value_type t) {
  if (t == gguf_value_type::string)
    return 8;
  if (t == gguf_value_type::array)
    return 12;
  return gguf_value_type_size(t);
}

} // namespace

std::string gguf_printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 80; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 80)
    out += "...";
  return out;
}

std::string gguf_bytes_text(uint64_t n) {
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

gguf_parser::gguf_parser(std::string path,
                         std::shared_ptr<const unsigned char> bytes,
                         uint64_t size)
  : path_(std::move(path)), bytes_(std::move(bytes)), base_(bytes_.get()),
    size_(size) {
}

result<gguf_file, gguf_error> gguf_parser::run() {
  if (!header() || !metadata() || !tensor_infos() || !tensor_extents()
      || !tensor_overlaps())
    return std::move(*error_);
  for (auto& t : file_.tensors_)
    t.data = base_ + t.file_offset;
  file_.path_ = path_;
  file_.bytes_ = std::move(bytes_);
  file_.size_ = size_;
  return std::move(file_);
}

bool gguf_parser::fail(uint64_t at, std::string field, std::string message) {
  if (!error_)
    error_ = gguf_error{path_, at, std::move(field), std::move(message)};
  return false;
}

std::string gguf_parser::value_field(std::string_view suffix) const {
  std::string out = gguf_printable(key_);
  for (uint64_t i : indices_)
    out += "[" + std::to_string(i) + "]";
  return out.append(suffix);
}

bool gguf_parser::header() {
  if (size_ < 4)
    return fail(0, "magic",
                size_ == 0 ? "the file is empty (0 bytes); a GGUF file "
                             "starts with the magic \"GGUF\""
                           : "the file is only " + gguf_bytes_text(size_)
                               + "; a GGUF file starts with the 4-byte"
                                 " magic \"GGUF\" (truncated?)");
  if (std::memcmp(base_, "GGUF", 4) != 0)
    return fail(0, "magic", "expected \"GGUF\"; this is not a GGUF file");
  pos_ = 4;
  uint32_t version = 0;
  if (!read_u32(version, [] { return std::string("version"); }))
    return false;
  if (version != 2 && version != 3) {
    const uint32_t swapped = byte_swap(version);
    if (swapped >= 1 && swapped <= 3)
      return fail(4, "version",
                  "big-endian GGUF file (version " + std::to_string(swapped)
                    + "); troupe reads little-endian files only: convert it"
                      " with gguf-py's gguf_convert_endian.py");
    if (version == 1)
      return fail(4, "version",
                  "GGUF version 1 is not supported (its counts are 32-bit);"
                  " expected 2 or 3: re-convert the model with a current"
                  " llama.cpp");
    return fail(4, "version", "unsupported GGUF version "
                                + std::to_string(version)
                                + "; expected 2 or 3");
  }
  file_.version_ = version;
  if (!read_u64(tensor_count_, [] { return std::string("tensor_count"); })
      || !read_u64(kv_count_, [] { return std::string("metadata_kv_count"); }))
    return false;
  const uint64_t room = size_ - header_bytes;
  if (tensor_count_ > room / min_tensor_info_bytes)
    return fail(8, "tensor_count",
                std::to_string(tensor_count_) + " tensors cannot fit: a file"
                  " of " + gguf_bytes_text(size_) + " has room for at most "
                  + std::to_string(room / min_tensor_info_bytes)
                  + " tensor descriptors (a corrupt count, or a truncated"
                    " file?)");
  const uint64_t kv_room = room - tensor_count_ * min_tensor_info_bytes;
  if (kv_count_ > kv_room / min_kv_bytes)
    return fail(16, "metadata_kv_count",
                std::to_string(kv_count_) + " key/value pairs cannot fit: a"
                  " file of " + gguf_bytes_text(size_) + " with "
                  + std::to_string(tensor_count_) + " tensors has room for at"
                  " most " + std::to_string(kv_room / min_kv_bytes)
                  + " (a corrupt count, or a truncated file?)");
  return true;
}

bool gguf_parser::metadata() {
  file_.kvs_.reserve(gguf_reserve_hint(kv_count_));
  for (uint64_t i = 0; i < kv_count_; ++i)
    if (!kv(i))
      return false;
  return true;
}

bool gguf_parser::kv(uint64_t i) {
  gguf_kv kv;
  kv.offset = pos_;
  auto key_field = [i] { return "metadata[" + std::to_string(i) + "]:key"; };
  if (!read_string(kv.key, key_field))
    return false;
  if (kv.key.empty())
    return fail(kv.offset, key_field(), "the key is empty");
  if (kv.key.size() > max_key_bytes)
    return fail(kv.offset, key_field(),
                "key of " + gguf_bytes_text(kv.key.size()) + "; GGUF keys hold at"
                  " most " + std::to_string(max_key_bytes));
  const auto [it, fresh] = file_.kv_index_.emplace(kv.key, file_.kvs_.size());
  if (!fresh) {
    const auto& first = file_.kvs_[it->second];
    return fail(kv.offset, key_field(),
                "duplicate key '" + gguf_printable(kv.key) + "' (first at byte "
                  + std::to_string(first.offset) + ")");
  }
  key_ = kv.key;
  const uint64_t type_at = pos_;
  uint32_t type = 0;
  if (!read_u32(type, [this] { return value_field(":type"); }))
    return false;
  if (type >= gguf_value_type_count)
    return fail(type_at, value_field(":type"),
                "unknown value type " + std::to_string(type)
                  + "; GGUF defines 0 (u8) to 12 (f64)");
  if (!value(kv.value, static_cast<gguf_value_type>(type), 0))
    return false;
  if (kv.key == "general.alignment" && !alignment(kv, type_at))
    return false;
  file_.kvs_.push_back(std::move(kv));
  return true;
}

bool gguf_parser::alignment(const gguf_kv& kv, uint64_t type_at) {
  if (kv.value.type() != gguf_value_type::u32)
    return fail(type_at, value_field(":type"),
                "general.alignment must be u32, not "
                  + std::string(gguf_value_type_name(kv.value.type())));
  const uint64_t a = *kv.value.as_u64();
  if (a == 0 || (a & (a - 1)) != 0)
    return fail(kv.value.offset(), value_field(),
                "alignment " + std::to_string(a) + " is not a power of two");
  file_.alignment_ = static_cast<uint32_t>(a);
  return true;
}

bool gguf_parser::value(gguf_value& v, gguf_value_type type, int depth) {
  v.type_ = type;
  v.offset_ = pos_;
  if (type == gguf_value_type::array)
    return array(v, depth + 1);
  if (type == gguf_value_type::string) {
    std::string_view s;
    if (!read_string(s, [this] { return value_field(); }))
      return false;
    v.data_ = reinterpret_cast<const unsigned char*>(s.data());
    v.size_ = s.size();
    return true;
  }
  const uint64_t n = gguf_value_type_size(type);
  if (!need(n, [this] { return value_field(); }))
    return false;
  v.data_ = base_ + pos_;
  if (type == gguf_value_type::boolean && v.data_[0] > 1)
    return fail(pos_, value_field(),
                "bool byte is " + std::to_string(v.data_[0])
                  + "; expected 0 or 1");
  pos_ += n;
  return true;
}

bool gguf_parser::array(gguf_value& v, int depth) {
  const uint64_t type_at = pos_;
  uint32_t type = 0;
  if (!read_u32(type, [this] { return value_field(":element_type"); }))
    return false;
  if (type >= gguf_value_type_count)
    return fail(type_at, value_field(":element_type"),
                "unknown element type " + std::to_string(type)
                  + "; GGUF defines 0 (u8) to 12 (f64)");
  v.element_type_ = static_cast<gguf_value_type>(type);
  if (v.element_type_ == gguf_value_type::array
      && depth >= gguf_max_array_depth)
    return fail(type_at, value_field(":element_type"),
                "arrays nest deeper than "
                  + std::to_string(gguf_max_array_depth));
  const uint64_t count_at = pos_;
  if (!read_u64(v.count_, [this] { return value_field(":count"); }))
    return false;
  const uint64_t min = min_element_bytes(v.element_type_);
  if (v.count_ > remaining() / min)
    return fail(count_at, value_field(":count"),
                std::to_string(v.count_) + " "
                  + std::string(gguf_value_type_name(v.element_type_))
                  + " elements need at least " + gguf_bytes_text(min)
                  + " each, but only " + gguf_bytes_text(remaining())
                  + " remain before the end of the file (a corrupt count, or"
                    " a truncated file?)");
  if (gguf_value_type_size(v.element_type_) != 0)
    return numbers(v);
  if (v.element_type_ == gguf_value_type::string)
    v.strings_.reserve(gguf_reserve_hint(v.count_));
  else
    v.elements_.reserve(gguf_reserve_hint(v.count_));
  for (uint64_t i = 0; i < v.count_; ++i) {
    indices_.push_back(i);
    if (v.element_type_ == gguf_value_type::string) {
      std::string_view s;
      if (!read_string(s, [this] { return value_field(); }))
        return false;
      v.strings_.push_back(s);
    } else {
      gguf_value e;
      if (!value(e, gguf_value_type::array, depth))
        return false;
      v.elements_.push_back(std::move(e));
    }
    indices_.pop_back();
  }
  return true;
}

bool gguf_parser::numbers(gguf_value& v) {
  // The count check in array() guarantees the bytes are there.
  v.data_ = base_ + pos_;
  if (v.element_type_ == gguf_value_type::boolean)
    for (uint64_t i = 0; i < v.count_; ++i)
      if (v.data_[i] > 1) {
        indices_.push_back(i);
        return fail(pos_ + i, value_field(),
                    "bool byte is " + std::to_string(v.data_[i])
                      + "; expected 0 or 1");
      }
  pos_ += v.count_ * gguf_value_type_size(v.element_type_);
  return true;
}

} // namespace troupe::gpu::detail
