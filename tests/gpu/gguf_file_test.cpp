// The GGUF reader on the real models and on files that cannot be read.
#include "gpu/gguf/gguf_file.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/gpu/gguf_builder.hpp"
#include "tests/gpu/gguf_samples.hpp"
#include "tests/runtime/test_files.hpp"

namespace troupe::gpu {
namespace {

namespace fs = std::filesystem;

// Facts about stories260K.gguf from ../shared/models/README.md.
constexpr uint64_t stories_size = 1185376;
constexpr uint64_t stories_data_offset = 14176;

class gguf_stories : public testing::Test {
protected:
  void SetUp() override {
    source_ = test::stories260k_source();
    if (source_.empty())
      GTEST_SKIP() << "stories260K.gguf not found beside the repository "
                      "(../shared/models) or in models/";
    auto f = gguf_file::open(source_.string());
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    file_ = std::make_unique<gguf_file>(std::move(f).value());
  }

  fs::path source_;
  std::unique_ptr<gguf_file> file_;
};

TEST_F(gguf_stories, header_and_layout) {
  const auto& f = *file_;
  EXPECT_EQ(f.path(), source_.string());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.file_size(), stories_size);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset(), stories_data_offset);
  EXPECT_EQ(f.metadata().size(), 19u);
  EXPECT_EQ(f.architecture(), "llama");
  ASSERT_EQ(f.tensors().size(), 48u);
  for (const auto& t : f.tensors())
    EXPECT_EQ(t.type, ggml_type::f32) << t.name;
}

TEST_F(gguf_stories, metadata_values) {
  const auto& f = *file_;
  EXPECT_EQ(f.get_u32("llama.block_count").value(), 5u);
  EXPECT_EQ(f.get_u32("llama.embedding_length").value(), 64u);
  EXPECT_EQ(f.get_u32("llama.feed_forward_length").value(), 172u);
  EXPECT_EQ(f.get_i32("llama.attention.head_count").value(), 8);
  EXPECT_EQ(f.get_u64("llama.attention.head_count_kv").value(), 4u);
  EXPECT_EQ(f.get_i64("llama.rope.dimension_count").value(), 8);
  EXPECT_EQ(f.get_u32("llama.context_length").value(), 2048u);
  EXPECT_FLOAT_EQ(f.get_f32("llama.attention.layer_norm_rms_epsilon").value(),
                  1e-5f);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model").value(), "llama");
  EXPECT_EQ(f.get_u32("tokenizer.ggml.seperator_token_id").value(),
            4294967295u);
  // The same value does not fit an i32: the error names key and offset.
  const auto sep = f.get_i32("tokenizer.ggml.seperator_token_id");
  ASSERT_FALSE(sep.ok());
  EXPECT_EQ(sep.error().field, "tokenizer.ggml.seperator_token_id");
  EXPECT_EQ(sep.error().offset,
            f.find("tokenizer.ggml.seperator_token_id")->offset());
  EXPECT_GT(sep.error().offset, 24u);
}

