#include "runtime/gguf_probe.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/model_paths.hpp"
#include "tests/runtime/gguf_builder.hpp"
#include "tests/runtime/test_files.hpp"

namespace troupe::runtime {
namespace {

// Facts about stories260K.gguf from ../shared/models/README.md.
constexpr std::uint64_t stories_size = 1185376;
constexpr std::uint64_t stories_data_offset = 14176;
constexpr std::uint64_t stories_tensors = 48;

class gguf_probe_stories : public testing::Test {
protected:
  void SetUp() override {
    source_ = test::stories260k_source();
    if (source_.empty())
      GTEST_SKIP() << "stories260K.gguf not found beside the repository "
                      "(../shared/models) or in models/";
    bytes_ = test::read_bytes(source_);
    ASSERT_EQ(bytes_.size(), stories_size);
  }

  // A copy of the model in the scratch dir, cut to `size` bytes and then
  // changed by `edit`.
  std::filesystem::path copy(std::size_t size,
                             std::function<void(std::vector<char>&)> edit = {}) {
    std::vector<char> bytes(bytes_.begin(), bytes_.begin() + size);
    if (edit)
      edit(bytes);
    auto path = dir_.path() / ("copy_" + std::to_string(n_++) + ".gguf");
    test::write_bytes(path, bytes);
    return path;
  }

  test::temp_dir dir_;
  std::filesystem::path source_;
  std::vector<char> bytes_;
  int n_ = 0;
};

TEST_F(gguf_probe_stories, accepts_the_real_model) {
  const auto path = copy(bytes_.size());
  const auto res = gguf_probe(path);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  const auto& info = res.value();
  EXPECT_EQ(info.version, 3u);
  EXPECT_EQ(info.tensor_count, stories_tensors);
  EXPECT_GT(info.metadata_count, 10u);
  EXPECT_EQ(info.alignment, 32u);
  EXPECT_EQ(info.data_offset, stories_data_offset);
  EXPECT_EQ(info.file_size, stories_size);
  EXPECT_LE(info.data_offset + info.data_size, info.file_size);
  EXPECT_GT(info.data_size, stories_size / 2);
  EXPECT_EQ(info.architecture, "llama");
}

TEST_F(gguf_probe_stories, truncated_copies_fail_with_offsets) {
  struct cut_case {
    std::size_t size;
    std::uint64_t min_offset; // the error's offset lies in [min, max]
    std::uint64_t max_offset;
  };
  const cut_case cuts[] = {
    {0, 0, 0},                                  // empty file
    {10, 10, 10},                               // inside the header
    {5000, 24, 5000},                           // inside the metadata
    {stories_data_offset - 100, 24, stories_data_offset},
    {stories_data_offset + 4096, stories_data_offset, stories_size},
    {stories_size - 1, stories_data_offset, stories_size},
  };
  for (const auto& cut : cuts) {
    SCOPED_TRACE(testing::Message() << "cut at " << cut.size);
    const auto res = gguf_probe(copy(cut.size));
    ASSERT_FALSE(res.ok());
    EXPECT_GE(res.error().offset, cut.min_offset) << res.error().to_string();
    EXPECT_LE(res.error().offset, cut.max_offset) << res.error().to_string();
    EXPECT_NE(res.error().to_string().find(
                "byte " + std::to_string(res.error().offset)),
              std::string::npos);
  }
}

TEST_F(gguf_probe_stories, truncation_in_tensor_data_names_the_tensor) {
  const auto res = gguf_probe(copy(stories_size - 1));
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("tensor '"), std::string::npos)
    << res.error().message;
  EXPECT_NE(res.error().message.find("truncated"), std::string::npos);
}

TEST_F(gguf_probe_stories, corrupt_header_fields_fail_at_their_offset) {
  struct edit_case {
    const char* what;
    std::function<void(std::vector<char>&)> edit;
    std::uint64_t offset;
    const char* says;
  };
  const edit_case edits[] = {
    {"magic", [](auto& b) { b[0] = 'X'; }, 0, "magic"},
    {"version 7", [](auto& b) { b[4] = 7; }, 4, "version 7"},
    {"version 1", [](auto& b) { b[4] = 1; }, 4, "expected 2 or 3"},
    {"big-endian", [](auto& b) { b[4] = 0; b[7] = 3; }, 4, "big-endian"},
    // The first key's length (at byte 24) made huge.
    {"key length", [](auto& b) { b[31] = 0x7f; }, 24, "metadata key"},
  };
  for (const auto& e : edits) {
    SCOPED_TRACE(e.what);
    const auto res = gguf_probe(copy(bytes_.size(), e.edit));
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().offset, e.offset) << res.error().to_string();
    EXPECT_NE(res.error().message.find(e.says), std::string::npos)
      << res.error().message;
  }
}

