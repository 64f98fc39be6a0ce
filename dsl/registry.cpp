#include "dsl/registry.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <regex>
#include <set>

namespace troupe::dsl {

namespace {

source_range node_range(uint32_t file, const toml::source_region& src) {
  source_pos b{src.begin.line ? uint32_t(src.begin.line) : 1,
               src.begin.column ? uint32_t(src.begin.column) : 1};
  source_pos e{uint32_t(src.end.line), uint32_t(src.end.column)};
  if (e < b || e.line != b.line)
    e = {b.line, b.col + 1};
  return {file, b, e};
}

class registry_reader {
public:
  registry_reader(uint32_t file, diagnostics& diags) : file_(file), diags_(diags) {}

  std::vector<ir::model> read(const toml::table& root) {
    std::vector<ir::model> out;
    for (const auto& [key, node] : root) {
      if (key.str() != "models") {
        bad(node.source(), "unknown top-level key '" + std::string(key.str())
                             + "'; a registry holds [models.<name>] tables");
        continue;
      }
      const auto* models = node.as_table();
      if (!models) {
        bad(node.source(), "'models' must be a table of [models.<name>] entries");
        continue;
      }
      for (const auto& [name, entry] : *models) {
        const auto* t = entry.as_table();
        if (!t) {
          bad(entry.source(), "model '" + std::string(name.str()) + "' must be a table");
          continue;
        }
        if (auto m = read_model(std::string(name.str()), *t, name.source()))
          out.push_back(std::move(*m));
      }
    }
    return out;
  }

private:
  std::optional<ir::model> read_model(const std::string& name, const toml::table& t,
                                      const toml::source_region& at) {
    size_t before = diags_.error_count();
    ir::model m;
    m.name = name;
    m.name_range = node_range(file_, at);
    m.origin = "registry";
    static const std::regex ident("[A-Za-z_][A-Za-z_0-9]*");
    if (!std::regex_match(name, ident))
      bad(at, "model name '" + name + "' must be a valid name (letters, digits, '_')");
    static const std::set<std::string> keys = {
      "backend", "path", "url", "model", "key_env", "domains", "accuracy",
      "cost", "latency_ms", "context", "exit_threshold"};
    for (const auto& [k, v] : t)
      if (!keys.count(std::string(k.str())))
        bad(k.source(), "unknown key '" + std::string(k.str()) + "' in model '" + name + "'");
    auto backend = get_string(t, "backend", name);
    m.backend.range = m.name_range;
    if (!backend) {
      bad(at, "model '" + name + "' needs backend = \"gguf\" or \"openai\"");
    } else if (*backend == "gguf") {
      m.backend.kind = ir::backend::gguf;
      if (auto p = get_string(t, "path", name)) m.backend.path = *p;
      else bad(at, "gguf model '" + name + "' needs path = \"<file>.gguf\"");
    } else if (*backend == "openai") {
      m.backend.kind = ir::backend::openai;
      if (auto u = get_string(t, "url", name)) m.backend.url = *u;
      else bad(at, "openai model '" + name + "' needs url");
      if (auto u = get_string(t, "model", name)) m.backend.api_model = *u;
      else bad(at, "openai model '" + name + "' needs model = \"<name at the endpoint>\"");
      if (auto k = get_string(t, "key_env", name)) m.backend.key_env = *k;
    } else {
      bad(t["backend"].node()->source(), "backend must be \"gguf\" or \"openai\", not \""
                                            + *backend + "\"");
    }
    if (auto d = t["domains"]; d) {
      const auto* arr = d.as_array();
      if (!arr) bad(d.node()->source(), "domains must be an array of strings");
      else
        for (const auto& x : *arr) {
          if (auto s = x.value<std::string>()) m.domains.push_back(*s);
          else bad(x.source(), "domains must be an array of strings");
        }
    }
    auto num = [&](const char* key, auto& field, const char* prop) {
      if (auto n = t[key]; n) {
        auto v = n.value<double>();
        if (!v || !std::isfinite(*v) || std::fabs(*v) > 1e15) {
          bad(n.node()->source(), std::string(key) + " must be a finite number");
          return;
        }
        field = static_cast<std::decay_t<decltype(field)>>(*v);
        m.ranges[prop] = node_range(file_, n.node()->source());
      }
    };
    num("accuracy", m.accuracy, "accuracy");
    num("cost", m.cost_per_1k, "cost");
    num("latency_ms", m.latency_ms, "latency");
    num("context", m.context, "context");
    if (auto n = t["context"]; n && n.is_floating_point())
      bad(n.node()->source(), "context must be a whole number of tokens");
    if (auto n = t["exit_threshold"]; n) {
      if (auto v = n.value<double>()) {
        m.exit_threshold = *v;
        m.ranges["deliberation"] = node_range(file_, n.node()->source());
      } else {
        bad(n.node()->source(), "exit_threshold must be a number");
      }
    }
    if (diags_.error_count() != before)
      return std::nullopt;
    return m;
  }

  std::optional<std::string> get_string(const toml::table& t, const char* key,
                                        const std::string& model) {
    auto n = t[key];
    if (!n)
      return std::nullopt;
    if (auto s = n.value<std::string>())
      return s;
    bad(n.node()->source(), std::string(key) + " of model '" + model + "' must be a string");
    return std::nullopt;
  }

  void bad(const toml::source_region& at, const std::string& msg) {
    diags_.add(diag_code::E013, node_range(file_, at), msg);
  }

  uint32_t file_;
  diagnostics& diags_;
};

} // namespace

std::vector<ir::model> load_registry(const source_manager& sm, uint32_t file_id,
                                     diagnostics& diags) {
  const auto& f = sm.file(file_id);
  try {
    auto root = toml::parse(f.text, f.display);
    return registry_reader(file_id, diags).read(root);
  } catch (const toml::parse_error& e) {
    diags.add(diag_code::E012, node_range(file_id, e.source()),
              "invalid TOML: " + std::string(e.description()));
  }
  return {};
}

} // namespace troupe::dsl
