#include "runtime/journal.hpp"

#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/runtime/test_files.hpp"

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  const auto bytes = test::read_bytes(path);
  return {bytes.begin(), bytes.end()};
}

class journal_test : public testing::Test {
protected:
  // Writes three events through a writer and returns the file's text.
  std::string write_three() {
    auto opened = journal_writer::open(file_);
    if (!opened.ok()) {
      ADD_FAILURE() << opened.error().message;
      return {};
    }
    auto w = std::move(opened).value();
    EXPECT_TRUE(w.append({{"event", "run_started"}, {"ts", 100}}).ok());
    EXPECT_TRUE(w.append({{"event", "step_finished"}, {"step", "a"},
                          {"output", "alpha"}, {"ts", 200}},
                         true)
                  .ok());
    EXPECT_TRUE(w.append({{"event", "run_finished"}, {"status", "ok"},
                          {"ts", 300}})
                  .ok());
    return read_text(file_);
  }

  test::temp_dir dir_;
  fs::path file_ = dir_.path() / "journal.jsonl";
};

TEST_F(journal_test, events_come_back_in_order_one_line_each) {
  const std::string text = write_three();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_EQ(text.back(), '\n');
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_FALSE(read.value().warning);
  const auto& events = read.value().events;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["event"], "run_started");
  EXPECT_EQ(events[1]["output"], "alpha");
  EXPECT_EQ(events[1]["ts"], 200);
  EXPECT_EQ(events[2]["status"], "ok");
}

TEST_F(journal_test, missing_ts_is_stamped_with_now) {
  auto opened = journal_writer::open(file_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto writer = std::move(opened).value();
  const std::int64_t before = journal_now_us();
  const auto ts = writer.append({{"event", "route"}});
  ASSERT_TRUE(ts.ok()) << ts.error().message;
  const std::int64_t after = journal_now_us();
  EXPECT_GE(ts.value(), before);
  EXPECT_LE(ts.value(), after);
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read.value().events.size(), 1u);
  EXPECT_EQ(read.value().events[0]["ts"], ts.value());
}

TEST_F(journal_test, reopening_appends_after_existing_events) {
  write_three();
  auto opened = journal_writer::open(file_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto writer = std::move(opened).value();
  EXPECT_EQ(writer.torn_bytes_dropped(), 0u);
  ASSERT_TRUE(writer.append({{"event", "run_started"}}, true).ok());
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read.value().events.size(), 4u);
  EXPECT_EQ(read.value().events[3]["event"], "run_started");
}

TEST_F(journal_test, torn_final_line_is_dropped_with_a_warning) {
  const std::string text = write_three();
  // Cut the file in the middle of the third line, as SIGKILL mid-write
  // would.
  const std::size_t third = text.rfind('\n', text.size() - 2) + 1;
  fs::resize_file(file_, third + 7);
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read.value().events.size(), 2u);
  ASSERT_TRUE(read.value().warning);
  EXPECT_NE(read.value().warning->find(file_.string() + ":3:"),
            std::string::npos)
    << *read.value().warning;
  EXPECT_NE(read.value().warning->find("torn"), std::string::npos);
}

TEST_F(journal_test, final_line_of_garbage_with_newline_is_dropped) {
  write_three();
  test::write_text(file_, read_text(file_) + std::string(5, '\0') + "\n");
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read.value().events.size(), 3u);
  ASSERT_TRUE(read.value().warning);
  EXPECT_NE(read.value().warning->find(":4:"), std::string::npos);
}

