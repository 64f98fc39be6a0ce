#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

// Real files for tests: a scratch directory per test and the shared copy of
// the stories260K model. Used by runtime_tests, actors_tests and the GGUF
// tests in gpu_tests.

namespace troupe::test {

/// A fresh directory under the system temp dir, removed with its contents
/// when the object dies.
class temp_dir {
public:
  temp_dir() {
    std::string pattern =
      (std::filesystem::temp_directory_path() / "troupe_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error{"mkdtemp failed for " + pattern};
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const {
    return path_;
  }

private:
  std::filesystem::path path_;
};

/// The shared stories260K.gguf (../shared/models beside the repository, or
/// the repository's models/ after scripts/setup), or an empty path when
/// neither exists; callers GTEST_SKIP() then.
inline std::filesystem::path stories260k_source() {
  const std::filesystem::path source{TROUPE_SOURCE_DIR};
  for (const auto& candidate :
       {source / ".." / "shared" / "models" / "stories260K.gguf",
        source / "models" / "stories260K.gguf"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec))
      return candidate.lexically_normal();
  }
  return {};
}

inline std::vector<char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

inline void write_bytes(const std::filesystem::path& path,
                        const std::vector<char>& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    throw std::runtime_error{"cannot write " + path.string()};
}

inline void write_text(const std::filesystem::path& path,
                       const std::string& text) {
  write_bytes(path, std::vector<char>(text.begin(), text.end()));
}

} // namespace troupe::test
