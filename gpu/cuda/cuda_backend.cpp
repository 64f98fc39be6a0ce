#include "gpu/cuda/cuda_backend.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include <cuda_runtime_api.h>

#include "gpu/cuda/attention.cuh"
#include "gpu/cuda/cuda_batch.hpp"
#include "gpu/cuda/cuda_check.hpp"
#include "gpu/cuda/cuda_weights.hpp"
#include "gpu/cuda/device.hpp"
#include "gpu/cuda/gather_rows.cuh"
#include "gpu/cuda/rms_norm.cuh"
#include "gpu/cuda/rope.cuh"
#include "gpu/cuda/swiglu.cuh"
#include "gpu/kv/kv_storage.hpp"

// Returns from the enclosing function when `expr` yields a failed status.
#define TROUPE_TRY(expr)                                                                          \
  do {                                                                                             \
    if (auto troupe_st_ = (expr); !troupe_st_.ok())                                                \
      return troupe_st_;                                                                           \
  } while (false)

namespace troupe::gpu {

namespace {

using cuda::device_buffer;

// Activations of one forward pass, sized for `tokens` tokens.
// Invariants: every pointer points into `arena`.
struct activations {
  device_buffer arena;
  int tokens = 0;
  float* x = nullptr;    // [tokens, n_embd] residual stream
  float* h = nullptr;    // [tokens, max(n_embd, n_head * head_dim)] normed input
  float* q = nullptr;    // [tokens, n_head, head_dim]
  float* k = nullptr;    // [tokens, n_kv_heads, head_dim]
  float* v = nullptr;    // [tokens, n_kv_heads, head_dim]
  float* attn = nullptr; // [tokens, n_head, head_dim]
  float* gate = nullptr; // [tokens, n_ff]
  float* up = nullptr;   // [tokens, n_ff]
};

class cuda_backend_impl final : public cuda_backend {
public:
  cuda_backend_impl(int device, const llama_hparams& hp, int block_tokens, int64_t n_blocks)
    : device_(device), hp_(hp), block_tokens_(block_tokens), n_blocks_(n_blocks) {}

  ~cuda_backend_impl() override { cudaSetDevice(device_); }

  status init(const llama_weights& w);
  void forward(const std::vector<batch_token>& batch, std::vector<float>& logits) override;
  void copy_block(int32_t from, int32_t to) override;
  int64_t n_blocks() const override { return n_blocks_; }
  std::string describe() const override { return describe_; }
  status last_status() const override { return fault_.ok() ? last_ : fault_; }

private:
  size_t dkv() const { return static_cast<size_t>(hp_.n_head_kv) * hp_.head_dim; }
  size_t block_floats() const { return static_cast<size_t>(block_tokens_) * dkv(); }
  size_t layer_floats() const { return block_floats() * static_cast<size_t>(n_blocks_); }
  cuda::kv_layer kv_layer(int l) const {
    const size_t at = layer_floats() * static_cast<size_t>(l);
    return {keys_.as<float>() + at, values_.as<float>() + at, block_tokens_, hp_.n_head_kv,
            hp_.head_dim};
  }
  status run(const std::vector<batch_token>& batch, std::vector<float>& logits);
  status reserve(int tokens, int want);
  status layer(int l, const cuda::paged_batch& pb);
  status head(const int32_t* want, std::vector<float>& logits);
  void record(status st);

