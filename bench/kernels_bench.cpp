// kernels_bench: weight streaming (GB/s) and GFLOP/s of troupe's CPU matmul
// on the matmul shapes of small Llama models, per weight type, SIMD level,
// thread count and batch size.
//
//   kernels_bench [--model 42m|110m] [--types q8_0,q4_0,...]
//                 [--levels scalar,avx2,avx512] [--threads 1,2]
//                 [--tokens 1,4,16] [--seconds S]
//
// One "step" runs every matmul of one forward pass over n_tokens (all
// layers' q, k, v, o, gate, up, down and the classifier), each layer with
// its own weights, so weights stream from memory as in real decoding and
// tok/s is the bound matmuls alone put on the engine. Each figure is the
// best of three timed runs of at least S seconds (default 0.3).

#include "gpu/cpu/kernels.hpp"
#include "gpu/cpu/matmul.hpp"
#include "gpu/cpu/thread_pool.hpp"
#include "gpu/ggml_type.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace cpu = troupe::gpu::cpu;
using troupe::gpu::ggml_type;

namespace {

struct model_shape {
  const char* name;
  int64_t dim, hidden, layers, vocab;
};

const model_shape models[] = {
  {"42m", 512, 1376, 8, 32000},
  {"110m", 768, 2048, 12, 32000},
};

// The matmuls of one layer (the classifier is added once), as
// rows x cols = out x in.
enum class shape_kind { attn, ffn_up, ffn_down, classifier };
const char* const kind_names[] = {"attn", "ffn_up", "ffn_down", "classifier"};

struct matrix {
  shape_kind kind;
  cpu::weight_view view;
};

struct options {
  const model_shape* model = &models[0];
  std::vector<std::string> types = {"q8_0", "q4_0", "q4_1", "q4_k", "q6_k", "f16", "bf16", "f32"};
  std::vector<std::string> levels = {"scalar", "avx2", "avx512"};
  std::vector<int> threads = {1, 2};
  std::vector<int> tokens = {1, 4, 16};
  double seconds = 0.3;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    out.push_back(item);
  return out;
}

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> out;
  for (const auto& item : split(s))
    out.push_back(std::atoi(item.c_str()));
  return out;
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc)
      return false;
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--model") {
      o.model = nullptr;
      for (const auto& m : models)
        if (v == m.name)
          o.model = &m;
      if (!o.model)
        return false;
    } else if (a == "--types") {
      o.types = split(v);
    } else if (a == "--levels") {
      o.levels = split(v);
    } else if (a == "--threads") {
      o.threads = split_ints(v);
    } else if (a == "--tokens") {
      o.tokens = split_ints(v);
    } else if (a == "--seconds") {
      o.seconds = std::atof(v.c_str());
    } else {
      return false;
    }
  }
  return true;
}

// K-quants need columns in multiples of 256; the FFN width is rounded up
// for them (1376 -> 1536), as a k-quant model of this shape would have to.
int64_t hidden_for(const model_shape& m, ggml_type t) {
  const int64_t block = troupe::gpu::ggml_traits(static_cast<uint32_t>(t))->block_size;
  return (m.hidden + block - 1) / block * block;
}

// Quantized weights of every matrix of the model, one allocation each.
struct model_weights {
  std::vector<std::vector<uint8_t>> storage;
  std::vector<matrix> matrices;
  size_t bytes = 0;
  double flops_per_token = 0;
  int64_t max_width = 0;

  model_weights(const model_shape& m, ggml_type t) {
    const int64_t hidden = hidden_for(m, t);
    max_width = hidden > m.vocab ? hidden : m.vocab;
    std::vector<float> row;
    uint64_t state = 0x9E3779B97F4A7C15ull;
    const auto add = [&](shape_kind k, int64_t rows, int64_t cols) {
      const size_t row_bytes = troupe::gpu::ggml_row_size(t, cols);
      storage.emplace_back(row_bytes * rows);
      row.resize(cols);
      for (int64_t r = 0; r < rows; ++r) {
        for (auto& v : row) {
          state ^= state << 13, state ^= state >> 7, state ^= state << 17;
          v = static_cast<float>(static_cast<int64_t>(state % 2001) - 1000) * 1e-3f;
        }
        cpu::quantize_row(t, row.data(), storage.back().data() + r * row_bytes, cols);
      }
      matrices.push_back({k, {t, rows, cols, row_bytes, storage.back().data()}});
      bytes += row_bytes * rows;
      flops_per_token += 2.0 * rows * cols;
    };
    for (int64_t l = 0; l < m.layers; ++l) {
      for (int i = 0; i < 4; ++i)
        add(shape_kind::attn, m.dim, m.dim);
      add(shape_kind::ffn_up, hidden, m.dim);
      add(shape_kind::ffn_up, hidden, m.dim);
      add(shape_kind::ffn_down, m.dim, hidden);
    }
    add(shape_kind::classifier, m.vocab, m.dim);
  }
};

using clock_type = std::chrono::steady_clock;

