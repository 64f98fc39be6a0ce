#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.hpp"

// Where troupe finds model files. One setting decides, in this order:
//   1. the environment variable TROUPE_MODELS_DIR, when set and not empty;
//   2. key `paths.models` in troupe.toml (the file given in
//      model_paths_options, else ./troupe.toml when it exists), a path
//      relative to the directory holding that troupe.toml;
//   3. the defaults: ./models, then the repository's models/ (where
//      scripts/setup puts them).
// The first of 1 and 2 that is set is the only place searched; 3 is used
// only when neither is set.

namespace troupe::runtime {

using base::result;

/// Which setting chose a models directory.
enum class models_dir_origin { environment, config_file, default_location };

/// One directory to search for models, with the setting that named it.
struct models_dir {
  std::filesystem::path path;
  models_dir_origin origin = models_dir_origin::default_location;
  /// Human-readable origin: "TROUPE_MODELS_DIR", "<file> paths.models", ...
  std::string origin_text;
};

/// Why a model (or the models setting) could not be resolved. `message`
/// names what was wanted, every place looked, and how to fix it.
struct model_path_error {
  std::string message;
  /// Every file path tried, in order; empty for configuration errors.
  std::vector<std::filesystem::path> searched;
};

/// Inputs to the search besides the environment.
struct model_paths_options {
  /// troupe.toml to read. Empty: ./troupe.toml when it exists. A non-empty
  /// path that does not exist is an error.
  std::filesystem::path config_file;
};

/// The directories to search, in order, following the precedence above.
/// Reads TROUPE_MODELS_DIR and the config file on every call (no caching).
/// Returns model_path_error for an unreadable or malformed troupe.toml
/// (with its line and column) or a `paths.models` that is not a string.
/// Not thread-safe against concurrent setenv().
result<std::vector<models_dir>, model_path_error>
models_dir_candidates(const model_paths_options& options = {});

/// Resolves a model file name such as "stories260K.gguf" to an existing
/// regular file in the first candidate directory that has it. A name with a
/// directory part ("./x.gguf", "/abs/x.gguf") is taken as a path and only
/// checked for existence. Returns model_path_error listing every path tried
/// when none exists. Does not validate the file's content (see
/// gpu::gguf_file).
result<std::filesystem::path, model_path_error>
model_path_resolve(std::string_view name,
                   const model_paths_options& options = {});

} // namespace troupe::runtime
