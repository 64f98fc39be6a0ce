// Files made by gguf_writer, then cut short or with one field overwritten:
// each must fail with the field's name and its exact byte offset.
#include <algorithm>
#include <cstring>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gpu/gguf/gguf_file.hpp"
#include "tests/gpu/gguf_samples.hpp"

namespace troupe::gpu {
namespace {

using bytes_t = std::vector<unsigned char>;

void put_u32(bytes_t& b, uint64_t at, uint32_t v) {
  std::memcpy(b.data() + at, &v, 4);
}

void put_u64(bytes_t& b, uint64_t at, uint64_t v) {
  std::memcpy(b.data() + at, &v, 8);
}

// Where the fields of tensor descriptor `t` lie.
struct tensor_fields {
  uint64_t n_dims, ne0, type, offset;
};

tensor_fields fields_of(const gguf_tensor& t) {
  const uint64_t n_dims = t.info_offset + 8 + t.name.size();
  const uint64_t type = n_dims + 4 + 8 * t.n_dims;
  return {n_dims, n_dims + 4, type, type + 4};
}

class gguf_corruption : public testing::Test {
protected:
  void SetUp() override {
    sample_ = test::make_sample(test::sample_kind::all_types);
    bytes_ = sample_->writer.to_bytes();
    auto f = test::parse(bytes_);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    file_ = std::make_unique<gguf_file>(std::move(f).value());
  }

  uint64_t value_at(const char* key) const {
    return file_->find(key)->offset();
  }

  const gguf_tensor& tensor(const char* name) const {
    return *file_->tensor(name);
  }

