// engine_bench: end-to-end decoding figures for docs/benchmarks.md.
//
//   build/bin/engine_bench [--quick] [--models DIR] [--smollm FILE]
//
// Synthesizes the 15M, 42M and 110M Llama shapes at Q8_0 and Q4_0 into DIR
// (default build/bench-models, reused when present), then prints:
//   1. single-stream decode tokens/s with 1 and 2 threads (128 tokens after
//      a 16-token prompt), for each model and SmolLM2-135M Q4_1 if found;
//   2. aggregate decode tokens/s with 1, 4 and 16 concurrent streams (42M
//      Q8_0) and the KV slots wasted meanwhile;
//   3. a prefix-shared workload: 16 requests sharing a 512-token prefix,
//      with and without prefix caching: prompt tokens computed and mean
//      time to first token;
//   4. peak resident memory.
// --quick runs fewer tokens and only the 15M shape (a smoke test).
#include "gpu/cpu/matmul.hpp"
#include "gpu/engine/engine.hpp"
#include "gpu/model/model_load.hpp"
#include "gpu/model/model_synth.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace troupe::gpu;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

double since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

std::vector<int32_t> prompt_tokens(int n, int salt) {
  std::vector<int32_t> p{1};
  for (int i = 1; i < n; ++i)
    p.push_back(300 + (i * 13 + salt * 101) % 20000);
  return p;
}

struct decode_result {
  double tokens_per_s = 0;
  double waste = 0;
};

// Runs `streams` requests of `n_gen` tokens at once; decode rate counts
// tokens after each stream's first, over the time after the last prefill.
decode_result decode(const std::shared_ptr<const engine_model>& m, int threads, int streams,
                     int n_gen) {
  engine_options o;
  o.threads = threads;
  o.kv_bytes = size_t(256) << 20;
  engine e(m, o);
  int first_tokens = 0;
  int64_t tokens = 0;
  clock_type::time_point decode_start;
  for (int s = 0; s < streams; ++s) {
    generation_request r;
    r.prompt = prompt_tokens(16, s);
    r.max_tokens = n_gen;
    r.ignore_eos = true;
    e.submit(r, [&](const token_event& ev) {
      if (ev.token < 0)
        return;
      if (++tokens > 0 && ev.token >= 0 && first_tokens < streams) {
        if (++first_tokens == streams)
          decode_start = clock_type::now();
      }
    });
  }
  decode_result r;
  int64_t at_start = 0;
  int steps = 0;
  while (e.step()) {
    if (first_tokens == streams && at_start == 0)
      at_start = tokens;
    r.waste += e.stats().blocks.waste();
    ++steps;
  }
  r.waste /= std::max(1, steps);
  double t = since(decode_start);
  r.tokens_per_s = t > 0 ? double(tokens - at_start) / t : 0;
  return r;
}

void prefix_shared(const std::shared_ptr<const engine_model>& m, bool caching) {
  engine_options o;
  o.prefix_caching = caching;
  o.kv_bytes = size_t(256) << 20;
  o.max_batch_tokens = 512;
  engine e(m, o);
  auto shared = prompt_tokens(512, 7);
  double ttft_sum = 0;
  int n = 0;
  auto submit = [&](int i) {
    generation_request r;
    r.prompt = shared;
    for (int k = 0; k < 8; ++k)
      r.prompt.push_back(400 + i * 8 + k);
    r.max_tokens = 1;
    r.ignore_eos = true;
    auto t0 = clock_type::now();
    e.submit(r, [&, t0](const token_event& ev) {
      if (ev.token >= 0) {
        ttft_sum += since(t0);
        ++n;
      }
    });
  };
  submit(0); // The first request computes the prefix...
  e.run();
  for (int i = 1; i < 16; ++i) // ...the other fifteen arrive after it.
    submit(i);
  e.run();
  auto st = e.stats();
  std::printf("| %s | %lld | %.1f ms | %.1f%% |\n", caching ? "on" : "off",
              (long long)st.prefill_tokens, 1e3 * ttft_sum / std::max(1, n),
              100 * st.blocks.prefix_hit_rate());
}

std::shared_ptr<const engine_model> load(const std::string& path) {
  auto m = load_model(path);
  if (!m) {
    std::fprintf(stderr, "engine_bench: %s\n", m.error().to_string().c_str());
    std::exit(1);
  }
  return m.value();
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string dir = "build/bench-models";
  std::string smollm = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--models") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--smollm") && i + 1 < argc) smollm = argv[++i];
  }
  fs::create_directories(dir);
  const int n_gen = quick ? 32 : 128;
  std::vector<std::string> shapes = quick ? std::vector<std::string>{"15m"}
                                          : std::vector<std::string>{"15m", "42m", "110m"};
  std::printf("engine_bench: SIMD %s, %s\n\n", cpu::simd_level(), quick ? "quick" : "full");
  std::printf("## Single-stream decode (tokens/s, %d tokens after a 16-token prompt)\n\n", n_gen);
  std::printf("| model | type | 1 thread | 2 threads |\n|---|---|---|---|\n");
  for (const auto& shape : shapes) {
    for (auto type : {ggml_type::q8_0, ggml_type::q4_0}) {
      std::string name = ggml_traits(uint32_t(type))->name.data();
      std::string path = dir + "/synth-" + shape + "-" + name + ".gguf";
      if (!fs::exists(path)) {
        auto w = synth_model(*synth_shape_find(shape), type, path);
        if (!w) {
          std::fprintf(stderr, "engine_bench: %s\n", w.error().to_string().c_str());
          return 1;
        }
      }
      auto m = load(path);
      double t1 = decode(m, 1, 1, n_gen).tokens_per_s, t2 = decode(m, 2, 1, n_gen).tokens_per_s;
      std::printf("| %s | %s | %.0f | %.0f |\n", shape.c_str(), name.c_str(), t1, t2);
    }
  }
  if (fs::exists(smollm)) {
    auto m = load(smollm);
    std::printf("| SmolLM2-135M | Q4_1 | %.0f | %.0f |\n", decode(m, 1, 1, n_gen).tokens_per_s,
                decode(m, 2, 1, n_gen).tokens_per_s);
  }
  std::string agg_shape = quick ? "15m" : "42m";
  auto agg = load(dir + "/synth-" + agg_shape + "-Q8_0.gguf");
  std::printf("\n## Aggregate decode, %s Q8_0 (tokens/s over all streams)\n\n", agg_shape.c_str());
  std::printf("| streams | 1 thread | 2 threads | KV waste (mean over steps) |\n|---|---|---|---|\n");
  for (int streams : {1, 4, 16}) {
    auto a = decode(agg, 1, streams, n_gen / 2), b = decode(agg, 2, streams, n_gen / 2);
    std::printf("| %d | %.0f | %.0f | %.1f%% |\n", streams, a.tokens_per_s, b.tokens_per_s,
                100 * std::max(a.waste, b.waste));
  }
  std::printf("\n## Prefix-shared workload, %s Q8_0: 16 requests, 512-token shared prefix\n\n",
              agg_shape.c_str());
  std::printf("| prefix caching | prompt tokens computed | mean time to first token | "
              "prefix hit rate |\n|---|---|---|---|\n");
  prefix_shared(agg, false);
  prefix_shared(agg, true);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("\npeak resident memory: %.1f MB\n", double(ru.ru_maxrss) / 1024.0);
  return 0;
}
