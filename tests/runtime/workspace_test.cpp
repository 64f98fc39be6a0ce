// workspace_resolve on real directories and symlinks.

#include "runtime/workspace.hpp"
#include "tests/runtime/test_files.hpp"

#include <gtest/gtest.h>

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

class workspace_test : public ::testing::Test {
protected:
  void SetUp() override {
    ws = scratch.path() / "ws";
    outside = scratch.path() / "outside";
    fs::create_directories(ws / "real");
    fs::create_directories(outside);
    test::write_text(outside / "secret.txt", "secret");
    test::write_text(ws / "real" / "f.txt", "inside");
  }

  // The error for `relative`, or "" when it resolved.
  std::string refusal(const std::string& relative) {
    auto r = workspace_resolve(ws, relative);
    return r.ok() ? std::string{} : r.error();
  }

  test::temp_dir scratch;
  fs::path ws;
  fs::path outside;
};

TEST_F(workspace_test, ResolvesPathsInside) {
  const fs::path root = fs::canonical(ws);
  auto existing = workspace_resolve(ws, "real/f.txt");
  ASSERT_TRUE(existing.ok()) << existing.error();
  EXPECT_EQ(existing.value(), root / "real" / "f.txt");
  auto fresh = workspace_resolve(ws, "new/dir/f.txt");
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  EXPECT_EQ(fresh.value(), root / "new" / "dir" / "f.txt");
  auto messy = workspace_resolve(ws, "./real//../real/./f.txt");
  ASSERT_TRUE(messy.ok()) << messy.error();
  EXPECT_EQ(messy.value(), root / "real" / "f.txt");
  EXPECT_EQ(workspace_relative_name("./a//b.txt"), "a/b.txt");
}

TEST_F(workspace_test, RefusesLexicalEscapes) {
  const std::pair<std::string, std::string> cases[] = {
    {"", "empty"},
    {"../x", "leaves the workspace"},
    {"..", "leaves the workspace"},
    {"a/../../x", "leaves the workspace"},
    {"real/../../outside/secret.txt", "leaves the workspace"},
    {"/etc/passwd", "absolute path"},
    {std::string{"a\0b", 3}, "NUL byte"},
    {".", "workspace itself"},
    {"a/..", "workspace itself"},
    {"real/", "names a directory"},
  };
  for (const auto& [path, expected] : cases) {
    const std::string why = refusal(path);
    EXPECT_NE(why.find(expected), std::string::npos) << "path '" << path << "': " << why;
  }
}

TEST_F(workspace_test, RefusesSymlinkEscapes) {
  fs::create_directory_symlink(outside, ws / "out_dir");
  fs::create_symlink(outside / "secret.txt", ws / "out_file");
  fs::create_directory_symlink("../..", ws / "real" / "up_up");
  for (const char* path : {"out_dir/secret.txt", "out_dir", "out_dir/new.txt", "out_file",
                           "real/up_up/outside/secret.txt"}) {
    const std::string why = refusal(path);
    EXPECT_NE(why.find("through a symlink"), std::string::npos) << path << ": " << why;
  }
}

TEST_F(workspace_test, RefusesDanglingSymlinks) {
  fs::create_symlink(outside / "not_yet.txt", ws / "dangling");
  for (const char* path : {"dangling", "dangling/x.txt"}) {
    const std::string why = refusal(path);
    EXPECT_NE(why.find("dangling symlink 'dangling'"), std::string::npos) << path << ": " << why;
  }
}

TEST_F(workspace_test, FollowsSymlinksThatStayInside) {
  fs::create_directory_symlink(ws / "real", ws / "alias");
  fs::create_symlink("real/f.txt", ws / "rel_link");
  auto through_dir = workspace_resolve(ws, "alias/f.txt");
  ASSERT_TRUE(through_dir.ok()) << through_dir.error();
  EXPECT_EQ(through_dir.value(), fs::canonical(ws) / "real" / "f.txt");
  auto file_link = workspace_resolve(ws, "rel_link");
  ASSERT_TRUE(file_link.ok()) << file_link.error();
  EXPECT_EQ(file_link.value(), fs::canonical(ws) / "real" / "f.txt");
}

TEST_F(workspace_test, RootMayBeASymlinkButMustExist) {
  fs::create_directory_symlink(ws, scratch.path() / "ws_link");
  auto via_link = workspace_resolve(scratch.path() / "ws_link", "real/f.txt");
  ASSERT_TRUE(via_link.ok()) << via_link.error();
  EXPECT_EQ(via_link.value(), fs::canonical(ws) / "real" / "f.txt");
  auto missing = workspace_resolve(scratch.path() / "nowhere", "f.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("not an existing directory"), std::string::npos);
  auto file_root = workspace_resolve(outside / "secret.txt", "f.txt");
  EXPECT_FALSE(file_root.ok());
}

TEST_F(workspace_test, SiblingWithCommonPrefixIsOutside) {
  // "/tmp/x/ws2" starts with the characters of "/tmp/x/ws" but is not in it.
  fs::create_directories(scratch.path() / "ws2");
  fs::create_directory_symlink(scratch.path() / "ws2", ws / "sib");
  EXPECT_NE(refusal("sib/f.txt").find("through a symlink"), std::string::npos);
}

} // namespace
} // namespace troupe::runtime
