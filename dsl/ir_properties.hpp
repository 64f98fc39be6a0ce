#pragma once

#include "dsl/ast.hpp"
#include "dsl/diagnostics.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace troupe::dsl {

/// Reads the properties of one block (`{ name: value ... }`) into typed
/// values for build_ir(). Construction reports unknown properties (E025, with
/// a suggestion) and properties given twice (E027); each getter reports a
/// value of the wrong form (E034) and returns nullopt for it, so one bad
/// value never hides the others. Lives as long as one build_ir() call.
class property_reader {
public:
  /// `what` names the block in messages ("llm step 'x'"); `allowed` lists its
  /// properties; `repeatable` those that may appear several times.
  property_reader(diagnostics& diags, const ast::block& block, std::string what,
                  std::vector<std::string> allowed,
                  std::vector<std::string> repeatable = {});

  /// The (first) entry named `name`, or null.
  const ast::entry* get(const std::string& name) const;
  std::vector<const ast::entry*> all(const std::string& name) const;
  bool has(const std::string& name) const { return get(name) != nullptr; }

  std::optional<double> number(const std::string& name);
  std::optional<int64_t> integer(const std::string& name);
  std::optional<int64_t> duration_ms(const std::string& name);
  std::optional<bool> boolean(const std::string& name);
  /// A string literal without interpolation.
  std::optional<std::string> string(const std::string& name);
  /// A string literal, interpolation allowed (the expression is returned).
  ast::expr_ptr templ(const std::string& name);
  /// A bare name (`model: small`).
  std::optional<std::string> ident(const std::string& name);
  std::optional<std::vector<std::string>> string_list(const std::string& name);
  std::optional<std::vector<std::pair<std::string, source_range>>>
  ident_list(const std::string& name);
  /// Any expression.
  ast::expr_ptr expr(const std::string& name);
  /// Any value, ranges (`a..b`) and agreements (`k of n`) included.
  ast::expr_ptr any(const std::string& name);
  const ast::block* nested(const std::string& name);
  bool flag(const std::string& name);

  /// Value ranges of every property read, for later diagnostics.
  const std::map<std::string, source_range>& ranges() const { return ranges_; }

  /// Where E026 points (the declaration's name); defaults to the block.
  void anchor(source_range r) { anchor_ = r; }

  /// Reports E026 if `name` is absent; returns whether it is present.
  bool require(const std::string& name, const std::string& hint = {});

private:
  const ast::entry* value_entry(const std::string& name);
  void wrong_form(const ast::entry& e, const std::string& expected,
                  const std::string& hint = {});

  diagnostics& diags_;
  const ast::block& block_;
  std::string what_;
  std::map<std::string, source_range> ranges_;
  source_range anchor_;
};

/// A number literal, optionally negated; nullopt for anything else.
std::optional<double> literal_number(const ast::expr& e);

} // namespace troupe::dsl
