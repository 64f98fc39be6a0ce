#include "runtime/run_store.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/runtime/test_files.hpp"

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// "YYYYMMDD-HHMMSS" of the current UTC time.
std::string utc_stamp_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &utc);
  return buf;
}

class run_store_test : public testing::Test {
protected:
  run_request request() const {
    run_request r;
    r.workflow_file = dir_.path() / "flows" / ".." / "main.wf";
    r.workflow_name = "triage";
    r.inputs = {{"ticket", "printer on fire"}, {"n", 3}};
    r.source_text = "abc";
    r.troupe_version = "0.1.0";
    return r;
  }

  // Creates a run and fails the test (returning an empty handle) if it
  // cannot.
  run_handle create(run_store& store) {
    auto made = store.create_run(request());
    if (!made.ok()) {
      ADD_FAILURE() << made.error().message;
      return {};
    }
    return std::move(made).value();
  }

  test::temp_dir dir_;
  fs::path root_ = dir_.path() / "runs";
};

TEST_F(run_store_test, create_run_makes_directory_meta_and_workspace) {
  run_store store{root_};
  const std::string before = utc_stamp_now();
  const run_handle h = create(store);
  const std::string after = utc_stamp_now();
  ASSERT_TRUE(is_run_id(h.meta.id)) << h.meta.id;
  EXPECT_GE(h.meta.id.substr(0, 15), before);
  EXPECT_LE(h.meta.id.substr(0, 15), after);
  EXPECT_EQ(h.dir, root_ / h.meta.id);
  EXPECT_TRUE(fs::is_regular_file(h.meta_file));
  EXPECT_TRUE(fs::is_directory(h.workspace));
  EXPECT_TRUE(fs::is_empty(h.workspace));
  EXPECT_EQ(h.meta.workflow_file, dir_.path() / "main.wf");
  // SHA-256("abc"), from FIPS 180-2.
  EXPECT_EQ(h.meta.source_sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const value j = value::parse(test::read_bytes(h.meta_file));
  EXPECT_EQ(j["workflow_name"], "triage");
  EXPECT_EQ(j["inputs"]["ticket"], "printer on fire");
  EXPECT_EQ(j["troupe_version"], "0.1.0");
}

TEST_F(run_store_test, open_run_reads_back_what_create_wrote) {
  run_store store{root_};
  const run_handle made = create(store);
  const auto opened = run_store{root_}.open_run(made.meta.id);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  const run_meta& m = opened.value().meta;
  EXPECT_EQ(m.id, made.meta.id);
  EXPECT_EQ(m.workflow_file, made.meta.workflow_file);
  EXPECT_EQ(m.workflow_name, "triage");
  EXPECT_EQ(m.inputs, made.meta.inputs);
  EXPECT_EQ(m.source_sha256, made.meta.source_sha256);
  EXPECT_EQ(m.troupe_version, "0.1.0");
  EXPECT_EQ(m.created_us, made.meta.created_us);
  EXPECT_EQ(opened.value().journal, made.dir / "journal.jsonl");
}

TEST_F(run_store_test, ids_are_unique_and_listed_in_order) {
  run_store store{root_};
  std::set<std::string> ids;
  for (int i = 0; i < 25; ++i)
    ids.insert(create(store).meta.id);
  EXPECT_EQ(ids.size(), 25u);
  // Things in the root that are not runs are ignored.
  fs::create_directories(root_ / "notes");
  test::write_text(root_ / "README", "x");
  const auto listed = store.list_runs();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed.value().size(), 25u);
  auto expected = ids.begin();
  for (const auto& run : listed.value()) {
    EXPECT_EQ(run.id, *expected++);
    ASSERT_TRUE(run.meta) << run.error;
    EXPECT_EQ(run.meta->workflow_name, "triage");
  }
}

TEST_F(run_store_test, listing_a_root_that_does_not_exist_is_empty) {
  const auto listed = run_store{root_ / "never"}.list_runs();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_TRUE(listed.value().empty());
}

TEST_F(run_store_test, bad_ids_are_clear_errors) {
  run_store store{root_};
  create(store);
  struct bad_case {
    std::string id;
    std::string says;
  };
  const bad_case cases[] = {
    {"", "is empty"},
    {"../etc", "path separator"},
    {"a\\b", "path separator"},
    {"..", "\"..\""},
    {"20240101-120000-ABCDEF", "not of the form"},
    {"latest", "not of the form"},
  };
  for (const auto& c : cases) {
    const auto opened = store.open_run(c.id);
    ASSERT_FALSE(opened.ok()) << c.id;
    EXPECT_TRUE(contains(opened.error().message, c.says))
      << opened.error().message;
    EXPECT_TRUE(contains(opened.error().message, root_.string()))
      << opened.error().message;
  }
  const auto missing = store.open_run("20000101-000000-abcdef");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error().message,
                       "looked for "
                         + (root_ / "20000101-000000-abcdef").string()))
    << missing.error().message;
}

TEST_F(run_store_test, corrupt_meta_is_an_error_and_listed_as_one) {
  run_store store{root_};
  const run_handle good = create(store);
  const run_handle bad = create(store);
  value j = value::parse(test::read_bytes(bad.meta_file));
  j.erase("workflow_name");
  test::write_text(bad.meta_file, j.dump());
  const auto opened = store.open_run(bad.meta.id);
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(contains(opened.error().message, bad.meta_file.string()));
  EXPECT_TRUE(contains(opened.error().message, "\"workflow_name\""))
    << opened.error().message;

  test::write_text(good.meta_file, "{\"format\": 1, ");
  const auto truncated = store.open_run(good.meta.id);
  ASSERT_FALSE(truncated.ok());
  EXPECT_TRUE(contains(truncated.error().message, "not valid JSON"));

  const auto listed = store.list_runs();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed.value().size(), 2u);
  for (const auto& run : listed.value()) {
    EXPECT_FALSE(run.meta);
    EXPECT_FALSE(run.error.empty());
  }
}

