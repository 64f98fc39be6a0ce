#pragma once

// Internal to config.cpp: typed, error-collecting reads of a parsed TOML
// table. It includes toml++, which troupe_runtime links privately, so no
// public header may include this one.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "runtime/config.hpp"

namespace troupe::runtime::config_detail {

/// A string read from the file, with where it was.
struct located_string {
  std::string value;
  toml::source_region at;
};

/// Reads values of one troupe.toml, reporting each mistake into `errors`
/// at its line and column and carrying on. Every getter returns nullopt
/// (or nullptr) both when the key is absent and when it was reported;
/// `dotted` is the key's full name for messages ("node.threads").
/// Invariants: `errors` outlives the reader.
class toml_reader {
public:
  toml_reader(std::filesystem::path file, std::vector<config_error>& errors);

  /// Reports `message` at the start of `at`.
  void error(const toml::source_region& at, std::string message);

  /// Reports every key of `table` not in `known`, with a did-you-mean hint;
  /// `where` names the table in messages ("[node]", "the top level").
  void check_keys(const toml::table& table, std::string_view where,
                  const std::vector<std::string>& known);

  const toml::table* table(const toml::table& parent, std::string_view key,
                           std::string_view dotted);
  std::optional<located_string> string(const toml::table& t,
                                       std::string_view key,
                                       std::string_view dotted);
  std::optional<bool> boolean(const toml::table& t, std::string_view key,
                              std::string_view dotted);
  /// An integer within [min, max]; out of range is reported with the range.
  std::optional<std::int64_t> integer(const toml::table& t,
                                      std::string_view key,
                                      std::string_view dotted,
                                      std::int64_t min, std::int64_t max);
  /// An array of strings; each element of another type is reported.
  std::optional<std::vector<located_string>>
  strings(const toml::table& t, std::string_view key, std::string_view dotted);

private:
  // Reports "dotted: expected <expected>, found <node's type>".
  void wrong_type(const toml::node& node, std::string_view dotted,
                  std::string_view expected);

  std::filesystem::path file_;
  std::vector<config_error>& errors_;
};

/// "a string", "an integer", "a table", ... for messages.
std::string type_phrase(toml::node_type type);

} // namespace troupe::runtime::config_detail
