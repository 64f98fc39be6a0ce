#include "actors/launcher/dsl_commands.hpp"

#include "dsl/compile.hpp"
#include "dsl/dot.hpp"
#include "dsl/format.hpp"
#include "dsl/ir_dump.hpp"
#include "dsl/parse.hpp"
#include "runtime/base/atomic_write.hpp"

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace troupe::launcher {

namespace {

bool use_color() { return isatty(fileno(stderr)) && !std::getenv("NO_COLOR"); }

// Colors the "error[...]"/"warning[...]" words of a rendered report.
std::string colorize(std::string text) {
  if (!use_color())
    return text;
  auto paint = [&](const std::string& word, const char* code) {
    for (size_t at = text.find(word); at != std::string::npos;
         at = text.find(word, at + word.size() + 12)) {
      text.insert(at + word.size(), "\033[0m");
      text.insert(at, code);
    }
  };
  paint(": error[", "\033[1;31m");
  paint(": warning[", "\033[1;33m");
  return text;
}

size_t step_count(const dsl::checked_graph& g) {
  size_t n = 0;
  for (const auto& w : g.graph().workflows)
    n += w.steps.size();
  return n;
}

} // namespace

int cmd_check(const std::vector<std::string>& files, bool dump_ir) {
  int status = 0;
  for (const auto& f : files) {
    auto c = dsl::compile_file(f);
    std::cerr << colorize(c->report());
    if (!c->ok()) {
      status = 1;
      continue;
    }
    const auto& g = *c->checked;
    std::cerr << f << ": ok (" << g.graph().workflows.size() << " workflow"
              << (g.graph().workflows.size() == 1 ? "" : "s") << ", " << step_count(g)
              << " step" << (step_count(g) == 1 ? "" : "s") << ")\n";
    if (dump_ir)
      std::cout << dsl::ir_dump(g);
  }
  return status;
}

int cmd_fmt(const std::vector<std::string>& files, bool check_only) {
  int status = 0;
  for (const auto& f : files) {
    dsl::source_manager sm;
    dsl::diagnostics diags;
    std::string text;
    if (!dsl::read_file(f, text)) {
      std::cerr << f << ": error: cannot read the file\n";
      status = 1;
      continue;
    }
    auto id = sm.add(f, f, text);
    auto ast = dsl::parse(sm, id, diags);
    if (!ast) {
      diags.finalize(sm);
      std::cerr << colorize(diags.render(sm)) << f << ": not formatted: fix the errors first\n";
      status = 1;
      continue;
    }
    auto formatted = dsl::format_file(*ast, sm.file(id));
    if (formatted == text)
      continue;
    if (check_only) {
      std::cerr << f << ": not formatted (run 'troupe fmt " << f << "')\n";
      status = 1;
    } else if (auto err = base::atomic_write(f, formatted)) {
      std::cerr << f << ": error: cannot write the formatted file: " << err->message << "\n";
      status = 1;
    } else {
      std::cerr << f << ": formatted\n";
    }
  }
  return status;
}

int cmd_graph(const std::string& file) {
  auto c = dsl::compile_file(file);
  std::cerr << colorize(c->report());
  if (!c->ok())
    return 1;
  std::cout << dsl::to_dot(*c->checked);
  return 0;
}

} // namespace troupe::launcher
