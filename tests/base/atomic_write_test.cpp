// base::atomic_write on real files: contents, modes, no temporary left
// behind, and each failure naming the path with the file left as it was.
#include "runtime/base/atomic_write.hpp"

#include "tests/runtime/test_files.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace troupe::base {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  const auto bytes = test::read_bytes(p);
  return {bytes.begin(), bytes.end()};
}

::mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  return names;
}

TEST(base_atomic_write, creates_a_file_with_the_given_mode) {
  test::temp_dir dir;
  const fs::path p = dir.path() / "out.txt";
  ASSERT_EQ(atomic_write(p, "hello\n"), std::nullopt);
  EXPECT_EQ(read_text(p), "hello\n");
  EXPECT_EQ(mode_of(p), 0644u);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.txt"});

  const fs::path q = dir.path() / "private";
  ASSERT_EQ(atomic_write(q, "", 0600), std::nullopt);
  EXPECT_EQ(read_text(q), "");
  EXPECT_EQ(mode_of(q), 0600u);
}

TEST(base_atomic_write, replaces_a_file_and_keeps_its_mode) {
  test::temp_dir dir;
  const fs::path p = dir.path() / "script.sh";
  test::write_text(p, "old contents that are longer than the new ones\n");
  ASSERT_EQ(::chmod(p.c_str(), 0750), 0);
  ASSERT_EQ(atomic_write(p, "new\n"), std::nullopt);
  EXPECT_EQ(read_text(p), "new\n");
  EXPECT_EQ(mode_of(p), 0750u);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"script.sh"});
}

TEST(base_atomic_write, writes_parts_in_order) {
  test::temp_dir dir;
  const fs::path p = dir.path() / "parts.bin";
  const std::string big(1 << 20, 'x');
  const std::string nul("\0\0", 2);
  ASSERT_EQ(atomic_write_parts(p, {"head:", big, "", nul, ":tail"}), std::nullopt);
  EXPECT_EQ(read_text(p), "head:" + big + nul + ":tail");
}

TEST(base_atomic_write, a_missing_directory_is_an_error_naming_the_path) {
  test::temp_dir dir;
  const fs::path p = dir.path() / "no" / "such" / "dir" / "out.txt";
  const auto err = atomic_write(p, "x");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, p.string());
  EXPECT_NE(err->message.find("temporary file"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("No such file or directory"), std::string::npos) << err->message;
  EXPECT_EQ(err->to_string().rfind(p.string() + ": ", 0), 0u) << err->to_string();
  EXPECT_FALSE(fs::exists(p));
}

TEST(base_atomic_write, a_file_where_the_directory_should_be_is_an_error) {
  test::temp_dir dir;
  test::write_text(dir.path() / "plain", "not a directory");
  const fs::path p = dir.path() / "plain" / "out.txt";
  const auto err = atomic_write(p, "x");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, p.string());
  EXPECT_NE(err->message.find("Not a directory"), std::string::npos) << err->message;
  EXPECT_EQ(read_text(dir.path() / "plain"), "not a directory");
}

TEST(base_atomic_write, a_failed_rename_removes_the_temporary_file) {
  // A directory is in the way: the data is written and synced, then the
  // rename fails (a file cannot replace a directory), whoever runs it.
  test::temp_dir dir;
  const fs::path p = dir.path() / "taken";
  fs::create_directory(p);
  test::write_text(p / "inside", "kept");
  const auto err = atomic_write(p, "x");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, p.string());
  EXPECT_NE(err->message.find("cannot rename"), std::string::npos) << err->message;
  EXPECT_FALSE(err->offset.has_value());
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"taken"});
  EXPECT_EQ(read_text(p / "inside"), "kept");
}

TEST(base_atomic_write, a_read_only_directory_is_an_error_and_the_file_is_kept) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root writes into read-only directories";
  test::temp_dir dir;
  const fs::path locked = dir.path() / "locked";
  fs::create_directory(locked);
  test::write_text(locked / "out.txt", "old");
  ASSERT_EQ(::chmod(locked.c_str(), 0555), 0);
  const auto err = atomic_write(locked / "out.txt", "new");
  ::chmod(locked.c_str(), 0755);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, (locked / "out.txt").string());
  EXPECT_NE(err->message.find("Permission denied"), std::string::npos) << err->message;
  EXPECT_EQ(read_text(locked / "out.txt"), "old");
}

TEST(base_atomic_write, a_file_system_that_refuses_new_files_is_an_error) {
  // /proc takes no new files, even from root: the read-only case that runs
  // under any user.
  if (!fs::is_directory("/proc/self"))
    GTEST_SKIP() << "no /proc";
  const fs::path p = "/proc/troupe_atomic_write_test";
  const auto err = atomic_write(p, "x");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, p.string());
  EXPECT_NE(err->message.find("temporary file"), std::string::npos) << err->message;
  EXPECT_FALSE(fs::exists(p));
}

} // namespace
} // namespace troupe::base