TEST_F(gguf_stories, vocabulary_without_copies) {
  const auto& f = *file_;
  const auto tokens = f.get_strings("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.error().to_string();
  ASSERT_EQ(tokens.value().size(), 512u);
  EXPECT_EQ(tokens.value()[0], "<unk>");
  EXPECT_EQ(tokens.value()[1], "<s>");
  EXPECT_EQ(tokens.value()[2], "</s>");
  // Zero-copy: the views point into the mapped file.
  const auto* base = static_cast<const char*>(f.tensors()[0].data)
                     - f.tensors()[0].file_offset;
  EXPECT_GE(tokens.value()[0].data(), base);
  EXPECT_LT(tokens.value()[511].data(), base + f.data_offset());
  const auto scores = f.get_array<float>("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(scores.value().size(), 512u);
  const auto types = f.get_array<int32_t>("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(types.value()[0], 2);
  EXPECT_EQ(types.value()[1], 3);
  EXPECT_EQ(types.value().to_vector().size(), 512u);
  // Wrong element type: an error, not a reinterpretation.
  EXPECT_FALSE(f.get_array<uint32_t>("tokenizer.ggml.token_type").ok());
  EXPECT_FALSE(f.get_strings("tokenizer.ggml.scores").ok());
}

TEST_F(gguf_stories, tensor_data_matches_the_file_bytes) {
  const auto& f = *file_;
  const auto bytes = test::read_bytes(source_);
  const auto* embd = f.tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->n_dims, 2u);
  EXPECT_EQ(embd->ne, (std::array<int64_t, 4>{64, 512, 1, 1}));
  EXPECT_EQ(embd->n_elements, 64 * 512);
  EXPECT_EQ(embd->size_bytes, 64u * 512u * 4u);
  EXPECT_EQ(embd->offset, 0u);
  EXPECT_EQ(embd->file_offset, stories_data_offset);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(embd->data) % 32, 0u);
  uint64_t end = 0;
  for (const auto& t : f.tensors()) {
    SCOPED_TRACE(std::string(t.name));
    ASSERT_LE(t.file_offset + t.size_bytes, bytes.size());
    EXPECT_EQ(std::memcmp(t.data, bytes.data() + t.file_offset, t.size_bytes),
              0);
    EXPECT_EQ(t.file_offset, f.data_offset() + t.offset);
    EXPECT_EQ(f.tensor(t.name), &t);
    end = std::max(end, t.file_offset + t.size_bytes);
  }
  EXPECT_EQ(end, stories_size);
  const float* norm = static_cast<const float*>(f.tensor("output_norm.weight")->data);
  EXPECT_TRUE(std::isfinite(norm[0]));
  EXPECT_EQ(f.tensor("no.such.tensor"), nullptr);
}

TEST_F(gguf_stories, missing_key_is_an_error_naming_it) {
  const auto r = file_->get_u32("llama.no_such_key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(),
            source_.string() + ": byte 0: field 'llama.no_such_key': the key"
                               " is missing");
  EXPECT_EQ(file_->find("llama.no_such_key"), nullptr);
  EXPECT_FALSE(file_->get_string("llama.block_count").ok());
  EXPECT_FALSE(file_->get_bool("llama.block_count").ok());
  EXPECT_FALSE(file_->get_f32("llama.block_count").ok());
}

TEST(gguf_smollm2, loads_with_correct_metadata) {
  const auto path = test::smollm2_path();
  if (path.empty())
    GTEST_SKIP() << "SmolLM2 not set up (run scripts/setup)";
  const auto r = gguf_file::open(path.string());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& f = r.value();
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.file_size(), 98362432u);
  EXPECT_EQ(f.metadata().size(), 33u);
  ASSERT_EQ(f.tensors().size(), 272u);
  EXPECT_EQ(f.architecture(), "llama");
  std::map<ggml_type, int> types;
  uint64_t end = 0;
  for (const auto& t : f.tensors()) {
    ++types[t.type];
    end = std::max(end, t.file_offset + t.size_bytes);
  }
  EXPECT_EQ(types[ggml_type::q4_1], 210);
  EXPECT_EQ(types[ggml_type::f32], 61);
  EXPECT_EQ(types[ggml_type::q8_0], 1);
  EXPECT_EQ(end, f.file_size());
  const auto* embd = f.tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, ggml_type::q8_0);
  EXPECT_EQ(embd->ne, (std::array<int64_t, 4>{576, 49152, 1, 1}));
  EXPECT_EQ(f.get_u32("llama.block_count").value(), 30u);
  EXPECT_EQ(f.get_u32("llama.vocab_size").value(), 49152u);
  EXPECT_FLOAT_EQ(f.get_f32("llama.rope.freq_base").value(), 100000.f);
  EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_bos_token").value());
  EXPECT_EQ(f.get_string("tokenizer.ggml.model").value(), "gpt2");
  const auto tokens = f.get_strings("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens.value().size(), 49152u);
  EXPECT_EQ(tokens.value()[0], "<|endoftext|>");
  EXPECT_EQ(tokens.value()[2], "<|im_end|>");
  const auto merges = f.get_strings("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.ok());
  EXPECT_EQ(merges.value().size(), 48900u);
  EXPECT_EQ(merges.value()[0], "\xc4\xa0 t");
  EXPECT_EQ(f.get_array<int32_t>("tokenizer.ggml.token_type").value().size(),
            49152u);
  const auto langs = f.get_strings("general.languages");
  ASSERT_TRUE(langs.ok());
  ASSERT_EQ(langs.value().size(), 1u);
  EXPECT_EQ(langs.value()[0], "en");
  EXPECT_NE(f.get_string("tokenizer.chat_template").value().find("<|im_start|>"),
            std::string::npos);
}

TEST(gguf_open, missing_file_and_directory_are_error_values) {
  test::temp_dir dir;
  const auto absent = gguf_file::open((dir.path() / "absent.gguf").string());
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().offset, 0u);
  EXPECT_TRUE(absent.error().field.empty());
  EXPECT_NE(absent.error().message.find("cannot open"), std::string::npos);
  EXPECT_EQ(absent.error().to_string().find("field"), std::string::npos);
  const auto directory = gguf_file::open(dir.path().string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("not a regular file"),
            std::string::npos);
}

TEST(gguf_open, empty_file_says_so) {
  test::temp_dir dir;
  const auto path = dir.path() / "empty.gguf";
  test::write_bytes(path, {});
  const auto r = gguf_file::open(path.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(),
            path.string() + ": byte 0: field 'magic': the file is empty (0 "
                            "bytes); a GGUF file starts with the magic \"GGUF\"");
}

