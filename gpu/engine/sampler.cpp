#include "gpu/engine/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace troupe::gpu {

sampler::sampler(const sampling_params& p) : p_(p), rng_(p.seed) {}

namespace {

void apply_repeat_penalty(float* logits, const std::vector<int32_t>& history, int n_vocab,
                          float penalty, int last_n) {
  if (penalty == 1.f || last_n <= 0)
    return;
  std::unordered_set<int32_t> seen;
  size_t from = history.size() > size_t(last_n) ? history.size() - size_t(last_n) : 0;
  for (size_t i = from; i < history.size(); ++i)
    if (history[i] >= 0 && history[i] < n_vocab && seen.insert(history[i]).second) {
      float& l = logits[history[i]];
      l = l > 0 ? l / penalty : l * penalty;
    }
}

// log softmax of logits[chosen] over all n (numerically stable).
float log_softmax_at(const float* logits, int n, int32_t chosen) {
  float top = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int i = 0; i < n; ++i)
    sum += std::exp(double(logits[i] - top));
  return float(double(logits[chosen] - top) - std::log(sum));
}

} // namespace

int32_t sampler::sample(float* logits, int n_vocab, const std::vector<int32_t>& history,
                        float& logprob) {
  apply_repeat_penalty(logits, history, n_vocab, p_.repeat_penalty, p_.repeat_last_n);
  if (p_.temperature <= 0.f) {
    int32_t best = static_cast<int32_t>(std::max_element(logits, logits + n_vocab) - logits);
    logprob = log_softmax_at(logits, n_vocab, best);
    return best;
  }
  auto& c = candidates_;
  c.clear();
  c.reserve(size_t(n_vocab));
  for (int i = 0; i < n_vocab; ++i)
    c.emplace_back(logits[i] / p_.temperature, i);
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t k = p_.top_k > 0 ? std::min<size_t>(size_t(p_.top_k), c.size()) : c.size();
  std::partial_sort(c.begin(), c.begin() + long(k), c.end(), by_logit);
  c.resize(k);
  // Softmax over the survivors, then top-p and min-p cuts.
  double sum = 0;
  const float top = c.front().first;
  for (auto& [l, id] : c) {
    l = std::exp(l - top);
    sum += l;
  }
  for (auto& [p, id] : c)
    p = float(p / sum);
  size_t keep = c.size();
  if (p_.top_p < 1.f) {
    double mass = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      mass += c[i].first;
      if (mass >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0.f) {
    float floor = p_.min_p * c.front().first;
    size_t n = 0;
    while (n < keep && c[n].first >= floor)
      ++n;
    keep = std::max<size_t>(1, n);
  }
  c.resize(keep);
  double kept = 0;
  for (const auto& [p, id] : c)
    kept += p;
  std::uniform_real_distribution<double> uni(0.0, kept);
  double r = uni(rng_), acc = 0;
  for (const auto& [p, id] : c) {
    acc += p;
    if (r < acc) {
      logprob = float(std::log(p / kept));
      return id;
    }
  }
  logprob = float(std::log(c.back().first / kept));
  return c.back().second;
}

} // namespace troupe::gpu