struct timing {
  double step = 0;     // seconds per step
  double by_kind[4] = {}; // seconds per step in each shape kind
};

timing run_steps(const model_weights& w, const cpu::kernel_set& ks, cpu::thread_pool& pool,
                 int n_tokens, double seconds) {
  std::vector<float> x(static_cast<size_t>(n_tokens * w.max_width), 0.5f);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  timing best;
  best.step = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    timing t;
    int steps = 0;
    const auto start = clock_type::now();
    do {
      for (const matrix& m : w.matrices) {
        const auto s = clock_type::now();
        cpu::matmul_with(ks, m.view, x.data(), n_tokens, y.data(), pool);
        t.by_kind[static_cast<int>(m.kind)] +=
          std::chrono::duration<double>(clock_type::now() - s).count();
      }
      ++steps;
    } while (std::chrono::duration<double>(clock_type::now() - start).count() < seconds);
    t.step = std::chrono::duration<double>(clock_type::now() - start).count() / steps;
    for (double& k : t.by_kind)
      k /= steps;
    if (t.step < best.step)
      best = t;
  }
  return best;
}

// What plain reading of `bytes` bytes sustains right now with `pool`: the
// ceiling the GB/s column is up against (and a gauge of how busy the
// machine is while the benchmark runs).
double read_bandwidth(size_t bytes, cpu::thread_pool& pool, double seconds) {
  std::vector<uint64_t> buf(bytes / sizeof(uint64_t), 1);
  std::vector<uint64_t> sums(pool.size() * 8, 0);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    int passes = 0;
    const auto start = clock_type::now();
    do {
      pool.parallel_for(static_cast<int64_t>(buf.size() / 8), [&](int64_t b, int64_t e, int t) {
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int64_t i = b * 8; i < e * 8; i += 4) {
          s0 += buf[i];
          s1 += buf[i + 1];
          s2 += buf[i + 2];
          s3 += buf[i + 3];
        }
        sums[t * 8] += s0 + s1 + s2 + s3;
      });
      ++passes;
    } while (std::chrono::duration<double>(clock_type::now() - start).count() < seconds);
    const double dt = std::chrono::duration<double>(clock_type::now() - start).count();
    const double gbs = static_cast<double>(bytes) * passes / dt * 1e-9;
    best = gbs > best ? gbs : best;
  }
  return sums[0] == 42 ? 0 : best; // keeps the sums alive
}

cpu::simd level_from_name(const std::string& s) {
  return s == "avx512" ? cpu::simd::avx512 : s == "avx2" ? cpu::simd::avx2 : cpu::simd::scalar;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: kernels_bench [--model 42m|110m] [--types q8_0,...] "
                         "[--levels scalar,avx2,avx512] [--threads 1,2] [--tokens 1,4,16] "
                         "[--seconds S]\n");
    return 2;
  }
  const model_shape& m = *o.model;
  std::printf("model %s: dim %lld, hidden %lld, %lld layers, vocab %lld; active simd %s\n",
              m.name, static_cast<long long>(m.dim), static_cast<long long>(m.hidden),
              static_cast<long long>(m.layers), static_cast<long long>(m.vocab),
              cpu::simd_level());
  std::printf("%-5s %-6s %3s %4s %9s %8s %9s %9s  ms/step by shape: attn ffn_up ffn_down "
              "classifier\n",
              "type", "simd", "thr", "tok", "ms/step", "GB/s", "GFLOP/s", "tok/s");
  for (const auto& type_name : o.types) {
    ggml_type t;
    if (!troupe::gpu::ggml_type_from_name(type_name, t)) {
      std::fprintf(stderr, "unknown type %s\n", type_name.c_str());
      return 2;
    }
    const model_weights w(m, t);
    for (int threads : o.threads) {
      cpu::thread_pool pool(threads);
      std::printf("%-5s %-6s %3d %4s %9s %8.2f  (plain read of the same %.1f MB)\n",
                  type_name.c_str(), "read", threads, "-", "-",
                  read_bandwidth(w.bytes, pool, o.seconds), w.bytes * 1e-6);
    }
    for (const auto& level : o.levels) {
      const cpu::kernel_set* ks = cpu::kernels_for(level_from_name(level));
      if (!ks)
        continue;
      for (int threads : o.threads) {
        cpu::thread_pool pool(threads);
        for (int n_tokens : o.tokens) {
          const timing tm = run_steps(w, *ks, pool, n_tokens, o.seconds);
          std::printf("%-5s %-6s %3d %4d %9.3f %8.2f %9.2f %9.1f  %.3f %.3f %.3f %.3f\n",
                      type_name.c_str(), level.c_str(), threads, n_tokens, tm.step * 1e3,
                      static_cast<double>(w.bytes) / tm.step * 1e-9,
                      w.flops_per_token * n_tokens / tm.step * 1e-9, n_tokens / tm.step,
                      tm.by_kind[0] * 1e3, tm.by_kind[1] * 1e3, tm.by_kind[2] * 1e3,
                      tm.by_kind[3] * 1e3);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
