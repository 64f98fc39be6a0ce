#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace troupe::gpu {

/// How one request picks its next token. Defaults are greedy decoding.
struct sampling_params {
  float temperature = 0.f;    ///< <= 0: greedy (argmax, lowest id on ties).
  int top_k = 0;              ///< Keep the k most likely; 0 keeps all.
  float top_p = 1.f;          ///< Keep the smallest set with mass >= p.
  float min_p = 0.f;          ///< Drop tokens below min_p * p(best).
  float repeat_penalty = 1.f; ///< > 1 discourages recently seen tokens.
  int repeat_last_n = 64;     ///< How many recent tokens the penalty sees.
  uint64_t seed = 0;          ///< Same seed, same prompt: same output.
};

/// Chooses tokens from logits: repetition penalty, temperature, top-k,
/// top-p, min-p, then a draw from the seeded generator. Owns the random
/// state of one request (forks copy it). Not thread-safe.
class sampler {
public:
  explicit sampler(const sampling_params& p);

  /// Picks a token from `logits` [n_vocab] (modified in place), given the
  /// tokens seen so far. Sets `logprob` to the chosen token's
  /// log-probability under the distribution it was drawn from.
  int32_t sample(float* logits, int n_vocab, const std::vector<int32_t>& history,
                 float& logprob);

  const sampling_params& params() const { return p_; }

private:
  sampling_params p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

} // namespace troupe::gpu
