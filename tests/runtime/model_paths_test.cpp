#include "runtime/model_paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "tests/runtime/test_files.hpp"

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

// Each test starts with TROUPE_MODELS_DIR unset and the current directory in
// a fresh scratch dir; both are restored afterwards.
class model_paths_test : public testing::Test {
protected:
  void SetUp() override {
    if (const char* env = std::getenv("TROUPE_MODELS_DIR"))
      saved_env_ = env;
    ::unsetenv("TROUPE_MODELS_DIR");
    saved_cwd_ = fs::current_path();
    fs::current_path(dir_.path());
  }

  void TearDown() override {
    fs::current_path(saved_cwd_);
    if (saved_env_)
      ::setenv("TROUPE_MODELS_DIR", saved_env_->c_str(), 1);
    else
      ::unsetenv("TROUPE_MODELS_DIR");
  }

  // Creates dir_/<rel>/<name> holding a few bytes and returns its path.
  fs::path make_model(const fs::path& rel, const std::string& name) {
    fs::create_directories(dir_.path() / rel);
    const fs::path path = dir_.path() / rel / name;
    test::write_text(path, "GGUF");
    return path;
  }

  test::temp_dir dir_;
  fs::path saved_cwd_;
  std::optional<std::string> saved_env_;
};

TEST_F(model_paths_test, environment_variable_wins_over_config_and_default) {
  const auto env_model = make_model("from_env", "m.gguf");
  make_model("from_config", "m.gguf");
  make_model("models", "m.gguf");
  test::write_text(dir_.path() / "troupe.toml",
                   "[paths]\nmodels = \"from_config\"\n");
  ::setenv("TROUPE_MODELS_DIR", (dir_.path() / "from_env").c_str(), 1);
  const auto res = model_path_resolve("m.gguf");
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_TRUE(fs::equivalent(res.value(), env_model));
}

TEST_F(model_paths_test, environment_variable_is_the_only_place_searched) {
  make_model("models", "m.gguf");
  ::setenv("TROUPE_MODELS_DIR", (dir_.path() / "empty").c_str(), 1);
  const auto res = model_path_resolve("m.gguf");
  ASSERT_FALSE(res.ok());
  ASSERT_EQ(res.error().searched.size(), 1u);
  EXPECT_EQ(res.error().searched[0], dir_.path() / "empty" / "m.gguf");
  EXPECT_NE(res.error().message.find("TROUPE_MODELS_DIR"), std::string::npos);
  EXPECT_NE(res.error().message.find("m.gguf"), std::string::npos);
}

TEST_F(model_paths_test, empty_environment_variable_counts_as_unset) {
  const auto local = make_model("models", "m.gguf");
  ::setenv("TROUPE_MODELS_DIR", "", 1);
  const auto res = model_path_resolve("m.gguf");
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_TRUE(fs::equivalent(res.value(), local));
}

TEST_F(model_paths_test, config_in_current_dir_is_relative_to_itself) {
  const auto model = make_model("conf/weights", "m.gguf");
  make_model("models", "m.gguf");
  test::write_text(dir_.path() / "troupe.toml",
                   "[paths]\nmodels = \"conf/weights\"\n");
  const auto res = model_path_resolve("m.gguf");
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_TRUE(fs::equivalent(res.value(), model));
}

TEST_F(model_paths_test, explicit_config_file_is_read) {
  const auto model = make_model("elsewhere/weights", "m.gguf");
  const fs::path config = dir_.path() / "elsewhere" / "my.toml";
  test::write_text(config, "paths.models = \"weights\"\n");
  const auto dirs = models_dir_candidates({config});
  ASSERT_TRUE(dirs.ok()) << dirs.error().message;
  ASSERT_EQ(dirs.value().size(), 1u);
  EXPECT_EQ(dirs.value()[0].origin, models_dir_origin::config_file);
  const auto res = model_path_resolve("m.gguf", {config});
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_TRUE(fs::equivalent(res.value(), model));
}

TEST_F(model_paths_test, missing_explicit_config_is_an_error) {
  const auto res = model_path_resolve("m.gguf", {dir_.path() / "no.toml"});
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("no.toml"), std::string::npos);
}

TEST_F(model_paths_test, malformed_config_reports_line_and_column) {
  test::write_text(dir_.path() / "troupe.toml", "[paths]\nmodels = \n");
  const auto res = model_path_resolve("m.gguf");
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("troupe.toml:2:"), std::string::npos)
    << res.error().message;
}

TEST_F(model_paths_test, non_string_models_key_is_an_error) {
  test::write_text(dir_.path() / "troupe.toml", "[paths]\nmodels = 5\n");
  const auto res = model_path_resolve("m.gguf");
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("troupe.toml:2:"), std::string::npos);
  EXPECT_NE(res.error().message.find("must be a string"), std::string::npos);
}

TEST_F(model_paths_test, config_without_models_key_falls_back_to_default) {
  const auto local = make_model("models", "m.gguf");
  test::write_text(dir_.path() / "troupe.toml", "[other]\nx = 1\n");
  const auto res = model_path_resolve("m.gguf");
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_TRUE(fs::equivalent(res.value(), local));
}

TEST_F(model_paths_test, not_found_lists_every_default_place) {
  const auto res = model_path_resolve("absent.gguf");
  ASSERT_FALSE(res.ok());
  ASSERT_GE(res.error().searched.size(), 1u);
  EXPECT_EQ(res.error().searched[0], dir_.path() / "models" / "absent.gguf");
  for (const auto& p : res.error().searched)
    EXPECT_NE(res.error().message.find(p.string()), std::string::npos) << p;
  EXPECT_NE(res.error().message.find("scripts/setup"), std::string::npos);
}

TEST_F(model_paths_test, name_with_directory_is_a_path) {
  const auto model = make_model("direct", "m.gguf");
  const auto res = model_path_resolve(model.string());
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res.value(), model);
  EXPECT_FALSE(model_path_resolve("direct/none.gguf").ok());
  EXPECT_FALSE(model_path_resolve("").ok());
}

// Content checks of the resolved file live with the reader (gpu_tests,
// gguf_file_test.cpp) and the probe actor (actors_tests).
TEST_F(model_paths_test, resolves_the_real_model) {
  const auto source = test::stories260k_source();
  if (source.empty())
    GTEST_SKIP() << "stories260K.gguf not found beside the repository";
  fs::create_directories(dir_.path() / "real");
  fs::copy_file(source, dir_.path() / "real" / "stories260K.gguf");
  ::setenv("TROUPE_MODELS_DIR", (dir_.path() / "real").c_str(), 1);
  const auto path = model_path_resolve("stories260K.gguf");
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(path.value(), dir_.path() / "real" / "stories260K.gguf");
  EXPECT_EQ(fs::file_size(path.value()), fs::file_size(source));
}

} // namespace
} // namespace troupe::runtime
