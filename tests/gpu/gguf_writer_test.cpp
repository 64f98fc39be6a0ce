// gguf_writer output read back by gguf_file: every value type, tensor
// layout and alignment, atomic writes, and refused arguments.
#include "gpu/gguf/gguf_writer.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/gguf/gguf_file.hpp"
#include "tests/gpu/gguf_samples.hpp"
#include "tests/runtime/test_files.hpp"

namespace troupe::gpu {
namespace {

namespace fs = std::filesystem;

class gguf_round_trip : public testing::Test {
protected:
  void SetUp() override {
    sample_ = test::make_sample(test::sample_kind::all_types);
    auto f = test::parse(sample_->writer.to_bytes());
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    file_ = std::make_unique<gguf_file>(std::move(f).value());
  }

  std::unique_ptr<test::gguf_sample> sample_;
  std::unique_ptr<gguf_file> file_;
};

TEST_F(gguf_round_trip, scalars_of_every_type) {
  const auto& f = *file_;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 25u);
  EXPECT_EQ(f.find("t.u8")->type(), gguf_value_type::u8);
  EXPECT_EQ(f.get_u32("t.u8").value(), 200u);
  EXPECT_EQ(f.get_i32("t.i8").value(), -100);
  EXPECT_EQ(f.get_u32("t.u16").value(), 60000u);
  EXPECT_EQ(f.get_i64("t.i16").value(), -30000);
  EXPECT_EQ(f.get_u32("t.u32").value(), 4000000000u);
  EXPECT_FALSE(f.get_i32("t.u32").ok()); // does not fit
  EXPECT_EQ(f.get_i32("t.i32").value(), -2000000000);
  EXPECT_FALSE(f.get_u64("t.i32").ok()); // negative
  EXPECT_EQ(f.get_f32("t.f32").value(), 0.25f);
  EXPECT_TRUE(f.get_bool("t.bool").value());
  EXPECT_EQ(f.get_string("t.string").value(), "h\xc3\xa9llo\n\"w\"");
  EXPECT_EQ(f.get_string("t.empty_string").value(), "");
  EXPECT_EQ(f.get_u64("t.u64").value(), 18000000000000000000ull);
  EXPECT_FALSE(f.get_i64("t.u64").ok());
  EXPECT_EQ(f.get_i64("t.i64").value(), -9000000000000000000ll);
  EXPECT_EQ(f.find("t.f64")->as_f64().value(), -1.5e300);
  EXPECT_FALSE(f.get_f32("t.f64").ok()); // beyond float's range
  // Metadata keeps the order it was written in.
  EXPECT_EQ(f.metadata()[0].key, "general.architecture");
  EXPECT_EQ(f.metadata()[2].key, "t.u8");
}

TEST_F(gguf_round_trip, arrays_of_every_kind) {
  const auto& f = *file_;
  EXPECT_EQ(f.get_array<uint8_t>("a.u8").value().to_vector(),
            (std::vector<uint8_t>{1, 2, 255}));
  EXPECT_EQ(f.get_array<int16_t>("a.i16").value().to_vector(),
            (std::vector<int16_t>{-1, 2}));
  EXPECT_EQ(f.get_array<int32_t>("a.i32").value().to_vector(),
            (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(f.get_array<float>("a.f32").value().to_vector(),
            (std::vector<float>{0.5f, -2.f}));
  EXPECT_EQ(f.get_array<bool>("a.bool").value().to_vector(),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(f.get_array<uint64_t>("a.u64").value()[0], 1ull << 40);
  EXPECT_EQ(f.get_array<double>("a.f64").value()[0], 3.25);
  EXPECT_TRUE(f.get_array<uint32_t>("a.empty").value().empty());
  const auto strings = f.get_strings("a.string");
  ASSERT_TRUE(strings.ok());
  EXPECT_EQ(std::vector<std::string_view>(strings.value().begin(),
                                          strings.value().end()),
            (std::vector<std::string_view>{"<unk>", "", "\xe2\x96\x81the"}));
  const auto* nested = f.find("a.nested");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->element_type(), gguf_value_type::array);
  ASSERT_EQ(nested->count(), 3u);
  const auto& items = nested->elements();
  EXPECT_EQ(items[0].numbers<int8_t>()->to_vector(),
            (std::vector<int8_t>{-1, 1}));
  EXPECT_EQ(items[1].strings()[1], "yz");
  EXPECT_EQ(items[2].element_type(), gguf_value_type::array);
  EXPECT_EQ(items[2].count(), 0u);
  EXPECT_FALSE(f.get_array<int8_t>("a.nested").ok());
}

TEST_F(gguf_round_trip, tensors_keep_type_shape_and_bytes) {
  const auto& f = *file_;
  ASSERT_EQ(f.tensors().size(), sample_->data.size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& t = f.tensors()[i];
    SCOPED_TRACE(std::string(t.name));
    EXPECT_EQ(t.size_bytes, sample_->data[i].size());
    EXPECT_EQ(std::memcmp(t.data, sample_->data[i].data(), t.size_bytes), 0);
    EXPECT_EQ(t.file_offset % 32, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u);
  }
  const auto* q8 = f.tensor("q8_0.weight");
  EXPECT_EQ(q8->type, ggml_type::q8_0);
  EXPECT_EQ(q8->n_dims, 3u);
  EXPECT_EQ(q8->ne, (std::array<int64_t, 4>{64, 1, 2, 1}));
  EXPECT_EQ(q8->n_elements, 128);
  EXPECT_EQ(q8->size_bytes, 4u * 34u);
  EXPECT_EQ(f.tensor("bf16.weight")->n_dims, 4u);
  EXPECT_EQ(f.file_size() % 32, 0u);
}

TEST(gguf_writer, alignment_64_places_every_tensor) {
  const auto sample = test::make_sample(test::sample_kind::aligned_64);
  const auto r = test::parse(sample->writer.to_bytes());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& f = r.value();
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.file_size() % 64, 0u);
  for (const auto& t : f.tensors())
    EXPECT_EQ(t.file_offset % 64, 0u) << t.name;
  EXPECT_EQ(f.tensor("b")->type, ggml_type::q8_1);
  EXPECT_EQ(f.tensor("c")->size_bytes, 292u);
  const auto* deep = f.find("a.deep");
  const auto& inner = deep->elements()[0].elements()[0].elements()[0];
  EXPECT_EQ(inner.numbers<uint16_t>()->to_vector(),
            (std::vector<uint16_t>{7, 8}));
}

TEST(gguf_writer, empty_file_is_just_a_header) {
  const auto bytes = test::make_sample(test::sample_kind::empty)->writer.to_bytes();
  EXPECT_EQ(bytes.size(), 32u); // 24-byte header padded to the alignment
  const auto r = test::parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value().metadata().empty());
  EXPECT_TRUE(r.value().tensors().empty());
  EXPECT_EQ(r.value().architecture(), "");
}

TEST(gguf_writer, rewriting_stories260k_reproduces_it_byte_for_byte) {
  const auto source = test::stories260k_source();
  if (source.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  const auto original = gguf_file::open(source.string());
  ASSERT_TRUE(original.ok()) << original.error().to_string();
  gguf_writer w;
  for (const auto& kv : original.value().metadata())
    ASSERT_TRUE(w.add(std::string(kv.key), gguf_meta::copy_of(kv.value)).ok());
  for (const auto& t : original.value().tensors()) {
    const std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    ASSERT_TRUE(w.add_tensor(std::string(t.name), t.type, ne, t.data,
                             t.size_bytes)
                  .ok());
  }
  test::temp_dir dir;
  const auto copy = dir.path() / "copy.gguf";
  const auto written = w.write(copy.string());
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  EXPECT_EQ(written.value(), fs::file_size(source));
  EXPECT_EQ(test::read_bytes(copy), test::read_bytes(source));
}

TEST(gguf_writer, write_is_atomic_and_replaces) {
  test::temp_dir dir;
  const auto path = dir.path() / "model.gguf";
  test::write_text(path, "old contents");
  const auto sample = test::make_sample(test::sample_kind::tiny_llama);
  const auto r = sample->writer.write(path.string());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto bytes = test::read_bytes(path);
  EXPECT_EQ(r.value(), bytes.size());
  EXPECT_EQ(std::vector<unsigned char>(bytes.begin(), bytes.end()),
            sample->writer.to_bytes());
  // Nothing else is left in the directory (no temporary file).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()),
                          fs::directory_iterator{}),
            1);
  EXPECT_TRUE(gguf_file::open(path.string()).ok());
}

