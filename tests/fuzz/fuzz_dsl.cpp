// Fuzzes the whole front end: compile, dump, DOT, and the formatter's
// promises (formatted text parses, and formatting it again changes nothing).
#include "dsl/compile.hpp"
#include "dsl/dot.hpp"
#include "dsl/format.hpp"
#include "dsl/ir_dump.hpp"
#include "dsl/parse.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace troupe::dsl;

namespace {

std::optional<std::string> format_text(const std::string& text) {
  source_manager sm;
  diagnostics diags;
  auto id = sm.add("fuzz.wf", "fuzz.wf", text);
  auto ast = parse(sm, id, diags);
  if (!ast)
    return std::nullopt;
  return format_file(*ast, sm.file(id));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024)
    return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("import") != std::string::npos)
    return 0; // Imports read the file system; covered by golden cases.
  auto c = compile_source("fuzz.wf", text);
  (void) c->report();
  if (c->ok()) {
    (void) ir_dump(*c->checked);
    (void) to_dot(*c->checked);
  }
  if (auto once = format_text(text)) {
    auto twice = format_text(*once);
    if (!twice || *twice != *once) {
      std::fprintf(stderr, "formatter is not idempotent on:\n%s\n", text.c_str());
      std::abort();
    }
  }
  return 0;
}
