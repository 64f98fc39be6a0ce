// Fuzzes the GGUF reader through its in-memory path. Any bytes either fail
// with a located error, or give a file whose every value and tensor can be
// walked (ASan checks each byte read is inside the input) and which
// gguf_writer rewrites into a file that reads back the same.
#include "gpu/gguf/gguf_file.hpp"
#include "gpu/gguf/gguf_writer.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace troupe::gpu;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz_gguf: %s\n", what.c_str());
  std::abort();
}

template <class T>
void touch_numbers(const gguf_value& v) {
  volatile T sink{};
  const auto numbers = v.numbers<T>();
  for (T x : *numbers)
    sink = x;
  (void) sink;
}

// Reads every element of `v`, nested arrays included.
void walk(const gguf_value& v) {
  (void) gguf_value_summary(v);
  (void) v.as_u64();
  (void) v.as_i64();
  (void) v.as_f64();
  (void) v.as_bool();
  (void) v.as_string();
  if (!v.is_array())
    return;
  switch (v.element_type()) {
    case gguf_value_type::u8: touch_numbers<uint8_t>(v); break;
    case gguf_value_type::i8: touch_numbers<int8_t>(v); break;
    case gguf_value_type::u16: touch_numbers<uint16_t>(v); break;
    case gguf_value_type::i16: touch_numbers<int16_t>(v); break;
    case gguf_value_type::u32: touch_numbers<uint32_t>(v); break;
    case gguf_value_type::i32: touch_numbers<int32_t>(v); break;
    case gguf_value_type::f32: touch_numbers<float>(v); break;
    case gguf_value_type::boolean: touch_numbers<bool>(v); break;
    case gguf_value_type::u64: touch_numbers<uint64_t>(v); break;
    case gguf_value_type::i64: touch_numbers<int64_t>(v); break;
    case gguf_value_type::f64: touch_numbers<double>(v); break;
    case gguf_value_type::string: {
      size_t total = 0;
      for (auto s : v.strings())
        total += s.empty() ? 0 : static_cast<unsigned char>(s.back());
      (void) total;
      break;
    }
    case gguf_value_type::array:
      if (v.elements().size() != v.count())
        die("array of arrays lost elements");
      for (const auto& e : v.elements())
        walk(e);
      break;
  }
}

void lookups(const gguf_file& f, std::string_view key) {
  (void) f.get_string(key);
  (void) f.get_u32(key);
  (void) f.get_u64(key);
  (void) f.get_i32(key);
  (void) f.get_i64(key);
  (void) f.get_f32(key);
  (void) f.get_bool(key);
  (void) f.get_strings(key);
  (void) f.get_array<float>(key);
  (void) f.get_array<int32_t>(key);
}

void check_tensors(const gguf_file& f) {
  for (const auto& t : f.tensors()) {
    if (t.file_offset + t.size_bytes > f.file_size() || t.size_bytes == 0
        || t.file_offset % f.alignment() != 0 || f.tensor(t.name) != &t)
      die("tensor invariant broken for '" + std::string(t.name) + "'");
    const auto* p = static_cast<const volatile unsigned char*>(t.data);
    (void) p[0];
    (void) p[t.size_bytes - 1];
  }
}

// Rewrites `f` with gguf_writer and checks the copy reads back the same.
void rewrite(const gguf_file& f) {
  if (f.alignment() > 4096)
    return; // valid only without tensors; the copy would be mostly padding
  gguf_writer w;
  for (const auto& kv : f.metadata())
    if (auto s = w.add(std::string(kv.key), gguf_meta::copy_of(kv.value)); !s.ok())
      die("writer refused key '" + std::string(kv.key) + "': " + s.message());
  for (const auto& t : f.tensors()) {
    const std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    if (auto s = w.add_tensor(std::string(t.name), t.type, ne, t.data, t.size_bytes); !s.ok())
      die("writer refused tensor '" + std::string(t.name) + "': " + s.message());
  }
  const auto bytes = w.to_bytes();
  const auto copy = gguf_file::from_bytes("copy.gguf", bytes.data(), bytes.size());
  if (!copy)
    die("rewritten file does not read back: " + copy.error().to_string());
  const auto& c = copy.value();
  if (c.metadata().size() != f.metadata().size() || c.tensors().size() != f.tensors().size())
    die("rewritten file lost entries");
  for (size_t i = 0; i < f.metadata().size(); ++i)
    if (c.metadata()[i].key != f.metadata()[i].key
        || gguf_value_summary(c.metadata()[i].value, 64, 256)
             != gguf_value_summary(f.metadata()[i].value, 64, 256))
      die("rewritten value differs for '" + std::string(f.metadata()[i].key) + "'");
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto& b = c.tensors()[i];
    if (a.name != b.name || a.type != b.type || a.ne != b.ne
        || std::memcmp(a.data, b.data, a.size_bytes) != 0)
      die("rewritten tensor differs: '" + std::string(a.name) + "'");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1024 * 1024)
    return 0;
  const auto r = gguf_file::from_bytes("fuzz.gguf", data, size);
  if (!r) {
    const auto& e = r.error();
    if (e.offset > size || e.message.empty() || e.field.empty())
      die("malformed error: " + e.to_string());
    (void) e.to_string();
    return 0;
  }
  const auto& f = r.value();
  if (f.version() != 2 && f.version() != 3)
    die("accepted version " + std::to_string(f.version()));
  for (const auto& kv : f.metadata()) {
    if (f.find(kv.key) != &kv.value)
      die("lookup does not find key '" + std::string(kv.key) + "'");
    walk(kv.value);
    lookups(f, kv.key);
  }
  (void) f.architecture();
  check_tensors(f);
  rewrite(f);
  return 0;
}
