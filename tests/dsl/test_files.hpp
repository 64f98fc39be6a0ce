#pragma once

#include <string>
#include <vector>

namespace troupe::dsl::testing {

/// Absolute path of a file in the source tree.
std::string source_path(const std::string& relative);

/// Sorted paths (relative to the repository) of files in `dir` ending in `ext`.
std::vector<std::string> list_files(const std::string& dir, const std::string& ext);

/// Whole file, or "" if it does not exist.
std::string slurp(const std::string& path);

} // namespace troupe::dsl::testing
