#include "runtime/model_paths.hpp"

#include <cstdlib>
#include <optional>
#include <sstream>
#include <system_error>

#include <toml++/toml.h>

namespace troupe::runtime {

namespace {

namespace fs = std::filesystem;

constexpr const char* env_var = "TROUPE_MODELS_DIR";
constexpr const char* default_config = "troupe.toml";

const char* fix_hint() {
  return "set TROUPE_MODELS_DIR, or paths.models in troupe.toml, or run "
         "scripts/setup to fetch the models into the repository's models/";
}

bool file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The models directory named by `config`, if it sets paths.models.
result<std::optional<models_dir>, model_path_error>
dir_from_config(const fs::path& config) {
  toml::table table;
  try {
    table = toml::parse_file(config.string());
  } catch (const toml::parse_error& err) {
    std::ostringstream msg;
    msg << config.string() << ":" << err.source().begin.line << ":"
        << err.source().begin.column << ": error: " << err.description();
    return model_path_error{msg.str(), {}};
  }
  const toml::node* node = table.at_path("paths.models").node();
  if (node == nullptr)
    return std::optional<models_dir>{};
  const auto* value = node->as_string();
  if (value == nullptr) {
    std::ostringstream msg;
    msg << config.string() << ":" << node->source().begin.line << ":"
        << node->source().begin.column
        << ": error: paths.models must be a string (a directory path)";
    return model_path_error{msg.str(), {}};
  }
  fs::path dir{value->get()};
  if (dir.is_relative())
    dir = config.parent_path() / dir;
  return std::optional<models_dir>{models_dir{
    dir.lexically_normal(), models_dir_origin::config_file,
    config.string() + " paths.models"}};
}

// Current directory, or "." when it cannot be determined (deleted cwd).
fs::path current_dir() {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  return ec ? fs::path{"."} : cwd;
}

std::vector<models_dir> default_dirs() {
  std::vector<models_dir> dirs;
  const fs::path local = current_dir() / "models";
  dirs.push_back({local, models_dir_origin::default_location,
                  "default ./models"});
#ifdef TROUPE_DEFAULT_MODELS_DIR
  const fs::path repo{TROUPE_DEFAULT_MODELS_DIR};
  std::error_code ec;
  if (local.lexically_normal() != repo.lexically_normal()
      && !fs::equivalent(local, repo, ec))
    dirs.push_back({repo, models_dir_origin::default_location,
                    "default repository models/"});
#endif
  return dirs;
}

std::string not_found_message(std::string_view name,
                              const std::vector<models_dir>& dirs) {
  std::ostringstream msg;
  msg << "model '" << name << "' not found; looked in:\n";
  for (const auto& dir : dirs)
    msg << "  " << (dir.path / fs::path{name}).string() << "  ("
        << dir.origin_text << ")\n";
  msg << "fix: " << fix_hint();
  return msg.str();
}

} // namespace

result<std::vector<models_dir>, model_path_error>
models_dir_candidates(const model_paths_options& options) {
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0')
    return std::vector<models_dir>{
      {fs::path{env}, models_dir_origin::environment, env_var}};
  fs::path config = options.config_file;
  if (!config.empty() && !file_exists(config))
    return model_path_error{"config file " + config.string()
                              + " does not exist or is not a regular file",
                            {}};
  if (config.empty() && file_exists(default_config))
    config = current_dir() / default_config;
  if (!config.empty()) {
    auto from_config = dir_from_config(config);
    if (!from_config)
      return from_config.error();
    if (from_config.value())
      return std::vector<models_dir>{*from_config.value()};
  }
  return default_dirs();
}

result<fs::path, model_path_error>
model_path_resolve(std::string_view name, const model_paths_options& options) {
  const fs::path as_path{name};
  if (name.empty())
    return model_path_error{"empty model name; " + std::string{fix_hint()},
                            {}};
  if (as_path.has_parent_path()) {
    if (file_exists(as_path))
      return as_path;
    return model_path_error{"model file " + as_path.string()
                              + " does not exist or is not a regular file",
                            {as_path}};
  }
  auto dirs = models_dir_candidates(options);
  if (!dirs)
    return dirs.error();
  std::vector<fs::path> searched;
  for (const auto& dir : dirs.value()) {
    fs::path candidate = dir.path / as_path;
    if (file_exists(candidate))
      return candidate;
    searched.push_back(std::move(candidate));
  }
  return model_path_error{not_found_message(name, dirs.value()),
                          std::move(searched)};
}

} // namespace troupe::runtime
