#include "dsl/compile.hpp"

#include "dsl/build_ir.hpp"
#include "dsl/check.hpp"
#include "dsl/parse.hpp"
#include "dsl/registry.hpp"

#include <algorithm>
#include <filesystem>

namespace troupe::dsl {

namespace {

namespace fs = std::filesystem;

// Loads the main file and, depth first, every file it imports.
class loader {
public:
  explicit loader(compilation& c) : c_(c) {}

  void load_main(const std::string& path, std::optional<std::string> text) {
    std::string body;
    if (text) {
      body = std::move(*text);
    } else if (!read_file(path, body)) {
      auto id = c_.sources.add(path, path, "");
      c_.diags.add(diag_code::E010, {id, {1, 1}, {1, 2}},
                   "cannot read '" + path + "'");
      return;
    }
    load_wf(normal(path), path, std::move(body));
  }

  std::vector<ir::model> registry_models;

private:
  static std::string normal(const std::string& p) {
    return fs::path(p).lexically_normal().generic_string();
  }

  void load_wf(const std::string& path, const std::string& display, std::string text) {
    auto id = c_.sources.add(path, display, std::move(text));
    stack_.push_back(path);
    auto file = parse(c_.sources, id, c_.diags);
    if (file) {
      size_t index = c_.files.size();
      c_.files.push_back(std::move(*file));
      // Copy: loading may grow c_.files.
      std::vector<ast::import_decl> imports;
      for (const auto& item : c_.files[index].items)
        if (auto* i = std::get_if<ast::import_decl>(&item))
          imports.push_back(*i);
      for (const auto& i : imports)
        load_import(path, i);
    }
    stack_.pop_back();
  }

  void load_import(const std::string& from, const ast::import_decl& i) {
    auto target = normal((fs::path(from).parent_path() / i.path).generic_string());
    if (std::find(stack_.begin(), stack_.end(), target) != stack_.end()) {
      std::string chain;
      for (auto it = std::find(stack_.begin(), stack_.end(), target); it != stack_.end(); ++it)
        chain += *it + " -> ";
      c_.diags.add(diag_code::E011, i.path_range, "import cycle: " + chain + target);
      return;
    }
    if (c_.sources.find(target) >= 0)
      return; // Already loaded through another import.
    std::string text;
    if (i.path.empty() || fs::is_directory(target) || !read_file(target, text)) {
      c_.diags.add(diag_code::E010, i.path_range,
                   "cannot read imported file '" + target + "'",
                   "paths are relative to the importing file's directory");
      return;
    }
    if (i.registry) {
      auto id = c_.sources.add(target, target, std::move(text));
      auto models = load_registry(c_.sources, id, c_.diags);
      registry_models.insert(registry_models.end(), models.begin(), models.end());
    } else {
      load_wf(target, target, std::move(text));
    }
  }

  compilation& c_;
  std::vector<std::string> stack_;
};

std::unique_ptr<compilation> run(const std::string& path, std::optional<std::string> text) {
  auto c = std::make_unique<compilation>();
  try {
    loader l(*c);
    l.load_main(path, std::move(text));
    if (!c->files.empty() && !c->diags.has_errors()) {
      std::vector<const ast::file*> files;
      for (const auto& f : c->files)
        files.push_back(&f);
      auto graph = build_ir(files, std::move(l.registry_models), c->diags);
      c->checked = check(std::move(graph), c->diags);
    }
  } catch (const std::exception& e) {
    // Defensive: no input should get here, but a compiler must not crash.
    c->checked.reset();
    auto id = c->sources.size() ? 0u : c->sources.add(path, path, "");
    c->diags.add(diag_code::E001, {id, {1, 1}, {1, 2}},
                 std::string("internal compiler error: ") + e.what());
  }
  c->diags.finalize(c->sources);
  return c;
}

} // namespace

std::unique_ptr<compilation> compile_file(const std::string& path) {
  return run(path, std::nullopt);
}

std::unique_ptr<compilation> compile_source(const std::string& display, std::string text) {
  return run(display, std::move(text));
}

} // namespace troupe::dsl
