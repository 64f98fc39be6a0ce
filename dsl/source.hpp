#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::dsl {

/// A position in a source file. Lines and columns are 1-based; columns count
/// Unicode code points, so a caret lines up under UTF-8 text.
struct source_pos {
  uint32_t line = 0;
  uint32_t col = 0;

  friend bool operator<(source_pos a, source_pos b) {
    return a.line != b.line ? a.line < b.line : a.col < b.col;
  }
  friend bool operator==(source_pos a, source_pos b) {
    return a.line == b.line && a.col == b.col;
  }
  friend bool operator<=(source_pos a, source_pos b) { return !(b < a); }
};

/// A half-open range [begin, end) inside one file (`file` indexes the
/// source_manager). Invariants: begin <= end; a default range is "nowhere".
struct source_range {
  uint32_t file = 0;
  source_pos begin;
  source_pos end;

  bool valid() const { return begin.line > 0; }
};

/// One loaded file: its display name and its text, with line starts indexed.
struct source_file {
  std::string path;    ///< Path used to open the file.
  std::string display; ///< Name shown in diagnostics.
  std::string text;
  std::vector<size_t> line_starts; ///< Byte offset of each line's start.

  /// The text of 1-based line `line`, without its line break ("" if none).
  std::string_view line_text(uint32_t line) const;
};

/// Owns every file a compilation reads (.wf files and TOML registries), so
/// diagnostics can quote any of them. File ids are stable for its lifetime.
/// Not thread-safe; one per compilation.
class source_manager {
public:
  /// Adds a file whose text is already in memory; returns its id.
  uint32_t add(std::string path, std::string display, std::string text);

  const source_file& file(uint32_t id) const { return *files_.at(id); }
  size_t size() const { return files_.size(); }

  /// Id of an already added file with this path, or -1.
  int64_t find(const std::string& path) const;

private:
  std::vector<std::unique_ptr<source_file>> files_;
};

/// Reads a whole file; returns false (and leaves `out` empty) if it cannot be
/// read.
bool read_file(const std::string& path, std::string& out);

} // namespace troupe::dsl