  std::unique_ptr<test::gguf_sample> sample_;
  bytes_t bytes_;
  std::unique_ptr<gguf_file> file_;
};

// The error for the first tensor (in descriptor order) whose data a file
// cut to `size` bytes no longer holds: at its data when that starts inside
// the file, else at its offset field.
std::pair<uint64_t, std::string> data_cut_error(const gguf_file& f,
                                                uint64_t size) {
  for (const auto& t : f.tensors()) {
    if (t.file_offset + t.size_bytes <= size)
      continue;
    if (t.file_offset <= size)
      return {t.file_offset, std::string(t.name) + ":data"};
    return {fields_of(t).offset, std::string(t.name) + ":offset"};
  }
  return {0, ""};
}

TEST_F(gguf_corruption, every_truncation_fails_at_or_before_the_cut) {
  const auto& f = *file_;
  uint64_t data_end = 0;
  for (const auto& t : f.tensors())
    data_end = std::max(data_end, t.file_offset + t.size_bytes);
  ASSERT_LT(data_end, bytes_.size()); // the last tensor is padded
  const uint64_t counts_fit = 24 + f.tensors().size() * 33
                              + f.metadata().size() * 14;
  const uint64_t infos_end = fields_of(f.tensors().back()).offset + 8;
  std::vector<uint64_t> records; // where each key/value and descriptor starts
  for (const auto& kv : f.metadata())
    records.push_back(kv.offset);
  for (const auto& t : f.tensors())
    records.push_back(t.info_offset);
  for (uint64_t cut = 0; cut < bytes_.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const bytes_t head(bytes_.begin(), bytes_.begin() + cut);
    const auto r = test::parse(head);
    if (cut >= data_end) { // only trailing padding is missing
      EXPECT_TRUE(r.ok()) << r.error().to_string();
      continue;
    }
    ASSERT_FALSE(r.ok());
    const auto& e = r.error();
    EXPECT_LE(e.offset, cut) << e.to_string();
    EXPECT_FALSE(e.field.empty());
    EXPECT_FALSE(e.message.empty());
    EXPECT_NE(e.to_string().find("test.gguf: byte " + std::to_string(e.offset)
                                 + ": field '" + e.field + "': "),
              std::string::npos);
    if (cut < 24) {
      const uint64_t header_field = cut < 4 ? 0 : cut < 8 ? 4 : cut < 16 ? 8 : 16;
      EXPECT_EQ(e.offset, header_field) << e.to_string();
    } else if (cut < counts_fit) {
      EXPECT_TRUE(e.offset == 8 || e.offset == 16) << e.to_string();
    } else if (cut >= infos_end) {
      const auto [at, field] = data_cut_error(f, cut);
      EXPECT_EQ(e.offset, at) << e.to_string();
      EXPECT_EQ(e.field, field) << e.to_string();
    } else { // inside the record that was cut
      const uint64_t record = *std::prev(
        std::upper_bound(records.begin(), records.end(), cut));
      EXPECT_GE(e.offset, record) << e.to_string();
    }
  }
}

TEST_F(gguf_corruption, cuts_inside_fields_name_them) {
  const auto& f = *file_;
  const auto& kv3 = f.metadata()[3];
  // Cuts before this fail the header's count check instead.
  ASSERT_GE(kv3.offset, 24 + f.tensors().size() * 33 + f.metadata().size() * 14);
  const uint64_t strings_at = value_at("a.string") + 12;
  const auto& q4 = tensor("q4_0.weight");
  struct cut_case {
    uint64_t cut, offset;
    std::string field;
  };
  const cut_case cases[] = {
    {kv3.offset + 10, kv3.offset, "metadata[3]:key"},
    {value_at("t.u64") + 3, value_at("t.u64"), "t.u64"},
    {value_at("t.string") + 12, value_at("t.string"), "t.string"},
    {value_at("a.i32") + 12 + 5, value_at("a.i32") + 4, "a.i32:count"},
    // Third string: after "<unk>" (8 + 5 bytes) and "" (8 bytes).
    {strings_at + 21 + 10, strings_at + 21, "a.string[2]"},
    {fields_of(q4).ne0 + 12, fields_of(q4).ne0 + 8, "q4_0.weight:ne[1]"},
    {fields_of(q4).type + 2, fields_of(q4).type, "q4_0.weight:type"},
    {q4.file_offset + 7, q4.file_offset, "q4_0.weight:data"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    const auto r = test::parse(bytes_t(bytes_.begin(), bytes_.begin() + c.cut));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, c.offset) << r.error().to_string();
    EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
    EXPECT_NE(r.error().message.find("truncated"), std::string::npos)
      << r.error().to_string();
  }
}

struct edit_case {
  std::string what;
  std::function<void(bytes_t&)> edit;
  uint64_t offset;
  std::string field;
  std::string says;
};

TEST_F(gguf_corruption, overwritten_fields_fail_at_their_offset) {
  const auto& f = *file_;
  const auto& f32 = tensor("f32.weight");
  const auto& f16 = tensor("f16.weight");
  const auto& q4 = tensor("q4_0.weight");
  const auto& q8 = tensor("q8_0.weight");
  const uint64_t u8_at = value_at("t.u8");
  const uint64_t au8_at = value_at("a.u8");
  const uint64_t nested1 = value_at("a.nested") + 12 + 12 + 2;
  const auto& kv3 = f.metadata()[3];
  const std::vector<edit_case> cases = {
    {"bad magic", [](auto& b) { b[1] = 'X'; }, 0, "magic", "not a GGUF file"},
    {"version 1", [](auto& b) { put_u32(b, 4, 1); }, 4, "version",
     "version 1 is not supported"},
    {"version 4", [](auto& b) { put_u32(b, 4, 4); }, 4, "version",
     "unsupported GGUF version 4"},
    {"big-endian", [](auto& b) { put_u32(b, 4, 0x03000000u); }, 4, "version",
     "big-endian"},
    {"huge tensor count", [](auto& b) { put_u64(b, 8, 1ull << 62); }, 8,
     "tensor_count", "cannot fit"},
    {"huge kv count", [](auto& b) { put_u64(b, 16, ~0ull); }, 16,
     "metadata_kv_count", "cannot fit"},
    {"key length past EOF", [](auto& b) { put_u64(b, 24, 1ull << 40); }, 24,
     "metadata[0]:key", "runs past the end of the file"},
    {"string length past EOF",
     [&](auto& b) { put_u64(b, value_at("t.string"), b.size()); },
     value_at("t.string"), "t.string", "runs past the end of the file"},
    {"unknown value type", [&](auto& b) { put_u32(b, u8_at - 4, 13); },
     u8_at - 4, "t.u8:type", "unknown value type 13"},
    {"unknown element type", [&](auto& b) { put_u32(b, au8_at, 77); }, au8_at,
     "a.u8:element_type", "unknown element type 77"},
    {"huge array count", [&](auto& b) { put_u64(b, au8_at + 4, 1ull << 50); },
     au8_at + 4, "a.u8:count", "remain before the end of the file"},
    {"nested element type", [&](auto& b) { put_u32(b, nested1, 13); }, nested1,
     "a.nested[1]:element_type", "unknown element type 13"},
    {"bool value 5", [&](auto& b) { b[value_at("t.bool")] = 5; },
     value_at("t.bool"), "t.bool", "bool byte is 5"},
    {"bool element 3", [&](auto& b) { b[value_at("a.bool") + 13] = 3; },
     value_at("a.bool") + 13, "a.bool[1]", "bool byte is 3"},
    {"duplicate key", [&](auto& b) { b[kv3.offset + 8 + 2] = 'u'; },
     kv3.offset, "metadata[3]:key", "duplicate key 't.u8'"},
    {"misaligned offset",
     [&](auto& b) { put_u64(b, fields_of(q4).offset, q4.offset + 8); },
     fields_of(q4).offset, "q4_0.weight:offset", "not a multiple of the"
                                                 " alignment 32"},
    {"offset past EOF",
     [&](auto& b) { put_u64(b, fields_of(q4).offset, 1ull << 40); },
     fields_of(q4).offset, "q4_0.weight:offset", "past the end of the file"},
    {"unknown ggml type", [&](auto& b) { put_u32(b, fields_of(f16).type, 99); },
     fields_of(f16).type, "f16.weight:type", "unknown ggml type 99"},
    {"dimension 0", [&](auto& b) { put_u64(b, fields_of(f32).ne0 + 8, 0); },
     fields_of(f32).ne0 + 8, "f32.weight:ne[1]", "dimension 1 is 0"},
    {"n_dims 0", [&](auto& b) { put_u32(b, fields_of(f32).n_dims, 0); },
     fields_of(f32).n_dims, "f32.weight:n_dims", "0 dimensions"},
    {"element count overflow",
     [&](auto& b) {
       put_u64(b, fields_of(f32).ne0, 1ull << 32);
       put_u64(b, fields_of(f32).ne0 + 8, 1ull << 32);
     },
     fields_of(f32).ne0 + 8, "f32.weight:ne[1]", "overflows int64"},
    {"overlap", [&](auto& b) { put_u64(b, fields_of(q4).offset, f16.offset); },
     fields_of(q4).offset, "q4_0.weight:offset", "overlaps tensor 'f16.weight'"},
    {"duplicate tensor name", [&](auto& b) {
       std::memcpy(b.data() + q8.info_offset + 8, "q4_0", 4);
     },
     q8.info_offset, "tensors[3]:name",
     "duplicate tensor name 'q4_0.weight' (first at tensors[2]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    bytes_t b = bytes_;
    c.edit(b);
    const auto r = test::parse(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, c.offset) << r.error().to_string();
    EXPECT_EQ(r.error().field, c.field) << r.error().to_string();
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
      << r.error().to_string();
  }
}

TEST(gguf_corruption_aligned, alignment_value_is_checked) {
  const auto sample = test::make_sample(test::sample_kind::aligned_64);
  auto bytes = sample->writer.to_bytes();
  const auto f = test::parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  const uint64_t at = f.value().find("general.alignment")->offset();
  for (uint32_t bad : {0u, 48u, 65u}) {
    put_u32(bytes, at, bad);
    const auto r = test::parse(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, at);
    EXPECT_EQ(r.error().field, "general.alignment");
    EXPECT_NE(r.error().message.find("not a power of two"), std::string::npos);
  }
  // A smaller power of two is valid, but 64-aligned offsets stay aligned.
  put_u32(bytes, at, 16);
  EXPECT_TRUE(test::parse(bytes).ok());
  // Nesting one level deeper than allowed: the innermost u16 array's
  // element type becomes "array".
  bytes = sample->writer.to_bytes();
  const uint64_t deep = f.value().find("a.deep")->offset();
  const uint64_t innermost = deep + 3 * 12;
  put_u32(bytes, innermost, 9);
  const auto r = test::parse(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, innermost) << r.error().to_string();
  EXPECT_EQ(r.error().field, "a.deep[0][0][0]:element_type");
  EXPECT_NE(r.error().message.find("nest deeper than 4"), std::string::npos);
}

// Random damage anywhere never crashes the reader (ASan/UBSan builds check
// that no byte outside the input is read) and always yields a located error
// or a file that passed every check.
TEST(gguf_corruption_random, random_byte_flips_are_errors_or_valid) {
  for (const auto& [kind, name] : test::sample_kinds()) {
    const auto sample = test::make_sample(kind);
    const bytes_t original = sample->writer.to_bytes();
    const auto noise = test::random_bytes(3 * 4000, 99);
    for (size_t i = 0; i < 4000 && !original.empty(); ++i) {
      bytes_t b = original;
      const size_t at = (noise[3 * i] | noise[3 * i + 1] << 8) % b.size();
      b[at] = noise[3 * i + 2];
      const auto r = test::parse(b);
      if (!r.ok()) {
        EXPECT_LE(r.error().offset, b.size()) << name;
        EXPECT_FALSE(r.error().message.empty()) << name;
      }
    }
  }
}

} // namespace
} // namespace troupe::gpu