  int device_;
  llama_hparams hp_;
  int block_tokens_;
  int64_t n_blocks_;
  std::string describe_;
  cuda::device_weights w_;
  device_buffer keys_, values_; // per layer [n_blocks, block_tokens, n_kv_heads, head_dim]
  activations act_;
  device_buffer logits_dev_; // [n_want, n_vocab]
  device_buffer ints_dev_;   // a staged_batch's ints
  cuda::staged_batch staged_;
  status fault_; // sticky device failure
  status last_;  // outcome of the latest call
};

std::string mib(size_t bytes) {
  return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

status cuda_backend_impl::init(const llama_weights& w) {
  cudaDeviceProp prop{};
  TROUPE_TRY(cuda::cuda_check("cudaGetDeviceProperties", cudaGetDeviceProperties(&prop, device_)));
  describe_ = std::string("cuda (") + prop.name + ", sm_" + std::to_string(prop.major)
              + std::to_string(prop.minor) + ", device " + std::to_string(device_) + ")";
  TROUPE_TRY(cuda::weights_upload(w, w_));
  const size_t pool_bytes =
    layer_floats() * static_cast<size_t>(hp_.n_layer) * sizeof(float);
  for (auto* b : {&keys_, &values_}) {
    if (auto st = b->allocate(pool_bytes); !st.ok()) {
      size_t free_bytes = 0, total_bytes = 0;
      if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess)
        cudaGetLastError();
      return status::failure(st.code(), "the KV pool (" + std::to_string(n_blocks_)
                                          + " blocks, " + mib(2 * pool_bytes)
                                          + ") does not fit in device memory: " + mib(free_bytes)
                                          + " free of " + mib(total_bytes) + " (" + st.message()
                                          + ")");
    }
    TROUPE_TRY(b->zero());
  }
  return cuda::device_synchronize();
}

void cuda_backend_impl::record(status st) {
  if (st.code() == status_code::cuda_error || st.code() == status_code::no_device)
    fault_ = st;
  last_ = std::move(st);
}

void cuda_backend_impl::forward(const std::vector<batch_token>& batch,
                                std::vector<float>& logits) {
  size_t n_want = 0;
  for (const auto& t : batch)
    n_want += t.want_logits ? 1 : 0;
  status st = fault_.ok() ? run(batch, logits) : fault_;
  if (!st.ok())
    logits.assign(n_want * static_cast<size_t>(hp_.n_vocab),
                  std::numeric_limits<float>::quiet_NaN());
  record(std::move(st));
}

status cuda_backend_impl::run(const std::vector<batch_token>& batch, std::vector<float>& logits) {
  logits.clear();
  if (batch.empty())
    return {};
  TROUPE_TRY(cuda::stage_batch(batch, hp_.n_vocab, block_tokens_, n_blocks_, staged_));
  TROUPE_TRY(cuda::cuda_check("cudaSetDevice", cudaSetDevice(device_)));
  const int n = staged_.n_tokens;
  TROUPE_TRY(reserve(n, staged_.n_want));
  const size_t int_bytes = staged_.ints.size() * sizeof(int32_t);
  TROUPE_TRY(ints_dev_.upload(staged_.ints.data(), int_bytes));
  const int32_t* ints = ints_dev_.as<int32_t>();
  const cuda::paged_batch pb{n, ints + staged_.pos_at(), ints + staged_.table_at_at(),
                             ints + staged_.tables_at()};
  TROUPE_TRY(cuda::gather_rows_device(w_.tok_embd, ints + staged_.tokens_at(), n, act_.x));
  for (int l = 0; l < hp_.n_layer; ++l)
    TROUPE_TRY(layer(l, pb));
  if (staged_.n_want == 0)
    return cuda::device_synchronize();
  return head(ints + staged_.want_at(), logits);
}

// One transformer block over the batch in act_.x, as llama_forward does it.
status cuda_backend_impl::layer(int l, const cuda::paged_batch& pb) {
  const auto& L = w_.layers[static_cast<size_t>(l)];
  const int n = pb.n_tokens;
  const size_t d = static_cast<size_t>(hp_.n_embd);
  TROUPE_TRY(cuda::rms_norm_async(act_.x, L.attn_norm, act_.h, n, d, hp_.rms_eps));
  TROUPE_TRY(cuda::matmul_device(L.wq, act_.h, n, act_.q));
  TROUPE_TRY(cuda::matmul_device(L.wk, act_.h, n, act_.k));
  TROUPE_TRY(cuda::matmul_device(L.wv, act_.h, n, act_.v));
  cuda::rope_shape rs{n, hp_.n_head, hp_.head_dim, hp_.n_rot, hp_.rope_scale};
  TROUPE_TRY(cuda::rope_device(act_.q, pb.pos, w_.rope_inv_freq, rs));
  rs.n_heads = hp_.n_head_kv;
  TROUPE_TRY(cuda::rope_device(act_.k, pb.pos, w_.rope_inv_freq, rs));
  const cuda::kv_layer kv = kv_layer(l);
  TROUPE_TRY(cuda::kv_store_device(act_.k, act_.v, pb, kv));
  const float scale = 1.f / std::sqrt(static_cast<float>(hp_.head_dim));
  TROUPE_TRY(cuda::attention_device(act_.q, act_.attn, hp_.n_head, scale, pb, kv));
  TROUPE_TRY(cuda::matmul_device(L.wo, act_.attn, n, act_.x, true));
  TROUPE_TRY(cuda::rms_norm_async(act_.x, L.ffn_norm, act_.h, n, d, hp_.rms_eps));
  TROUPE_TRY(cuda::matmul_device(L.w_gate, act_.h, n, act_.gate));
  TROUPE_TRY(cuda::matmul_device(L.w_up, act_.h, n, act_.up));
  TROUPE_TRY(cuda::swiglu_device(act_.gate, act_.up, int64_t{n} * hp_.n_ff));
  return cuda::matmul_device(L.w_down, act_.gate, n, act_.x, true);
}

// Final norm and output matrix for the wanted tokens; logits to the host.
status cuda_backend_impl::head(const int32_t* want, std::vector<float>& logits) {
  const int n_want = staged_.n_want;
  const int64_t d = hp_.n_embd;
  const cuda::device_matrix x{ggml_type::f32, act_.tokens, d,
                              static_cast<size_t>(d) * sizeof(float), act_.x};
  TROUPE_TRY(cuda::gather_rows_device(x, want, n_want, act_.h));
  TROUPE_TRY(cuda::rms_norm_async(act_.h, w_.output_norm, act_.h, static_cast<size_t>(n_want),
                                  static_cast<size_t>(d), hp_.rms_eps));
  TROUPE_TRY(cuda::matmul_device(w_.output, act_.h, n_want, logits_dev_.as<float>()));
  logits.resize(static_cast<size_t>(n_want) * static_cast<size_t>(hp_.n_vocab));
  return logits_dev_.download(logits.data(), logits.size() * sizeof(float));
}

// Grows the activation, logit and integer buffers to fit the staged batch.
status cuda_backend_impl::reserve(int tokens, int want) {
  const size_t logit_bytes =
    static_cast<size_t>(want) * static_cast<size_t>(hp_.n_vocab) * sizeof(float);
  if (logits_dev_.bytes() < logit_bytes)
    TROUPE_TRY(logits_dev_.allocate(logit_bytes));
  const size_t int_bytes = staged_.ints.size() * sizeof(int32_t);
  if (ints_dev_.bytes() < int_bytes)
    TROUPE_TRY(ints_dev_.allocate(int_bytes + int_bytes / 2));
  if (act_.tokens >= tokens)
    return {};
  const int cap = (tokens + 63) / 64 * 64;
  const size_t d = static_cast<size_t>(hp_.n_embd), dq = static_cast<size_t>(hp_.n_head)
                                                           * hp_.head_dim;
  const size_t widths[] = {d, std::max(d, dq), dq, dkv(), dkv(), dq,
                           static_cast<size_t>(hp_.n_ff), static_cast<size_t>(hp_.n_ff)};
  float** ptrs[] = {&act_.x, &act_.h, &act_.q, &act_.k, &act_.v, &act_.attn, &act_.gate, &act_.up};
  size_t total = 0;
  for (size_t wd : widths)
    total += (wd * cap + 63) / 64 * 64; // 256-byte aligned parts
  act_.tokens = 0;
  TROUPE_TRY(act_.arena.allocate(total * sizeof(float)));
  size_t at = 0;
  for (size_t i = 0; i < std::size(widths); ++i) {
    *ptrs[i] = act_.arena.as<float>() + at;
    at += (widths[i] * cap + 63) / 64 * 64;
  }
  act_.tokens = cap;
  return {};
}

void cuda_backend_impl::copy_block(int32_t from, int32_t to) {
  if (!fault_.ok())
    return record(fault_);
  if (from < 0 || from >= n_blocks_ || to < 0 || to >= n_blocks_)
    return record(status::failure(status_code::invalid_argument,
                                  "copy_block: block id outside the pool of "
                                    + std::to_string(n_blocks_)));
  status st = cuda::cuda_check("cudaSetDevice", cudaSetDevice(device_));
  const size_t bytes = block_floats() * sizeof(float);
  for (int l = 0; l < hp_.n_layer && st.ok(); ++l) {
    const size_t layer = layer_floats() * static_cast<size_t>(l);
    for (const auto* b : {&keys_, &values_}) {
      float* base = b->as<float>() + layer;
      if (st.ok())
        st = cuda::cuda_check("copy_block", cudaMemcpyAsync(base + block_floats() * to,
                                                            base + block_floats() * from, bytes,
                                                            cudaMemcpyDeviceToDevice));
    }
  }
  record(std::move(st));
}

} // namespace

bool cuda_backend_available() noexcept {
  return cuda::device_count() > 0;
}

std::unique_ptr<cuda_backend> make_cuda_backend(const llama_weights& w, size_t kv_bytes,
                                                int block_tokens, int device,
                                                std::string* error) {
  auto fail = [&](const std::string& why) -> std::unique_ptr<cuda_backend> {
    if (error != nullptr)
      *error = "cannot start the CUDA backend: " + why;
    return nullptr;
  };
  if (auto st = cuda::device_require(); !st.ok())
    return fail(st.message());
  const int count = cuda::device_count();
  if (device < 0 || device >= count)
    return fail("there is no CUDA device " + std::to_string(device) + " (this machine has "
                + std::to_string(count) + ")");
  if (block_tokens <= 0)
    return fail("block_tokens must be positive");
  if (auto why = cuda::weights_unsupported(w); !why.empty())
    return fail(why);
  const auto& hp = w.hp;
  const int64_t n_blocks = std::min<int64_t>(
    kv_storage::blocks_for_budget(kv_bytes, hp.n_layer, hp.n_head_kv, hp.head_dim, block_tokens),
    std::numeric_limits<int32_t>::max());
  if (n_blocks <= 0)
    return fail("a KV budget of " + std::to_string(kv_bytes)
                + " bytes holds no block of " + std::to_string(block_tokens) + " positions");
  if (auto st = cuda::cuda_check("cudaSetDevice", cudaSetDevice(device)); !st.ok())
    return fail(st.message());
  auto b = std::make_unique<cuda_backend_impl>(device, hp, block_tokens, n_blocks);
  if (auto st = b->init(w); !st.ok())
    return fail(st.message());
  return b;
}

} // namespace troupe::gpu