TEST_F(run_store_test, meta_of_another_run_is_refused) {
  run_store store{root_};
  const run_handle a = create(store);
  const run_handle b = create(store);
  fs::copy_file(a.meta_file, b.meta_file,
                fs::copy_options::overwrite_existing);
  const auto opened = store.open_run(b.meta.id);
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(contains(opened.error().message, "but the directory is"))
    << opened.error().message;
}

TEST_F(run_store_test, inputs_that_are_not_an_object_are_refused) {
  run_store store{root_};
  run_request r = request();
  r.inputs = value::array({1, 2});
  const auto made = store.create_run(r);
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(contains(made.error().message, "object"));
  EXPECT_TRUE(store.list_runs().value().empty());
}

TEST_F(run_store_test, root_that_cannot_be_created_is_an_error) {
  test::write_text(dir_.path() / "plain", "x");
  run_store store{dir_.path() / "plain" / "runs"};
  const auto made = store.create_run(request());
  ASSERT_FALSE(made.ok());
  EXPECT_TRUE(contains(made.error().message, (dir_.path() / "plain").string()))
    << made.error().message;
}

TEST_F(run_store_test, default_root_is_dot_troupe_runs_in_the_current_dir) {
  const fs::path saved = fs::current_path();
  fs::current_path(dir_.path());
  run_store store;
  fs::current_path(saved);
  EXPECT_EQ(store.root(), dir_.path() / ".troupe" / "runs");
}

// A journal such as the scheduler writes: a first attempt that failed, then
// a resume that was killed in the middle of writing an event.
class resume_state_test : public run_store_test {
protected:
  void SetUp() override {
    handle_ = create(store_);
    auto opened = journal_writer::open(handle_.journal);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto w = std::move(opened).value();
    const value events[] = {
      {{"event", "run_started"}},
      {{"event", "step_finished"}, {"step", "a"}, {"index", -1},
       {"output", "A"}, {"verified", true}},
      {{"event", "step_finished"}, {"step", "fan"}, {"index", 0},
       {"output", value{{"k", 0}}}},
      {{"event", "step_finished"}, {"step", "fan"}, {"index", 1},
       {"output", "bad"}, {"verified", false}},
      {{"event", "step_failed"}, {"step", "fan"}, {"index", 1}},
      {{"event", "step_skipped"}, {"step", "maybe"}},
      {{"event", "run_finished"}, {"status", "failed"}},
      {{"event", "run_started"}},
      {{"event", "step_finished"}, {"step", "fan"}, {"index", 1},
       {"output", "good"}, {"verified", true}},
    };
    for (const auto& e : events)
      ASSERT_TRUE(w.append(e, true).ok());
  }

  run_store store_{root_};
  run_handle handle_;
};

TEST_F(resume_state_test, verified_results_are_done_and_failures_are_not) {
  const auto read = read_journal(handle_.journal);
  ASSERT_TRUE(read.ok()) << read.error().message;
  const auto state = resume_state(read.value().events, handle_.journal);
  ASSERT_TRUE(state.ok()) << state.error().message;
  const auto& done = state.value().done;
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done.at("a"), "A");
  EXPECT_EQ(done.at("fan[0]"), (value{{"k", 0}}));
  EXPECT_EQ(done.at("fan[1]"), "good");
  EXPECT_EQ(state.value().skipped, std::set<std::string>{"maybe"});
  // The run was resumed after it failed and has not finished since.
  EXPECT_FALSE(state.value().finished_status);
}

TEST_F(resume_state_test, a_step_torn_by_a_crash_is_not_done) {
  const std::string text = [&] {
    const auto bytes = test::read_bytes(handle_.journal);
    return std::string{bytes.begin(), bytes.end()};
  }();
  fs::resize_file(handle_.journal, text.size() - 10);
  const auto read = read_journal(handle_.journal);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read.value().warning);
  const auto state = resume_state(read.value().events);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state.value().done.count("fan[1]"), 0u);
  EXPECT_EQ(state.value().done.size(), 2u);
}

TEST(resume_state_events, last_run_finished_gives_the_status) {
  const std::vector<value> events = {
    {{"event", "run_started"}, {"ts", 1}},
    {{"event", "run_finished"}, {"status", "ok"}, {"ts", 2}},
  };
  const auto state = resume_state(events);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state.value().finished_status, "ok");
  EXPECT_EQ(task_key("s", -1), "s");
  EXPECT_EQ(task_key("cats[1]/s", 4), "cats[1]/s[4]");
}

TEST(resume_state_events, malformed_events_are_errors_naming_the_line) {
  const std::vector<value> events = {
    {{"event", "run_started"}, {"ts", 1}},
    {{"event", "step_finished"}, {"index", 2}, {"ts", 2}},
  };
  const auto state = resume_state(events, "/runs/x/journal.jsonl");
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().line, 2u);
  EXPECT_EQ(state.error().message,
            "/runs/x/journal.jsonl:2: step_finished event has no non-empty "
            "string \"step\"");
  const auto bad_index = resume_state(std::vector<value>{
    value{{"event", "step_skipped"}, {"step", "s"}, {"index", "one"}}});
  ASSERT_FALSE(bad_index.ok());
  EXPECT_TRUE(contains(bad_index.error().message, "\"index\""));
  const auto no_status =
    resume_state(std::vector<value>{value{{"event", "run_finished"}}});
  ASSERT_FALSE(no_status.ok());
  EXPECT_TRUE(contains(no_status.error().message, "\"status\""));
}

} // namespace
} // namespace troupe::runtime
