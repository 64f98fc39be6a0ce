#include "gpu/gguf/gguf_file.hpp"

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/gguf/gguf_parser.hpp"

namespace troupe::gpu {

namespace {

// Copies made by from_bytes are aligned like a mapping's first page, so
// tensor data pointers are as aligned as with open().
constexpr std::align_val_t copy_alignment{4096};

gguf_error io_error(const std::string& path, const std::string& what) {
  return gguf_error{path, 0, "", what + ": " + std::strerror(errno)};
}

// Closes a descriptor on every path out of open().
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

result<gguf_file, gguf_error> gguf_file::open(const std::string& path) {
  fd_guard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    return io_error(path, "cannot open the file");
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    return io_error(path, "cannot stat the file");
  if (!S_ISREG(st.st_mode))
    return gguf_error{path, 0, "", "not a regular file"};
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size == 0)
    return detail::gguf_parser(path, nullptr, 0).run();
  if (size > std::numeric_limits<size_t>::max())
    return gguf_error{path, 0, "", "the file is too large to map"};
  void* map = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ,
                     MAP_PRIVATE, file.fd, 0);
  if (map == MAP_FAILED)
    return io_error(path, "cannot map the file");
  std::shared_ptr<const unsigned char> bytes(
    static_cast<const unsigned char*>(map), [size](const unsigned char* p) {
      ::munmap(const_cast<unsigned char*>(p), static_cast<size_t>(size));
    });
  return detail::gguf_parser(path, std::move(bytes), size).run();
}

result<gguf_file, gguf_error>
gguf_file::from_bytes(std::string name, const void* data, size_t size) {
  auto* copy = static_cast<unsigned char*>(
    ::operator new[](size == 0 ? 1 : size, copy_alignment));
  std::shared_ptr<const unsigned char> bytes(copy, [](const unsigned char* p) {
    ::operator delete[](const_cast<unsigned char*>(p), copy_alignment);
  });
  if (size != 0)
    std::memcpy(copy, data, size);
  return detail::gguf_parser(std::move(name), std::move(bytes), size).run();
}

std::string_view gguf_file::architecture() const {
  const auto* v = find("general.architecture");
  return v != nullptr ? v->as_string().value_or("") : std::string_view{};
}

const gguf_value* gguf_file::find(std::string_view key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const gguf_tensor* gguf_file::tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

result<const gguf_value*, gguf_error>
gguf_file::find_or_error(std::string_view key) const {
  if (const auto* v = find(key))
    return v;
  return gguf_error{path_, 0, std::string(key), "the key is missing"};
}

gguf_error gguf_file::type_error(std::string_view key, const gguf_value& v,
                                 std::string_view wanted) const {
  std::string found(gguf_value_type_name(v.type()));
  if (v.is_array())
    found = "array of " + std::string(gguf_value_type_name(v.element_type()));
  return gguf_error{path_, v.offset(), std::string(key),
                    "expected " + std::string(wanted) + ", found "
                      + gguf_value_summary(v, 3, 40) + " (" + found + ")"};
}

result<const gguf_value*, gguf_error>
gguf_file::find_array(std::string_view key, gguf_value_type element) const {
  auto v = find_or_error(key);
  if (v && (!v.value()->is_array() || v.value()->element_type() != element))
    return type_error(key, *v.value(),
                      "an array of "
                        + std::string(gguf_value_type_name(element)));
  return v;
}

result<std::string_view, gguf_error>
gguf_file::get_string(std::string_view key) const {
  auto v = find_or_error(key);
  if (!v)
    return std::move(v).error();
  if (auto s = v.value()->as_string())
    return *s;
  return type_error(key, *v.value(), "a string");
}

result<uint32_t, gguf_error> gguf_file::get_u32(std::string_view key) const {
  auto v = find_or_error(key);
  if (!v)
    return std::move(v).error();
  const auto x = v.value()->as_u64();
  if (x && *x <= std::numeric_limits<uint32_t>::max())
    return static_cast<uint32_t>(*x);
  return type_error(key, *v.value(), "an integer from 0 to 4294967295");
}

result<uint64_t, gguf_error> gguf_file::get_u64(std::string_view key) const {
  auto v = find_or_error(key);
  if (!v)
    return std::move(v).error();
  if (auto x = v.value()->as_u64())
    return *x;
  return type_error(key, *v.value(), "a non-negative integer");
}

result<int32_t, gguf_error> gguf_file::get_i32(std::string_view key) const {
  auto v = find_or_error(key);
  if (!v)
    return std::move(v).error();
  const auto x = v.value()->as_i64();
  if (x && *x >= std::numeric_limits<int32_t>::min()
      && *x <= std::numeric_limits<int32_t>::max())
    return static_cast<int32_t>(*x);
  return type_error(key, *v.value(), "an integer that fits in i32");
}

result<int64_t, gguf_error> gguf_file::get_i64(std::string_view key) const {
  auto v = find_or_error(key);
  if (!v)
    return std::move(v).error();
  if (auto x = v.value()->as_i64())
    return *x;
  return type_error(key, *v.value(), "an integer that fits in i64");
}

result<float, gguf_error> gguf_file::get_f32(std::string_view key) const {
  auto v = find_or_error(key);
  if (!v)
    return std::move(v).error();
  // Narrowing a finite double beyond float's range is undefined behaviour.
  const auto x = v.value()->as_f64();
  if (x && !(std::isfinite(*x) && std::fabs(*x) > FLT_MAX))
    return static_cast<float>(*x);
  return type_error(key, *v.value(), "an f32, or an f64 in f32's range");
}

result<bool, gguf_error> gguf_file::get_bool(std::string_view key) const {
  auto v = find_or_error(key);
  if (!v)
    return std::move(v).error();
  if (auto x = v.value()->as_bool())
    return *x;
  return type_error(key, *v.value(), "a bool");
}

result<gguf_string_list, gguf_error>
gguf_file::get_strings(std::string_view key) const {
  auto v = find_array(key, gguf_value_type::string);
  if (!v)
    return std::move(v).error();
  return v.value()->strings();
}

} // namespace troupe::gpu
