#include "gpu/gguf/gguf_writer.hpp"

#include "runtime/base/atomic_write.hpp"

#include <cstring>
#include <string_view>

namespace troupe::gpu {

namespace {

constexpr uint32_t gguf_version = 3;
constexpr size_t max_key_bytes = 65535;
constexpr size_t max_tensor_name_bytes = 63;

void put_u32(std::vector<unsigned char>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

void put_u64(std::vector<unsigned char>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

void put_string(std::vector<unsigned char>& out, const std::string& s) {
  put_u64(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t n, uint64_t a) {
  return (n + a - 1) / a * a;
}

status invalid(std::string message) {
  return status::failure(status_code::invalid_argument, std::move(message));
}

template <class T>
gguf_meta copy_numbers(const gguf_value& v) {
  return gguf_meta::array(v.numbers<T>()->to_vector());
}

gguf_meta copy_array(const gguf_value& v) {
  switch (v.element_type()) {
    case gguf_value_type::u8: return copy_numbers<uint8_t>(v);
    case gguf_value_type::i8: return copy_numbers<int8_t>(v);
    case gguf_value_type::u16: return copy_numbers<uint16_t>(v);
    case gguf_value_type::i16: return copy_numbers<int16_t>(v);
    case gguf_value_type::u32: return copy_numbers<uint32_t>(v);
    case gguf_value_type::i32: return copy_numbers<int32_t>(v);
    case gguf_value_type::f32: return copy_numbers<float>(v);
    case gguf_value_type::boolean: return copy_numbers<bool>(v);
    case gguf_value_type::u64: return copy_numbers<uint64_t>(v);
    case gguf_value_type::i64: return copy_numbers<int64_t>(v);
    case gguf_value_type::f64: return copy_numbers<double>(v);
    case gguf_value_type::string: {
      const auto items = v.strings();
      return gguf_meta::strings({items.begin(), items.end()});
    }
    case gguf_value_type::array:
    default: {
      std::vector<gguf_meta> items;
      for (const auto& e : v.elements())
        items.push_back(gguf_meta::copy_of(e));
      return gguf_meta::arrays(std::move(items));
    }
  }
}

} // namespace

gguf_meta gguf_meta::string(std::string text) {
  gguf_meta m;
  m.type_ = gguf_value_type::string;
  m.texts_.push_back(std::move(text));
  return m;
}

gguf_meta gguf_meta::strings(std::vector<std::string> texts) {
  gguf_meta m;
  m.type_ = gguf_value_type::array;
  m.element_type_ = gguf_value_type::string;
  m.count_ = texts.size();
  m.texts_ = std::move(texts);
  return m;
}

gguf_meta gguf_meta::arrays(std::vector<gguf_meta> items) {
  gguf_meta m;
  m.type_ = gguf_value_type::array;
  m.element_type_ = gguf_value_type::array;
  m.count_ = items.size();
  m.items_ = std::move(items);
  return m;
}

gguf_meta gguf_meta::copy_of(const gguf_value& v) {
  switch (v.type()) {
    case gguf_value_type::u8: return u8(static_cast<uint8_t>(*v.as_u64()));
    case gguf_value_type::i8: return i8(static_cast<int8_t>(*v.as_i64()));
    case gguf_value_type::u16: return u16(static_cast<uint16_t>(*v.as_u64()));
    case gguf_value_type::i16: return i16(static_cast<int16_t>(*v.as_i64()));
    case gguf_value_type::u32: return u32(static_cast<uint32_t>(*v.as_u64()));
    case gguf_value_type::i32: return i32(static_cast<int32_t>(*v.as_i64()));
    case gguf_value_type::f32: return f32(static_cast<float>(*v.as_f64()));
    case gguf_value_type::boolean: return boolean(*v.as_bool());
    case gguf_value_type::u64: return u64(*v.as_u64());
    case gguf_value_type::i64: return i64(*v.as_i64());
    case gguf_value_type::f64: return f64(*v.as_f64());
    case gguf_value_type::string: return string(std::string(*v.as_string()));
    case gguf_value_type::array:
    default: return copy_array(v);
  }
}

bool gguf_writer::nesting_ok(const gguf_meta& m, int depth) {
  if (m.type_ != gguf_value_type::array
      || m.element_type_ != gguf_value_type::array)
    return true;
  if (depth >= gguf_max_array_depth)
    return false;
  for (const auto& item : m.items_)
    if (item.type_ != gguf_value_type::array || !nesting_ok(item, depth + 1))
      return false;
  return true;
}

status gguf_writer::add(std::string key, gguf_meta value) {
  if (key.empty() || key.size() > max_key_bytes)
    return invalid("metadata key of " + std::to_string(key.size())
                   + " bytes; expected 1 to 65535");
  if (keys_.count(key) != 0)
    return invalid("duplicate metadata key '" + key + "'");
  if (!nesting_ok(value, 1))
    return invalid("'" + key + "': an array of arrays must hold only arrays,"
                   " nested at most " + std::to_string(gguf_max_array_depth)
                   + " deep");
  if (key == "general.alignment") {
    uint32_t a = 0;
    if (value.type_ == gguf_value_type::u32)
      std::memcpy(&a, value.bytes_.data(), sizeof a);
    if (a == 0 || (a & (a - 1)) != 0)
      return invalid("general.alignment must be a u32 power of two");
    if (!tensors_.empty())
      return invalid("general.alignment must come before the tensors");
    alignment_ = a;
  }
  keys_.insert(key);
  kvs_.emplace_back(std::move(key), std::move(value));
  return {};
}

status gguf_writer::add_tensor(std::string name, ggml_type type,
                               const std::vector<int64_t>& ne,
                               const void* data, size_t size) {
  const auto* traits = ggml_traits(static_cast<uint32_t>(type));
  if (name.empty() || name.size() > max_tensor_name_bytes)
    return invalid("tensor name of " + std::to_string(name.size())
                   + " bytes; expected 1 to 63");
  if (names_.count(name) != 0)
    return invalid("duplicate tensor name '" + name + "'");
  if (traits == nullptr)
    return invalid("tensor '" + name + "': unknown ggml type");
  if (ne.empty() || ne.size() > 4)
    return invalid("tensor '" + name + "': 1 to 4 dimensions expected");
  uint64_t rows = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] < 1)
      return invalid("tensor '" + name + "': every dimension must be >= 1");
    if (d > 0 && __builtin_mul_overflow(rows, static_cast<uint64_t>(ne[d]),
                                        &rows))
      return invalid("tensor '" + name + "': the size overflows");
  }
  if (ne[0] % traits->block_size != 0)
    return invalid("tensor '" + name + "': ne[0] is not a multiple of the "
                   + std::string(traits->name) + " block size");
  uint64_t bytes = 0;
  uint64_t elements = 0;
  if (__builtin_mul_overflow(ggml_row_size(type, ne[0]), rows, &bytes)
      || __builtin_mul_overflow(static_cast<uint64_t>(ne[0]), rows, &elements)
      || elements > static_cast<uint64_t>(INT64_MAX))
    return invalid("tensor '" + name + "': the size overflows");
  if (bytes != size)
    return invalid("tensor '" + name + "' needs " + std::to_string(bytes)
                   + " bytes of data, got " + std::to_string(size));
  names_.insert(name);
  tensors_.push_back({std::move(name), type, ne,
                      static_cast<const unsigned char*>(data), bytes,
                      data_size_});
  data_size_ += align_up(bytes, alignment_);
  return {};
}

std::vector<unsigned char> gguf_writer::head() const {
  std::vector<unsigned char> out;
  out.insert(out.end(), {'G', 'G', 'U', 'F'});
  put_u32(out, gguf_version);
  put_u64(out, tensors_.size());
  put_u64(out, kvs_.size());
  for (const auto& [key, value] : kvs_) {
    put_string(out, key);
    put_u32(out, static_cast<uint32_t>(value.type_));
    put_meta(out, value);
  }
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put_u32(out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t n : t.ne)
      put_u64(out, static_cast<uint64_t>(n));
    put_u32(out, static_cast<uint32_t>(t.type));
    put_u64(out, t.offset);
  }
  out.resize(align_up(out.size(), alignment_), 0);
  return out;
}

