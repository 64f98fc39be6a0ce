#pragma once

#include "runtime/json_schema.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

/// The validator behind schema_validate(), shared by json_schema.cpp (the
/// walk: schemas, $ref, bounds) and json_schema_keywords.cpp (one check per
/// keyword group). Internal to those two files.
namespace troupe::runtime::schema_detail {

/// Where violations go. Invariants: found.size() <= limit; limit >= 1.
struct sink {
  std::vector<schema_violation> found;
  size_t limit = 1;
  bool full() const { return found.size() >= limit; }
};

/// Where one check happens: the instance, its JSON pointer (a buffer shared
/// down the walk, restored on the way back), and where to report.
struct at {
  const value& inst;
  std::string& ptr;
  sink& out;
  size_t nesting; ///< Checks enclosing this one.
  size_t refs;    ///< $refs followed since the last step into the instance.
};

/// `token` escaped for a JSON pointer (~ as ~0, / as ~1).
std::string escape_token(const std::string& token);

/// A value for a message: value_to_text() cut to `max_code_points`, strings
/// quoted.
std::string compact(const value& v, size_t max_code_points = 60);

/// What was found: "number 3.5", "string \"abc\"", "array of 2 items".
std::string found(const value& v);

/// A number with an integral value (1 and 1.0).
bool is_integral(const value& v);

/// One validation run. Invariants: once aborted_, every check fails at once
/// and nothing more is reported.
class validator {
public:
  validator(const value& root, size_t max_violations);

  /// The violations of `instance`; call once.
  std::vector<schema_violation> run(const value& instance);

private:
  using keyword_group = bool (validator::*)(const value&, at&);

  bool check(const value& s, at a);
  bool fail(at& a, std::string message);
  bool abort(at& a, std::string message);
  bool child(const value& s, const value& inst, const std::string& token, at& a);
  bool same(const value& s, at& a, sink& out, size_t refs);
  bool follow_ref(const value& ref, at& a);
  bool count(const value& s, const char* name, at& a, std::optional<uint64_t>& out);

  // Keyword groups, in json_schema_keywords.cpp. Each reports what fails
  // and returns whether everything held.
  bool check_generic(const value& s, at& a);
  bool check_number(const value& s, at& a);
  bool check_string(const value& s, at& a);
  bool check_array(const value& s, at& a);
  bool check_unique(const value& items, at& a);
  bool check_object(const value& s, at& a);
  bool check_properties(const value& s, at& a);
  bool check_combinators(const value& s, at& a);
  bool check_branches(const value& s, const char* name, at& a);
  bool pattern_matches(const value& pattern, const std::string& text, at& a, bool& matched);

  const value& root_;
  sink main_;
  size_t checks_ = 0;
  bool aborted_ = false;
  std::map<std::string, std::optional<std::regex>> patterns_; ///< Compiled once per run.
};

} // namespace troupe::runtime::schema_detail
