#pragma once

#include "dsl/source.hpp"

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

/// The abstract syntax tree of one .wf file: what the text says, with source
/// ranges, before any name is resolved. Produced only by parse(); ANTLR types
/// never appear here.
namespace troupe::dsl::ast {

struct expr;
using expr_ptr = std::shared_ptr<const expr>;

/// One piece of a string: literal text or a `{{ expr }}` interpolation.
struct string_part {
  std::string literal; ///< Decoded text (escapes applied), when !value.
  expr_ptr value;      ///< The interpolated expression, or null.
};

/// A string literal after decoding. `raw` keeps the exact source spelling
/// (quotes included) so the formatter can reproduce it.
struct template_string {
  std::vector<string_part> parts;
  std::string raw;

  bool is_plain() const;          ///< No interpolation.
  std::string plain_text() const; ///< Literal parts concatenated.
};

enum class expr_kind {
  number,   ///< `number`, raw text in `text`
  duration, ///< `number` in milliseconds, raw text in `text`
  string,   ///< `str`
  boolean,  ///< `boolean`
  null,
  list,     ///< items in `args`
  name,     ///< identifier in `text`
  field,    ///< args[0].text
  index,    ///< args[0][args[1]]
  call,     ///< text(args...), optional argument names in `arg_names`
  unary,    ///< `op` in {"-", "not"}, args[0]
  binary,   ///< args[0] op args[1]
  range,    ///< args[0]..args[1] (only as a property value)
  agree,    ///< args[0] of args[1] (only as a property value)
};

/// Invariants: `args` holds exactly the operands the kind documents; every
/// node has a valid range.
struct expr {
  expr_kind kind = expr_kind::null;
  source_range range;
  std::string text;
  std::string op;
  double number = 0;
  bool boolean = false;
  template_string str;
  std::vector<expr_ptr> args;
  std::vector<std::string> arg_names; ///< Parallel to args for calls; "" = positional.
  std::vector<source_range> arg_name_ranges;
};

struct block;

/// One `name: value`, `name { ... }` or bare `name` line inside a block.
struct entry {
  std::string name;
  source_range name_range;
  source_range range;
  expr_ptr value;                  ///< For `name: value`.
  std::shared_ptr<block> nested;   ///< For `name { ... }`.

  bool is_flag() const { return !value && !nested; }
};

struct block {
  source_range range;
  std::vector<entry> entries;
};

struct type_ref {
  std::string name;
  source_range range;
  std::shared_ptr<type_ref> element; ///< For `list<T>`.
};

struct import_decl {
  bool registry = false;
  std::string path;
  std::string raw; ///< The path's source spelling, quotes included.
  source_range path_range;
  source_range range;
};

struct model_decl {
  std::string name;
  source_range name_range;
  source_range range;
  block body;
};

struct router_decl {
  source_range range;
  block body;
};

struct input_decl {
  std::string name;
  source_range name_range;
  source_range range;
  type_ref type;
  expr_ptr default_value; ///< May be null.
};

struct output_decl {
  std::string name;
  source_range name_range;
  source_range range;
  type_ref type;
  expr_ptr value;
};

enum class step_kind { llm, tool, plan, call };

const char* to_string(step_kind k);

struct for_clause {
  std::string var;
  source_range var_range;
  expr_ptr list;
};

struct step_decl {
  step_kind kind = step_kind::llm;
  std::string name;
  source_range name_range;
  source_range range;
  std::optional<for_clause> each;
  block body;
};

using member = std::variant<input_decl, output_decl, step_decl, router_decl>;

struct workflow_decl {
  std::string name;
  source_range name_range;
  source_range range;
  std::vector<member> members;
};

using item = std::variant<import_decl, model_decl, router_decl, workflow_decl>;

/// A `#` comment, kept for the formatter.
struct comment {
  source_range range;
  std::string text; ///< Including the leading '#'.
};

struct file {
  uint32_t file_id = 0;
  std::vector<item> items;
  std::vector<comment> comments;
  source_range end; ///< Position of end of file.
};

} // namespace troupe::dsl::ast