void gguf_writer::put_meta(std::vector<unsigned char>& out,
                           const gguf_meta& m) {
  if (m.type_ == gguf_value_type::string) {
    put_string(out, m.texts_[0]);
    return;
  }
  if (m.type_ != gguf_value_type::array) {
    out.insert(out.end(), m.bytes_.begin(), m.bytes_.end());
    return;
  }
  put_u32(out, static_cast<uint32_t>(m.element_type_));
  put_u64(out, m.count_);
  if (m.element_type_ == gguf_value_type::string) {
    for (const auto& s : m.texts_)
      put_string(out, s);
  } else if (m.element_type_ == gguf_value_type::array) {
    for (const auto& item : m.items_)
      put_meta(out, item);
  } else {
    out.insert(out.end(), m.bytes_.begin(), m.bytes_.end());
  }
}

std::vector<unsigned char> gguf_writer::to_bytes() const {
  std::vector<unsigned char> out = head();
  for (const auto& t : tensors_) {
    out.insert(out.end(), t.data, t.data + t.size);
    out.resize(align_up(out.size(), alignment_), 0);
  }
  return out;
}

result<uint64_t, gguf_error> gguf_writer::write(const std::string& path) const {
  const std::vector<unsigned char> zeros(alignment_, 0);
  const std::vector<unsigned char> start = head();
  const auto view = [](const void* p, size_t n) {
    return std::string_view(static_cast<const char*>(p), n);
  };
  std::vector<std::string_view> parts = {view(start.data(), start.size())};
  uint64_t total = start.size();
  for (const auto& t : tensors_) {
    const size_t pad = align_up(t.size, alignment_) - t.size;
    parts.push_back(view(t.data, t.size));
    parts.push_back(view(zeros.data(), pad));
    total += t.size + pad;
  }
  if (auto err = base::atomic_write_parts(path, parts))
    return gguf_error{path, err->offset.value_or(0), "", err->message};
  return total;
}

} // namespace troupe::gpu
