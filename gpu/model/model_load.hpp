#pragma once

#include "gpu/engine/engine.hpp"
#include "gpu/gguf/gguf_file.hpp"
#include "gpu/tokenizer/vocab.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/result.hpp"

#include <memory>
#include <string>

namespace troupe::gpu {

using base::result;

/// Why a model could not be loaded (or synthesized): `path` is the file and
/// `message` what is wrong with it, without the path (an unsupported
/// architecture, a missing or misshapen tensor, bad hyperparameters; for a
/// GGUF defect "field 'X': ..." with `offset` set). to_string() prints
/// "PATH: message" or "PATH: byte N: field 'X': ...".
using model_error = base::error;

/// Maps the GGUF file at `path` and prepares it for the engine: checks the
/// architecture is Llama, reads hyperparameters, binds and shape-checks
/// every tensor (weights stay in the mapping) and builds the tokenizer.
/// Never throws for any file content.
result<std::shared_ptr<const engine_model>, model_error> load_model(const std::string& path);

/// The same for a file already opened.
result<std::shared_ptr<const engine_model>, model_error>
load_model(std::shared_ptr<const gguf_file> file);

/// The tokenizer vocabulary from a GGUF file's tokenizer.ggml.* keys.
result<vocab, model_error> vocab_from_gguf(const gguf_file& f);

} // namespace troupe::gpu
