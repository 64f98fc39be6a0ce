// The fuzzer's seed corpus, tests/fuzz/corpus/fuzz_gguf/, holds exactly the
// sample files gguf_writer makes; run gpu_tests with
// TROUPE_UPDATE_FUZZ_SEEDS=1 to write them again after changing a sample.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/gpu/gguf_samples.hpp"
#include "tests/runtime/test_files.hpp"

namespace troupe::gpu {
namespace {

namespace fs = std::filesystem;

TEST(gguf_fuzz_seeds, corpus_holds_the_writer_samples) {
  const fs::path dir =
    fs::path(TROUPE_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "fuzz_gguf";
  const bool update = std::getenv("TROUPE_UPDATE_FUZZ_SEEDS") != nullptr;
  for (const auto& [kind, name] : test::sample_kinds()) {
    SCOPED_TRACE(name);
    const auto bytes = test::make_sample(kind)->writer.to_bytes();
    EXPECT_LT(bytes.size(), 20u * 1024u);
    const auto parsed = test::parse(bytes);
    EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
    if (update) {
      fs::create_directories(dir);
      test::write_bytes(dir / name, std::vector<char>(bytes.begin(), bytes.end()));
    }
    const auto seed = test::read_bytes(dir / name);
    EXPECT_TRUE(std::vector<unsigned char>(seed.begin(), seed.end()) == bytes)
      << (dir / name) << " differs from the sample; run gpu_tests with "
         "TROUPE_UPDATE_FUZZ_SEEDS=1 to regenerate the seeds";
  }
}

} // namespace
} // namespace troupe::gpu
