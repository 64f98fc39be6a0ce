#pragma once

#include "dsl/diagnostics.hpp"
#include "dsl/ir.hpp"
#include "dsl/source.hpp"

#include <vector>

namespace troupe::dsl {

/// Reads a TOML model registry (file `file_id` of `sm`):
///
///   [models.small]
///   backend = "gguf"            # or "openai"
///   path = "stories260K.gguf"   # gguf: file in the models directory
///   url = "https://host/v1"     # openai: endpoint, with model and key_env
///   domains = ["stories"]
///   accuracy = 0.4
///   cost = 0.0                  # per 1K tokens
///   latency_ms = 50
///   context = 512
///   exit_threshold = 0.9
///
/// TOML syntax errors are E012 and bad entries E013, each at its line and
/// column; valid entries are returned even when others are bad.
std::vector<ir::model> load_registry(const source_manager& sm, uint32_t file_id,
                                     diagnostics& diags);

} // namespace troupe::dsl
