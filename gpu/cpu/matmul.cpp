#include "gpu/cpu/matmul.hpp"

#include "gpu/cpu/kernels.hpp"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace troupe::gpu::cpu {

namespace {

#if defined(__x86_64__) || defined(__i386__)
// F16C from CPUID leaf 1 (ECX bit 29): clang 14 does not accept "f16c" in
// __builtin_cpu_supports.
bool has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}
#endif

bool cpu_has(simd level) {
#if defined(__x86_64__) || defined(__i386__)
  switch (level) {
  case simd::scalar:
    return true;
  case simd::avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
  case simd::avx512:
    return cpu_has(simd::avx2) && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return level == simd::scalar;
#endif
}

const kernel_set& choose_kernels() {
  simd cap = simd::avx512;
  if (const char* env = std::getenv("TROUPE_SIMD")) {
    if (std::strcmp(env, "scalar") == 0)
      cap = simd::scalar;
    else if (std::strcmp(env, "avx2") == 0)
      cap = simd::avx2;
  }
  for (int l = static_cast<int>(cap); l > 0; --l)
    if (const kernel_set* k = kernels_for(static_cast<simd>(l)))
      return *k;
  return kernels_scalar();
}

// A 64-byte aligned scratch buffer that only grows; one per calling thread,
// so concurrent matmuls from different threads (each with its own pool) do
// not share it.
class scratch {
public:
  void* get(size_t bytes) {
    if (bytes > size_) {
      buf_.reset(static_cast<char*>(::operator new(bytes, std::align_val_t{64})));
      size_ = bytes;
    }
    return buf_.get();
  }

private:
  struct aligned_delete {
    void operator()(char* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<char, aligned_delete> buf_;
  size_t size_ = 0;
};

// Quantizes the n_tokens rows of x into the layout `act` wants and returns
// the activation rows and their stride. For act_kind::f32 it is x itself.
const void* prepare_activations(const kernel_set& ks, act_kind act, const float* x,
                                int64_t cols, int64_t n_tokens, size_t& stride) {
  thread_local scratch buf;
  if (act == act_kind::f32) {
    stride = static_cast<size_t>(cols) * sizeof(float);
    return x;
  }
  stride = act == act_kind::q8_k ? ggml_row_size(ggml_type::q8_k, cols) : act_q8_row_bytes(cols);
  auto* out = static_cast<char*>(buf.get(stride * n_tokens));
  const act_quantizer quantize = ks.quantizer(act);
  for (int64_t t = 0; t < n_tokens; ++t)
    quantize(x + t * cols, out + t * stride, cols);
  return out;
}

} // namespace

const kernel_set* kernels_for(simd level) {
  if (!cpu_has(level))
    return nullptr;
  switch (level) {
  case simd::scalar: return &kernels_scalar();
  case simd::avx2: return kernels_avx2();
  case simd::avx512: return kernels_avx512();
  }
  return nullptr;
}

const kernel_set& kernels_active() {
  static const kernel_set& chosen = choose_kernels();
  return chosen;
}

const char* simd_level() {
  switch (kernels_active().level) {
  case simd::avx512: return "avx512";
  case simd::avx2: return "avx2";
  case simd::scalar: break;
  }
  return "scalar";
}

void matmul(const weight_view& w, const float* x, int64_t n_tokens, float* y,
            thread_pool& pool) {
  matmul_with(kernels_active(), w, x, n_tokens, y, pool);
}

void matmul_with(const kernel_set& ks, const weight_view& w, const float* x, int64_t n_tokens,
                 float* y, thread_pool& pool) {
  const type_kernel* k = ks.find(w.type);
  assert(k && "matmul: weight type has no kernel");
  if (n_tokens <= 0 || w.rows <= 0)
    return;
  size_t x_stride = 0;
  const void* act = prepare_activations(ks, k->act, x, w.cols, n_tokens, x_stride);
  const int64_t rows_per_group = k->max_rows;
  const int64_t groups = (w.rows + rows_per_group - 1) / rows_per_group;
  const size_t scratch_bytes = k->scratch_bytes ? (k->scratch_bytes(w.cols) + 63) / 64 * 64 : 0;
  thread_local scratch tile_scratch;
  auto* scratch_base = static_cast<char*>(tile_scratch.get(scratch_bytes * pool.size()));
  // Each thread takes whole row groups and runs them against every token,
  // so a weight row is streamed from memory once per call.
  pool.parallel_for(groups, [&](int64_t begin, int64_t end, int thread) {
    tile_args a{w.cols,   nullptr, w.row_bytes, 0,      act,
                x_stride, static_cast<int>(n_tokens), nullptr, w.rows,
                scratch_base + scratch_bytes * thread};
    for (int64_t g = begin; g < end; ++g) {
      const int64_t r0 = g * rows_per_group;
      a.w = w.row(r0);
      a.nr = static_cast<int>(std::min(rows_per_group, w.rows - r0));
      a.y = y + r0;
      k->tile(a);
    }
  });
}

} // namespace troupe::gpu::cpu