TEST(gguf_writer, write_into_a_missing_directory_is_an_error_value) {
  test::temp_dir dir;
  const auto path = (dir.path() / "no" / "such" / "m.gguf").string();
  const auto r = test::make_sample(test::sample_kind::empty)->writer.write(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path, path);
  EXPECT_TRUE(r.error().field.empty());
  EXPECT_NE(r.error().message.find("temporary file"), std::string::npos);
  EXPECT_FALSE(fs::exists(path));
}

TEST(gguf_writer, refuses_what_a_reader_would_refuse) {
  gguf_writer w;
  const float x[4] = {1, 2, 3, 4};
  ASSERT_TRUE(w.add("k", gguf_meta::u8(1)).ok());
  EXPECT_FALSE(w.add("k", gguf_meta::u8(2)).ok());
  EXPECT_FALSE(w.add("", gguf_meta::u8(2)).ok());
  EXPECT_FALSE(w.add(std::string(65536, 'k'), gguf_meta::u8(2)).ok());
  EXPECT_FALSE(w.add("general.alignment", gguf_meta::u32(48)).ok());
  EXPECT_FALSE(w.add("general.alignment", gguf_meta::u64(64)).ok());
  EXPECT_FALSE(w.add("a", gguf_meta::arrays({gguf_meta::u8(1)})).ok());
  // Even an empty array of arrays may not sit at the deepest level.
  gguf_meta empty_deep = gguf_meta::arrays({});
  for (int depth = 1; depth < gguf_max_array_depth; ++depth)
    empty_deep = gguf_meta::arrays({empty_deep});
  EXPECT_FALSE(w.add("empty_deep", empty_deep).ok());
  gguf_meta deep = gguf_meta::array(std::vector<uint8_t>{1});
  for (int depth = 1; depth <= gguf_max_array_depth; ++depth)
    deep = gguf_meta::arrays({deep});
  const auto too_deep = w.add("deep", deep);
  EXPECT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.code(), status_code::invalid_argument);
  EXPECT_FALSE(w.add_tensor("", ggml_type::f32, {4}, x, 16).ok());
  EXPECT_FALSE(w.add_tensor(std::string(64, 't'), ggml_type::f32, {4}, x, 16).ok());
  EXPECT_FALSE(w.add_tensor("t", ggml_type::f32, {}, x, 16).ok());
  EXPECT_FALSE(w.add_tensor("t", ggml_type::f32, {1, 1, 1, 1, 4}, x, 16).ok());
  EXPECT_FALSE(w.add_tensor("t", ggml_type::f32, {4, 0}, x, 0).ok());
  EXPECT_FALSE(w.add_tensor("t", ggml_type::f32, {4}, x, 12).ok());
  EXPECT_FALSE(w.add_tensor("t", ggml_type::q8_0, {4}, x, 16).ok());
  EXPECT_FALSE(w.add_tensor("t", static_cast<ggml_type>(99), {4}, x, 16).ok());
  ASSERT_TRUE(w.add_tensor("t", ggml_type::f32, {2, 2}, x, 16).ok());
  EXPECT_FALSE(w.add_tensor("t", ggml_type::f32, {4}, x, 16).ok());
  EXPECT_FALSE(w.add("general.alignment", gguf_meta::u32(64)).ok());
  // What was refused left no trace.
  const auto r = test::parse(w.to_bytes());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().metadata().size(), 1u);
  EXPECT_EQ(r.value().tensors().size(), 1u);
}

