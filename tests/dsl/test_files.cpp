#include "tests/dsl/test_files.hpp"

#include "dsl/source.hpp"

#include <algorithm>
#include <filesystem>

namespace troupe::dsl::testing {

std::string source_path(const std::string& relative) {
  return std::string(TROUPE_SOURCE_DIR) + "/" + relative;
}

std::vector<std::string> list_files(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(source_path(dir)))
    if (e.is_regular_file() && e.path().extension() == ext)
      out.push_back(dir + "/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const std::string& path) {
  std::string text;
  read_file(path, text);
  return text;
}

} // namespace troupe::dsl::testing
