#pragma once

#include "gpu/ggml_type.hpp"
#include "gpu/model/model_load.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::gpu {

using base::result;

/// A Llama shape for synthesized models (llama2.c's TinyStories family and
/// a tiny one for tests).
struct synth_shape {
  std::string name;
  int dim;
  int n_layers;
  int n_heads;
  int n_kv_heads;
  int hidden;
  int vocab;
  int context;
};

/// "tiny", "15m", "42m", "110m".
const std::vector<synth_shape>& synth_shapes();
const synth_shape* synth_shape_find(const std::string& name);

/// Writes a valid GGUF v3 Llama model of `shape` with random weights
/// (normal, std 0.02; norms near 1) quantized to `type`, with the standard
/// tensor names and metadata and a synthetic SentencePiece vocabulary
/// (<unk>, <s>, </s>, 256 byte tokens, then generated pieces), so llama.cpp
/// and other GGUF tools load it. Norm vectors stay F32. Deterministic for a
/// seed. Returns the bytes written.
result<uint64_t, model_error> synth_model(const synth_shape& shape, ggml_type type,
                                          const std::string& path, uint64_t seed = 1);

} // namespace troupe::gpu