TEST(gguf_value_summary, renders_for_people) {
  const auto sample = test::make_sample(test::sample_kind::all_types);
  const auto r = test::parse(sample->writer.to_bytes());
  ASSERT_TRUE(r.ok());
  const auto& f = r.value();
  EXPECT_EQ(gguf_value_summary(*f.find("t.u32")), "u32 4000000000");
  EXPECT_EQ(gguf_value_summary(*f.find("t.i8")), "i8 -100");
  EXPECT_EQ(gguf_value_summary(*f.find("t.f32")), "f32 0.25");
  EXPECT_EQ(gguf_value_summary(*f.find("t.bool")), "bool true");
  EXPECT_EQ(gguf_value_summary(*f.find("t.string")),
            "string \"h\xc3\xa9llo\\n\\\"w\\\"\"");
  EXPECT_EQ(gguf_value_summary(*f.find("a.i32")), "[i32; 3] 1, -2, 3");
  EXPECT_EQ(gguf_value_summary(*f.find("a.i32"), 2), "[i32; 3] 1, -2, ...");
  EXPECT_EQ(gguf_value_summary(*f.find("a.string")),
            "[string; 3] \"<unk>\", \"\", \"\xe2\x96\x81the\"");
  EXPECT_EQ(gguf_value_summary(*f.find("a.nested")),
            "[array; 3] [i8; 2] {-1, 1}, [string; 2] {\"x\", \"yz\"}, "
            "[array; 0] {}");
  EXPECT_EQ(gguf_value_summary(*f.find("t.string"), 6, 3),
            "string \"h\xc3\xa9\"... (10 bytes)");
}

} // namespace
} // namespace troupe::gpu
