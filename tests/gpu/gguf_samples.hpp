#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gpu/gguf/gguf_file.hpp"
#include "gpu/gguf/gguf_writer.hpp"

// Small GGUF files made with gguf_writer for the reader, writer and
// corruption tests and for the fuzzer's seed corpus, plus the real models.

namespace troupe::test {

/// `n` deterministic pseudo-random bytes for `seed`.
std::vector<unsigned char> random_bytes(size_t n, uint32_t seed);

/// A writer and the tensor bytes it points at (gguf_writer does not copy
/// tensor data, so both live together).
struct gguf_sample {
  gpu::gguf_writer writer;
  std::vector<std::vector<unsigned char>> data;

  /// Adds a tensor of random bytes of the right size for type and shape.
  void tensor(const std::string& name, gpu::ggml_type type,
              const std::vector<int64_t>& ne, uint32_t seed);
};

/// Kinds of sample: every metadata type with a few tensors; a tiny
/// llama-shaped model (vocabulary, hyperparameters, weights in several
/// quantized types); deep arrays with general.alignment = 64; metadata
/// only; a header with nothing after it.
enum class sample_kind { all_types, tiny_llama, aligned_64, metadata_only, empty };

/// The sample of `kind`; all are well under 20 KB.
std::unique_ptr<gguf_sample> make_sample(sample_kind kind);

/// Every sample kind, with a file name for the seed corpus.
std::vector<std::pair<sample_kind, std::string>> sample_kinds();

/// Parses `bytes` with gguf_file::from_bytes under the name "test.gguf".
base::result<gpu::gguf_file, gpu::gguf_error>
parse(const std::vector<unsigned char>& bytes);

/// SmolLM2-135M-Instruct.Q4_1.gguf in the repository's models/ (put there
/// by scripts/setup), or an empty path when absent.
std::filesystem::path smollm2_path();

} // namespace troupe::test