// SmolLM2 is fetched by scripts/setup; found the way the launcher finds it.
TEST(gguf_probe, accepts_smollm2_once_set_up) {
  const auto path = model_path_resolve("SmolLM2-135M-Instruct.Q4_1.gguf");
  if (!path)
    GTEST_SKIP() << "SmolLM2 not set up (run scripts/setup): "
                 << path.error().message;
  const auto res = gguf_probe(path.value());
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res.value().version, 3u);
  EXPECT_EQ(res.value().tensor_count, 272u);
  EXPECT_EQ(res.value().file_size, 98362432u);
  EXPECT_EQ(res.value().data_offset + res.value().data_size,
            res.value().file_size);
  EXPECT_EQ(res.value().architecture, "llama");
}

TEST(gguf_probe, missing_file_is_an_error_value) {
  test::temp_dir dir;
  const auto res = gguf_probe(dir.path() / "absent.gguf");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().offset, 0u);
  EXPECT_NE(res.error().message.find("cannot"), std::string::npos);
}

// Synthetic files place each defect at a known byte.
struct synthetic_case {
  const char* name;
  std::function<std::uint64_t(test::gguf_builder&)> build; // defect offset
  const char* says;
};

TEST(gguf_probe, synthetic_defects_fail_at_their_offset) {
  const synthetic_case cases[] = {
    {"unknown metadata type",
     [](test::gguf_builder& b) {
       b.header(3, 0, 1).str("k");
       const auto at = b.offset();
       b.u32(99).u32(0);
       return at;
     },
     "unknown metadata value type 99"},
    {"alignment not a power of two",
     [](test::gguf_builder& b) {
       b.header(3, 0, 1).str("general.alignment").u32(4);
       const auto at = b.offset();
       b.u32(48);
       return at;
     },
     "power of two"},
    {"five dimensions",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0).str("t");
       const auto at = b.offset();
       b.u32(5);
       return at;
     },
     "5 dimensions"},
    {"unknown ggml type",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0).str("t").u32(1).u64(4);
       const auto at = b.offset();
       b.u32(4).u64(0);
       return at;
     },
     "unknown ggml type 4"},
    {"misaligned tensor offset",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0).str("t").u32(1).u64(4).u32(0);
       const auto at = b.offset();
       b.u64(8);
       return at;
     },
     "not a multiple of the alignment"},
    {"partial quantized block",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0).str("t");
       const auto at = b.offset();
       b.u32(1).u64(40).u32(2).u64(0);
       return at;
     },
     "Q4_0 blocks"},
    {"tensor data past the end",
     [](test::gguf_builder& b) {
       b.header(2, 1, 0).tensor("t", {8, 2}, 0, 0).pad(32);
       const auto at = b.offset();
       b.zeros(63); // F32 [8, 2] needs 64 bytes
       return at;
     },
     "needs 64 bytes"},
  };
  test::temp_dir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::gguf_builder b;
    const std::uint64_t at = c.build(b);
    const auto path = dir.path() / "synthetic.gguf";
    test::write_bytes(path, b.bytes());
    const auto res = gguf_probe(path);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().offset, at) << res.error().to_string();
    EXPECT_NE(res.error().message.find(c.says), std::string::npos)
      << res.error().message;
  }
}

TEST(gguf_probe, synthetic_valid_file_reports_layout) {
  test::gguf_builder b;
  b.header(2, 2, 2)
    .kv_u32("general.alignment", 64)
    .kv_str("general.architecture", "llama")
    .tensor("a", {8, 2}, 0, 0)     // F32: 64 bytes
    .tensor("b", {64}, 8, 64)      // Q8_0: 2 blocks of 34 bytes
    .pad(64);
  const std::uint64_t data_at = b.offset();
  b.zeros(64 + 68);
  test::temp_dir dir;
  const auto path = dir.path() / "ok.gguf";
  test::write_bytes(path, b.bytes());
  const auto res = gguf_probe(path);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res.value().version, 2u);
  EXPECT_EQ(res.value().alignment, 64u);
  EXPECT_EQ(res.value().data_offset, data_at);
  EXPECT_EQ(res.value().data_size, 64u + 68u);
  EXPECT_EQ(res.value().architecture, "llama");
}

} // namespace
} // namespace troupe::runtime
