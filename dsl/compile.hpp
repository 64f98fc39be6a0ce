#pragma once

#include "dsl/ast.hpp"
#include "dsl/checked_graph.hpp"
#include "dsl/diagnostics.hpp"
#include "dsl/source.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace troupe::dsl {

/// Everything one compilation produced. Owns the sources, so diagnostics and
/// AST ranges stay valid for its lifetime.
struct compilation {
  source_manager sources;
  diagnostics diags;
  std::vector<ast::file> files;        ///< Parsed .wf files, main file first.
  std::optional<checked_graph> checked; ///< Set iff there was no error.

  bool ok() const { return checked.has_value(); }
  /// Rendered diagnostics ("" when there are none).
  std::string report() const { return diags.render(sources); }
};

/// The data path's front half, `.wf text -> parse() -> build_ir() -> check()`,
/// for the file at `path` and everything it imports (resolved relative to
/// the importing file). Never throws; every problem is a diagnostic.
std::unique_ptr<compilation> compile_file(const std::string& path);

/// The same for text already in memory; `display` names it in diagnostics,
/// and imports resolve relative to its directory.
std::unique_ptr<compilation> compile_source(const std::string& display,
                                            std::string text);

} // namespace troupe::dsl
