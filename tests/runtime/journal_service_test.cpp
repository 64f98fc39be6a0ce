// The journal thread on a real file: every callback runs once, after its
// event is on disk; events keep their posting order; durable events posted
// together share one sync (group commit).
#include "runtime/journal_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <unistd.h>

namespace troupe::runtime {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path()
           / ("troupe-jsvc-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// An event's journal line, as run_event_line() makes them.
std::string line(value event) {
  event["ts"] = journal_now_us();
  return event.dump();
}

TEST(journal_service, callbacks_run_after_the_event_is_readable) {
  auto dir = fresh_dir("cb");
  auto w = journal_writer::open(dir / "journal.jsonl");
  ASSERT_TRUE(w) << w.error().message;
  journal_service svc(std::move(w).value());
  std::atomic<int> seen{0};
  std::atomic<int> missing{0};
  const int n = 200;
  for (int i = 0; i < n; ++i)
    svc.post(line({{"event", "step_finished"}, {"i", i}}), i % 2 == 0,
             [&, i](const std::optional<journal_error>& e) {
               EXPECT_FALSE(e);
               // The line must already be in the file.
               auto back = read_journal(dir / "journal.jsonl");
               if (!back || int(back.value().events.size()) <= i)
                 missing++;
               seen++;
             });
  svc.flush();
  EXPECT_EQ(n, seen.load());
  EXPECT_EQ(0, missing.load());
  auto back = read_journal(dir / "journal.jsonl");
  ASSERT_TRUE(back);
  ASSERT_EQ(size_t(n), back.value().events.size());
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(i, back.value().events[size_t(i)]["i"]);
  auto st = svc.stats();
  EXPECT_EQ(n, st.events);
  EXPECT_LE(st.syncs, st.batches);
  EXPECT_GE(st.syncs, 1);
}

TEST(journal_service, posts_from_many_threads_share_syncs) {
  auto dir = fresh_dir("mt");
  auto w = journal_writer::open(dir / "journal.jsonl");
  ASSERT_TRUE(w);
  journal_service svc(std::move(w).value());
  std::atomic<int> done{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i)
        svc.post(line({{"event", "x"}, {"t", t}, {"i", i}}), true,
                 [&](const std::optional<journal_error>&) { done++; });
    });
  for (auto& t : ts) t.join();
  svc.flush();
  EXPECT_EQ(1000, done.load());
  EXPECT_EQ(1000, svc.stats().events);
  // Group commit: far fewer syncs than durable events.
  EXPECT_LT(svc.stats().syncs, 1000);
}

TEST(journal_service, run_events_are_serialized_on_its_thread_in_posting_order) {
  auto dir = fresh_dir("ev");
  auto w = journal_writer::open(dir / "journal.jsonl");
  ASSERT_TRUE(w);
  journal_service svc(std::move(w).value());
  ev_step_started started{"a", 1, "m", "n1"};
  int called = 0;
  svc.post(line({{"event", "first"}}), false);
  svc.post(started, 7, "plan@1/", true, [&](const std::optional<journal_error>& e) {
    EXPECT_FALSE(e);
    called++;
  });
  svc.post(line({{"event", "last"}}), false);
  svc.flush();
  EXPECT_EQ(1, called);
  auto back = read_journal(dir / "journal.jsonl");
  ASSERT_TRUE(back);
  ASSERT_EQ(3u, back.value().events.size());
  const auto& e = back.value().events[1];
  EXPECT_EQ(run_event_line(started, 7, "plan@1/"), e.dump());
  EXPECT_EQ("plan@1/a", e["key"]);
  EXPECT_EQ("last", back.value().events[2]["event"]);
  EXPECT_EQ(1, svc.stats().syncs);
}

TEST(journal_service, a_write_error_reaches_every_callback) {
  auto dir = fresh_dir("err");
  // /dev/full accepts the open and fails every write with ENOSPC.
  auto w = journal_writer::open("/dev/full");
  if (!w)
    GTEST_SKIP() << "/dev/full is not available: " << w.error().message;
  int errors = 0;
  {
    journal_service svc(std::move(w).value());
    for (int i = 0; i < 3; ++i)
      svc.post(line({{"event", "x"}}), true, [&](const std::optional<journal_error>& e) {
        if (e) errors++;
      });
  }
  EXPECT_EQ(3, errors);
}

} // namespace
} // namespace troupe::runtime
