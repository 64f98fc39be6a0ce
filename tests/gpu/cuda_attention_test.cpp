// Paged attention and the KV store on the device against the CPU forward's
// algorithm over a kv_storage (gpu/model/llama_forward.cpp): several
// sequences with scattered block tables in one batch (a prompt chunk that
// attends to its own earlier tokens, a decode step, a first token), grouped
// heads, head sizes below, at and past the warp width, and block sizes
// from one position up.
#include "gpu/cuda/attention.cuh"
#include "gpu/cuda/cuda_batch.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/kv/kv_storage.hpp"
#include "tests/gpu/cuda_test_util.hpp"
#include "tests/gpu/rms_norm_reference.hpp"

namespace troupe::gpu {
namespace {

struct attention_case {
  int n_heads, n_kv_heads, head_dim, block_tokens;
};

// The CPU forward's attention for one token and head, in double.
std::vector<double> attend(const kv_storage& kv, const batch_token& t, const float* q,
                           int kvh, int hd, float scale) {
  const int bt = kv.block_tokens();
  std::vector<double> scores(size_t(t.pos) + 1), out(size_t(hd), 0.0);
  double top = -INFINITY, sum = 0.0;
  for (int32_t p = 0; p <= t.pos; ++p) {
    const float* k = kv.key(0, (*t.blocks)[size_t(p / bt)], p % bt) + kvh * hd;
    double d = 0;
    for (int c = 0; c < hd; ++c)
      d += double(q[c]) * k[c];
    scores[size_t(p)] = d * scale;
    top = std::max(top, scores[size_t(p)]);
  }
  for (auto& s : scores)
    sum += (s = std::exp(s - top));
  for (int32_t p = 0; p <= t.pos; ++p) {
    const float* v = kv.value(0, (*t.blocks)[size_t(p / bt)], p % bt) + kvh * hd;
    for (int c = 0; c < hd; ++c)
      out[size_t(c)] += scores[size_t(p)] / sum * v[c];
  }
  return out;
}

void run_case(const attention_case& c, uint32_t seed) {
  const int hd = c.head_dim, bt = c.block_tokens;
  const size_t dkv = size_t(c.n_kv_heads) * hd, dq = size_t(c.n_heads) * hd;
  // Three sequences whose blocks are scattered over the pool.
  const std::vector<int32_t> lengths = {603, 9, 1}; // positions each reaches
  int64_t n_blocks = 0;
  for (int32_t len : lengths)
    n_blocks += (len + bt - 1) / bt;
  n_blocks += 3; // blocks no sequence uses
  std::vector<int32_t> ids(static_cast<size_t>(n_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937{seed});
  std::vector<std::vector<int32_t>> tables;
  size_t next = 0;
  for (int32_t len : lengths) {
    const size_t count = size_t((len + bt - 1) / bt);
    tables.emplace_back(ids.begin() + long(next), ids.begin() + long(next + count));
    next += count;
  }
  // A prompt chunk of sequence 0 (positions 597..602), a decode step of
  // sequence 1 (position 8) and the first token of sequence 2.
  std::vector<batch_token> batch;
  for (int32_t p = 597; p <= 602; ++p)
    batch.push_back({0, p, &tables[0], p == 602});
  batch.push_back({0, 8, &tables[1], true});
  batch.push_back({0, 0, &tables[2], true});
  const int n = int(batch.size());

  kv_storage kv(1, c.n_kv_heads, hd, bt, n_blocks);
  const size_t layer_floats = size_t(n_blocks) * size_t(bt) * dkv;
  const auto old_k = test::random_floats(layer_floats, seed + 1);
  const auto old_v = test::random_floats(layer_floats, seed + 2);
  std::copy(old_k.begin(), old_k.end(), kv.key(0, 0, 0));
  std::copy(old_v.begin(), old_v.end(), kv.value(0, 0, 0));
  const auto q = test::random_floats(size_t(n) * dq, seed + 3);
  const auto k = test::random_floats(size_t(n) * dkv, seed + 4);
  const auto v = test::random_floats(size_t(n) * dkv, seed + 5);

  cuda::staged_batch staged;
  ASSERT_TRUE(cuda::stage_batch(batch, 1, bt, n_blocks, staged).ok());
  cuda::device_buffer dints, dkeys, dvalues, dq_, dk, dv, dout;
  ASSERT_NO_FATAL_FAILURE(test::to_device(staged.ints, dints));
  ASSERT_NO_FATAL_FAILURE(test::to_device(old_k, dkeys));
  ASSERT_NO_FATAL_FAILURE(test::to_device(old_v, dvalues));
  ASSERT_NO_FATAL_FAILURE(test::to_device(q, dq_));
  ASSERT_NO_FATAL_FAILURE(test::to_device(k, dk));
  ASSERT_NO_FATAL_FAILURE(test::to_device(v, dv));
  ASSERT_NO_FATAL_FAILURE(test::device_zeros<float>(size_t(n) * dq, dout));
  const int32_t* ints = dints.as<int32_t>();
  const cuda::paged_batch pb{n, ints + staged.pos_at(), ints + staged.table_at_at(),
                             ints + staged.tables_at()};
  const cuda::kv_layer layer{dkeys.as<float>(), dvalues.as<float>(), bt, c.n_kv_heads, hd};
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  auto st = cuda::kv_store_device(dk.as<float>(), dv.as<float>(), pb, layer);
  ASSERT_TRUE(st.ok()) << st.message();
  st = cuda::attention_device(dq_.as<float>(), dout.as<float>(), c.n_heads, scale, pb, layer);
  ASSERT_TRUE(st.ok()) << st.message();

  // The CPU forward stores every batch token before attending.
  for (int i = 0; i < n; ++i) {
    const auto& t = batch[size_t(i)];
    const int32_t block = (*t.blocks)[size_t(t.pos / bt)];
    std::copy_n(k.begin() + long(size_t(i) * dkv), dkv, kv.key(0, block, t.pos % bt));
    std::copy_n(v.begin() + long(size_t(i) * dkv), dkv, kv.value(0, block, t.pos % bt));
  }
  std::vector<float> keys_after, values_after, got;
  ASSERT_NO_FATAL_FAILURE(test::from_device(dkeys, layer_floats, keys_after));
  ASSERT_NO_FATAL_FAILURE(test::from_device(dvalues, layer_floats, values_after));
  ASSERT_TRUE(std::equal(keys_after.begin(), keys_after.end(), kv.key(0, 0, 0)))
    << "the device cache's keys differ from the CPU's after the store";
  ASSERT_TRUE(std::equal(values_after.begin(), values_after.end(), kv.value(0, 0, 0)))
    << "the device cache's values differ from the CPU's after the store";
  ASSERT_NO_FATAL_FAILURE(test::from_device(dout, size_t(n) * dq, got));
  const int group = c.n_heads / c.n_kv_heads;
  for (int i = 0; i < n; ++i)
    for (int h = 0; h < c.n_heads; ++h) {
      const size_t row = (size_t(i) * c.n_heads + h) * hd;
      const auto want = attend(kv, batch[size_t(i)], q.data() + row, h / group, hd, scale);
      for (int e = 0; e < hd; ++e)
        ASSERT_NEAR(got[row + size_t(e)], want[size_t(e)], 5e-5)
          << "token " << i << " (pos " << batch[size_t(i)].pos << ") head " << h << " element "
          << e;
    }
}

TEST(cuda_attention, matches_the_cpu_forward_over_paged_blocks) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  const attention_case cases[] = {{4, 2, 16, 4},  {8, 8, 64, 16}, {6, 2, 128, 1},
                                  {4, 1, 256, 7}, {3, 3, 5, 3},   {32, 8, 128, 16}};
  uint32_t seed = 10;
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << c.n_heads << " heads / " << c.n_kv_heads << " kv of "
                                    << c.head_dim << ", block " << c.block_tokens);
    ASSERT_NO_FATAL_FAILURE(run_case(c, seed));
    seed += 10;
  }
}

TEST(cuda_attention, bad_shapes_are_values) {
  TROUPE_REQUIRE_CUDA_DEVICE();
  cuda::device_buffer b;
  ASSERT_TRUE(b.allocate(4096).ok());
  const auto* i = b.as<int32_t>();
  const cuda::paged_batch pb{1, i, i, i};
  cuda::kv_layer kv{b.as<float>(), b.as<float>(), 4, 2, 512};
  EXPECT_EQ(cuda::attention_device(b.as<float>(), b.as<float>(), 4, 1.f, pb, kv).code(),
            status_code::invalid_argument)
    << "head_dim above the kernel's limit";
  kv.head_dim = 64;
  EXPECT_EQ(cuda::attention_device(b.as<float>(), b.as<float>(), 3, 1.f, pb, kv).code(),
            status_code::invalid_argument)
    << "heads not a multiple of kv heads";
}

} // namespace
} // namespace troupe::gpu