TEST_F(journal_test, open_cuts_a_final_line_of_garbage_before_appending) {
  write_three();
  test::write_text(file_, read_text(file_) + std::string(5, '\0') + "\n");
  auto opened = journal_writer::open(file_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto writer = std::move(opened).value();
  EXPECT_EQ(writer.torn_bytes_dropped(), 6u);
  ASSERT_TRUE(writer.append({{"event", "run_started"}}).ok());
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_FALSE(read.value().warning);
  EXPECT_EQ(read.value().events.size(), 4u);
}

TEST_F(journal_test, open_cuts_a_torn_tail_so_new_events_stay_readable) {
  const std::string text = write_three();
  fs::resize_file(file_, text.size() - 5);
  auto opened = journal_writer::open(file_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto writer = std::move(opened).value();
  const std::size_t third = text.rfind('\n', text.size() - 2) + 1;
  EXPECT_EQ(writer.torn_bytes_dropped(), text.size() - 5 - third);
  ASSERT_TRUE(writer.append({{"event", "run_started"}}).ok());
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_FALSE(read.value().warning);
  ASSERT_EQ(read.value().events.size(), 3u);
  EXPECT_EQ(read.value().events[1]["event"], "step_finished");
  EXPECT_EQ(read.value().events[2]["event"], "run_started");
}

TEST_F(journal_test, bad_line_in_the_middle_is_an_error_with_its_line) {
  test::write_text(file_,
                   "{\"ts\":1,\"event\":\"a\"}\n"
                   "{\"ts\":2,\"event\":\"b\"\n"
                   "{\"ts\":3,\"event\":\"c\"}\n");
  const auto read = read_journal(file_);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().line, 2u);
  EXPECT_EQ(read.error().message.rfind(file_.string() + ":2: invalid JSON", 0),
            0u)
    << read.error().message;
}

TEST_F(journal_test, lines_without_the_common_fields_are_errors) {
  struct bad_case {
    std::string line;
    std::string problem;
  };
  const bad_case cases[] = {
    {"[1,2]", "not a JSON object"},
    {"{\"event\":\"a\"}", "no integer \"ts\""},
    {"{\"event\":\"a\",\"ts\":1.5}", "no integer \"ts\""},
    {"{\"ts\":1}", "no string \"event\""},
    {"{\"ts\":1,\"event\":7}", "no string \"event\""},
    {"", "invalid JSON"},
  };
  for (const auto& c : cases) {
    test::write_text(file_, "{\"ts\":1,\"event\":\"a\"}\n" + c.line
                              + "\n{\"ts\":3,\"event\":\"c\"}\n");
    const auto read = read_journal(file_);
    ASSERT_FALSE(read.ok()) << c.line;
    EXPECT_EQ(read.error().line, 2u) << c.line;
    EXPECT_NE(read.error().message.find(c.problem), std::string::npos)
      << read.error().message;
  }
}

TEST_F(journal_test, malformed_events_are_refused_and_nothing_is_written) {
  auto opened = journal_writer::open(file_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto writer = std::move(opened).value();
  auto& w = writer;
  EXPECT_FALSE(w.append(value::array({1, 2})).ok());
  EXPECT_FALSE(w.append({{"step", "a"}}).ok());
  EXPECT_FALSE(w.append({{"event", "a"}, {"ts", "yesterday"}}).ok());
  const auto res = w.append({{"event", 5}});
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("\"event\""), std::string::npos);
  EXPECT_EQ(fs::file_size(file_), 0u);
}

TEST_F(journal_test, invalid_utf8_in_a_value_is_written_as_replacement) {
  auto opened = journal_writer::open(file_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto writer = std::move(opened).value();
  ASSERT_TRUE(
    writer.append({{"event", "x"}, {"output", "ok\xff"}}).ok());
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read.value().events[0]["output"], "ok\xEF\xBF\xBD");
}

TEST_F(journal_test, missing_directory_is_an_error_with_path_and_cause) {
  const fs::path path = dir_.path() / "no_such_dir" / "journal.jsonl";
  const auto writer = journal_writer::open(path);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(writer.error().message.find("No such file or directory"),
            std::string::npos)
    << writer.error().message;
}

TEST_F(journal_test, directory_that_is_a_file_is_an_error) {
  test::write_text(dir_.path() / "plain", "x");
  const auto writer = journal_writer::open(dir_.path() / "plain" / "j.jsonl");
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message.find("Not a directory"), std::string::npos)
    << writer.error().message;
}

TEST_F(journal_test, full_disk_is_an_error_value) {
  if (!fs::exists("/dev/full"))
    GTEST_SKIP() << "no /dev/full";
  auto opened = journal_writer::open("/dev/full");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto writer = std::move(opened).value();
  const auto res = writer.append({{"event", "step_finished"}}, true);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("/dev/full"), std::string::npos);
  EXPECT_NE(res.error().message.find("No space left on device"),
            std::string::npos)
    << res.error().message;
}

TEST_F(journal_test, a_batch_of_lines_is_appended_whole_or_not_at_all) {
  auto opened = journal_writer::open(file_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto w = std::move(opened).value();
  EXPECT_FALSE(w.append_lines({R"({"ts":1,"event":"run_started"})",
                               R"({"ts":2,"event":"step_started","key":"a"})",
                               R"({"ts":3,"event":"step_finished","key":"a"})"}));
  EXPECT_FALSE(w.append_lines({}));
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(3u, read.value().events.size());
  EXPECT_EQ("step_finished", read.value().events[2]["event"]);

  if (!fs::exists("/dev/full"))
    GTEST_SKIP() << "no /dev/full";
  auto full = journal_writer::open("/dev/full");
  ASSERT_TRUE(full.ok()) << full.error().message;
  auto err = std::move(full).value().append_lines({R"({"ts":1,"event":"run_started"})"});
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("No space left on device"), std::string::npos) << err->message;
}

TEST_F(journal_test, reading_a_missing_journal_is_an_error) {
  const auto read = read_journal(dir_.path() / "absent.jsonl");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("absent.jsonl"), std::string::npos);
  EXPECT_NE(read.error().message.find("No such file"), std::string::npos);
}

TEST_F(journal_test, empty_journal_has_no_events) {
  ASSERT_TRUE(journal_writer::open(file_).ok());
  const auto read = read_journal(file_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read.value().events.empty());
  EXPECT_FALSE(read.value().warning);
}

} // namespace
} // namespace troupe::runtime
