#include "actors/launcher/model_commands.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "gpu/gguf/gguf_file.hpp"
#include "runtime/model_paths.hpp"

namespace troupe::launcher {

namespace {

// `text` padded with spaces to `width`.
std::string pad(std::string text, size_t width) {
  if (text.size() < width)
    text.append(width - text.size(), ' ');
  return text;
}

std::string shape_text(const gpu::gguf_tensor& t) {
  std::string out = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d)
    out += (d > 0 ? ", " : "") + std::to_string(t.ne[d]);
  return out + "]";
}

void print_metadata(const gpu::gguf_file& f) {
  std::cout << "metadata: " << f.metadata().size() << " keys\n";
  size_t width = 0;
  for (const auto& kv : f.metadata())
    width = std::max(width, std::min<size_t>(kv.key.size(), 40));
  for (const auto& kv : f.metadata())
    std::cout << "  " << pad(std::string(kv.key), width) << "  "
              << gpu::gguf_value_summary(kv.value) << "\n";
}

void print_tensors(const gpu::gguf_file& f) {
  uint64_t total = 0;
  size_t name_w = 4;
  size_t shape_w = 5;
  for (const auto& t : f.tensors()) {
    total += t.size_bytes;
    name_w = std::max(name_w, t.name.size());
    shape_w = std::max(shape_w, shape_text(t).size());
  }
  std::cout << "tensors: " << f.tensors().size() << ", " << total
            << " bytes of data\n";
  if (f.tensors().empty())
    return;
  std::cout << "  " << pad("name", name_w) << "  " << pad("type", 6) << "  "
            << pad("shape", shape_w) << "  " << pad("bytes", 12)
            << "  offset\n";
  for (const auto& t : f.tensors()) {
    const auto* traits = gpu::ggml_traits(static_cast<uint32_t>(t.type));
    std::cout << "  " << pad(std::string(t.name), name_w) << "  "
              << pad(std::string(traits->name), 6) << "  "
              << pad(shape_text(t), shape_w) << "  "
              << pad(std::to_string(t.size_bytes), 12) << "  "
              << t.file_offset << "\n";
  }
}

// `name` as given when it is a file, else resolved like a model name; an
// empty string (with the reason on stderr) when neither finds a file.
std::string locate(const std::string& name) {
  std::error_code ec;
  if (std::filesystem::exists(name, ec))
    return name;
  const auto resolved = runtime::model_path_resolve(name);
  if (resolved)
    return resolved.value().string();
  std::cerr << name << ": error: " << resolved.error().message << "\n";
  return {};
}

} // namespace

int cmd_model_info(const std::string& path) {
  const std::string file = locate(path);
  if (file.empty())
    return 1;
  const auto opened = gpu::gguf_file::open(file);
  if (!opened) {
    std::cerr << opened.error().to_string() << "\n";
    return 1;
  }
  const auto& f = opened.value();
  const auto arch = f.architecture();
  std::cout << f.path() << "\n"
            << "GGUF version: " << f.version() << "\n"
            << "architecture: " << (arch.empty() ? "(none)" : std::string(arch))
            << "\n"
            << "size: " << f.file_size() << " bytes; alignment "
            << f.alignment() << "; tensor data from byte " << f.data_offset()
            << "\n";
  print_metadata(f);
  print_tensors(f);
  return 0;
}

} // namespace troupe::launcher
