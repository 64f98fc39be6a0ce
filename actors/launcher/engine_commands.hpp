#pragma once

#include <string>
#include <vector>

namespace troupe::launcher {

struct generate_options {
  std::string model;        ///< A file name resolved in the models directory, or a path.
  std::string prompt;
  int max_tokens = 128;
  float temperature = 0.f;
  int top_k = 0;
  float top_p = 1.f;
  float min_p = 0.f;
  float repeat_penalty = 1.f;
  unsigned long long seed = 0;
  int threads = 1;
  std::string device = "auto"; ///< auto, cpu, cuda or cuda:N.
  bool chat = false;
  std::string system;       ///< With --chat: a system message.
  std::string chat_format;  ///< With --chat: override the template (chatml, llama2, plain).
  std::vector<std::string> stop;
};

/// `troupe generate`: streams only the generated text to stdout and
/// statistics to stderr. Returns 0, or 1 when the model cannot be found or
/// loaded, or the requested device cannot run it (the reason on stderr).
int cmd_generate(const generate_options& o);

/// `troupe model synth --shape NAME --type TYPE -o FILE`: writes a GGUF
/// Llama model with random weights. Returns 0, or 1 with the reason.
int cmd_model_synth(const std::string& shape, const std::string& type,
                    const std::string& out, unsigned long long seed);

} // namespace troupe::launcher