TEST(gguf_open, mapped_and_in_memory_reads_agree) {
  test::temp_dir dir;
  const auto sample = test::make_sample(test::sample_kind::all_types);
  const auto path = dir.path() / "sample.gguf";
  ASSERT_TRUE(sample->writer.write(path.string()).ok());
  const auto mapped = gguf_file::open(path.string());
  const auto memory = test::parse(sample->writer.to_bytes());
  ASSERT_TRUE(mapped.ok()) << mapped.error().to_string();
  ASSERT_TRUE(memory.ok()) << memory.error().to_string();
  ASSERT_EQ(mapped.value().tensors().size(), memory.value().tensors().size());
  for (size_t i = 0; i < mapped.value().tensors().size(); ++i) {
    const auto& a = mapped.value().tensors()[i];
    const auto& b = memory.value().tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.file_offset, b.file_offset);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.size_bytes), 0);
  }
  EXPECT_EQ(mapped.value().metadata().size(), memory.value().metadata().size());
}

// Hand-built files place each defect at a known byte (cases moved from the
// old runtime probe's tests).
struct synthetic_case {
  const char* name;
  std::function<uint64_t(test::gguf_builder&)> build; // returns the offset
  const char* field;
  const char* says;
};

TEST(gguf_synthetic, defects_fail_at_their_offset) {
  const synthetic_case cases[] = {
    {"unknown metadata type",
     [](test::gguf_builder& b) {
       b.header(3, 0, 1).str("k");
       const auto at = b.offset();
       b.u32(99).u32(0);
       return at;
     },
     "k:type", "unknown value type 99"},
    {"alignment not a power of two",
     [](test::gguf_builder& b) {
       b.header(3, 0, 1).str("general.alignment").u32(4);
       const auto at = b.offset();
       b.u32(48);
       return at;
     },
     "general.alignment", "not a power of two"},
    {"alignment of the wrong type",
     [](test::gguf_builder& b) {
       b.header(3, 0, 1).str("general.alignment");
       const auto at = b.offset();
       b.u32(10).u64(32);
       return at;
     },
     "general.alignment:type", "must be u32"},
    {"five dimensions",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0).str("t");
       const auto at = b.offset();
       b.u32(5).zeros(40);
       return at;
     },
     "t:n_dims", "5 dimensions"},
    {"retired ggml type 4",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0).str("t").u32(1).u64(4);
       const auto at = b.offset();
       b.u32(4).u64(0);
       return at;
     },
     "t:type", "unknown ggml type 4"},
    {"partial quantized block",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0).str("t").u32(1);
       const auto at = b.offset();
       b.u64(40).u32(2).u64(0);
       return at;
     },
     "t:ne[0]", "Q4_0 blocks of 32"},
    {"tensor data past the end",
     [](test::gguf_builder& b) {
       b.header(2, 1, 0).tensor("t", {8, 2}, 0, 0).pad(32);
       const auto at = b.offset();
       b.zeros(63); // F32 [8, 2] needs 64 bytes
       return at;
     },
     "t:data", "needs 64 bytes"},
    {"bool that is not 0 or 1",
     [](test::gguf_builder& b) {
       b.header(3, 0, 1).str("flag").u32(7);
       const auto at = b.offset();
       b.raw("\x02");
       return at;
     },
     "flag", "bool byte is 2"},
    {"empty key",
     [](test::gguf_builder& b) {
       b.header(3, 0, 1);
       const auto at = b.offset();
       b.str("").u32(0).raw("x").zeros(8);
       return at;
     },
     "metadata[0]:key", "empty"},
    {"tensor name longer than ggml's 63 bytes",
     [](test::gguf_builder& b) {
       b.header(3, 1, 0);
       const auto at = b.offset();
       b.tensor(std::string(64, 'n'), {1}, 0, 0).pad(32).zeros(32);
       return at;
     },
     "tensors[0]:name", "at most 63"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::gguf_builder b;
    const uint64_t at = c.build(b);
    const auto& bytes = b.bytes();
    const auto r = gguf_file::from_bytes("synthetic.gguf", bytes.data(),
                                         bytes.size());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, at) << r.error().to_string();
    EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
      << r.error().message;
  }
}

TEST(gguf_synthetic, valid_v2_file_reports_layout) {
  test::gguf_builder b;
  b.header(2, 2, 2)
    .kv_u32("general.alignment", 64)
    .kv_str("general.architecture", "llama")
    .tensor("a", {8, 2}, 0, 0) // F32: 64 bytes
    .tensor("b", {64}, 8, 64)  // Q8_0: 2 blocks of 34 bytes
    .pad(64);
  const uint64_t data_at = b.offset();
  b.zeros(64 + 68);
  const auto r = gguf_file::from_bytes("v2.gguf", b.bytes().data(),
                                       b.bytes().size());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().version(), 2u);
  EXPECT_EQ(r.value().alignment(), 64u);
  EXPECT_EQ(r.value().data_offset(), data_at);
  EXPECT_EQ(r.value().tensor("b")->size_bytes, 68u);
  EXPECT_EQ(r.value().tensor("b")->file_offset, data_at + 64);
  EXPECT_EQ(r.value().architecture(), "llama");
}

} // namespace
} // namespace troupe::gpu
