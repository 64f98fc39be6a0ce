// The journal's vocabulary: every event written once and read back equal,
// the names of nested runs, key prefixes, what is written only when set,
// and readers that refuse a field of the wrong type with its name.
#include "runtime/run_events.hpp"

#include <gtest/gtest.h>

namespace troupe::runtime {
namespace {

value parsed(const run_event& e, const std::string& prefix = {}) {
  return value::parse(run_event_line(e, 42, prefix));
}

TEST(run_events, every_event_reads_back_as_written) {
  ev_step_finished fin{"s[1]", "s", 1, 2, "n1", value{{"x", 1}}, 10, 30, 0.02, true, "m", "p",
                       value{{"prompt", 3}, {"completion", 4}}};
  ev_run_finished end{"r1", "failed", {}, std::vector<std::string>{"s: boom"},
                      value{{"hits", 1}}, {}, false};
  const std::vector<run_event> all = {
    ev_run_started{"r1", "main", "/w/main.wf", value{{"q", "x"}}, {"a", "b"}, false},
    ev_route{"s", 1, {"m"}, "s -> m", value{{"chosen", {"m"}}}},
    ev_cache_hit{"s", "m", false, 2},
    ev_step_started{"s", 1, "m", "n1"},
    ev_attempt_failed{"s", 1, "verify", "no", {"m"}, "s -> m"},
    ev_degraded{"s", {"m"}, "overloaded: full"},
    ev_retry_same_models{"s", 2, {"m"}},
    ev_plan_candidates{"s", 1, value::array({value{{"candidate", 0}}}), 0},
    ev_plan_accepted{"s", 1, value{{"steps", value::array()}}, "workflow p {}"},
    fin,
    ev_step_failed{"s", "s", -1, "why", value::array({value{{"attempt", 1}}})},
    ev_step_note{ev_step_note::reused, "s", "s", -1},
    ev_executor_lost{"n2", 3},
    ev_step_redispatched{"s", 1, "n2"},
    end,
  };
  EXPECT_EQ(std::variant_size_v<run_event>, all.size()); // One of each.
  for (const auto& e : all) {
    SCOPED_TRACE(run_event_name(e));
    auto json = parsed(e);
    EXPECT_EQ(run_event_name(e), json["event"]);
    EXPECT_EQ(42, run_event_ts(json));
    auto back = run_event_read(json);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(e.index(), back.value().index());
    EXPECT_EQ(run_event_line(e, 42), run_event_line(back.value(), 42));
  }
}

TEST(run_events, optional_fields_are_written_only_when_set) {
  auto tool = parsed(ev_step_finished{"s", "s", -1, 1, "n1", "x", 1, 2, 0.001, {}, {}, {}, {}});
  EXPECT_FALSE(tool.contains("verified")); // Resume restores it: no false written.
  EXPECT_FALSE(tool.contains("model"));
  EXPECT_FALSE(tool.contains("tokens"));
  auto ok = parsed(ev_run_finished{"r", "ok", value{{"o", 1}}, {}, {}, {}, false});
  EXPECT_FALSE(ok.contains("failures"));
  EXPECT_FALSE(ok.contains("cache"));
  EXPECT_EQ(1, ok["outputs"]["o"]);
}

TEST(run_events, nested_runs_and_key_prefixes) {
  ev_run_started start{"r", "plan_1", "", value::object(), {}, true};
  auto line = parsed(start, "outline@12/");
  EXPECT_EQ("plan_run_started", line["event"]);
  EXPECT_EQ("plan_1", line["workflow"]); // Only keys take the prefix.
  EXPECT_TRUE(std::get<ev_run_started>(run_event_read(line).value()).nested);
  ev_step_finished element;
  element.key = "a[0]";
  element.step = "a";
  element.index = 0;
  auto fin = parsed(element, "outline@12/");
  EXPECT_EQ("outline@12/a[0]", fin["key"]);
  EXPECT_EQ("outline@12/a", fin["step"]);
  EXPECT_EQ(0, fin["index"]);
  EXPECT_EQ("step_skipped", parsed(ev_step_note{ev_step_note::skipped, "k", "k"})["event"]);
  EXPECT_EQ("step_empty", parsed(ev_step_note{ev_step_note::empty, "k", "k"})["event"]);
}

TEST(run_events, strings_that_are_not_utf8_are_replaced_not_refused) {
  ev_attempt_failed bad{"s", 1, "call", std::string("bad \xff byte"), {}, ""};
  auto line = run_event_line(bad, 1);
  auto json = value::parse(line);
  EXPECT_EQ("bad \xEF\xBF\xBD byte", json["error"]);
}

TEST(run_events, readers_name_the_field_of_the_wrong_type) {
  struct row {
    value event;
    std::string problem;
  };
  const std::vector<row> rows = {
    {{{"event", "step_finished"}, {"step", 3}}, "has a field \"step\" that is not a string"},
    {{{"event", "step_finished"}, {"step", "s"}, {"index", "one"}},
     "has a field \"index\" that is not an integer"},
    {{{"event", "route"}, {"attempt", -1}}, "has a field \"attempt\" that is not an integer >= 0"},
    {{{"event", "route"}, {"chosen", {"a", 1}}}, "has a field \"chosen\" that is not a list of strings"},
    {{{"event", "step_finished"}, {"verified", "yes"}}, "has a field \"verified\" that is not a boolean"},
    {{{"event", "step_finished"}, {"elapsed_ms", "fast"}}, "has a field \"elapsed_ms\" that is not a number"},
    {{{"event", "shrug"}}, "is not an event troupe writes"},
    {{{"ts", 1}}, "has no string \"event\""},
  };
  for (const auto& r : rows) {
    auto got = run_event_read(r.event);
    ASSERT_FALSE(got) << r.event.dump();
    EXPECT_EQ(r.problem, got.error());
  }
  // Absent fields keep their defaults: older journals read back.
  auto old = run_event_read(value{{"event", "step_finished"}, {"step", "s"}});
  ASSERT_TRUE(old);
  EXPECT_EQ(-1, std::get<ev_step_finished>(old.value()).index);
  EXPECT_TRUE(std::get<ev_step_finished>(old.value()).output.is_null());
}

TEST(run_events, durability_follows_what_resume_relies_on) {
  EXPECT_TRUE(run_event_durable(ev_run_started{}));
  EXPECT_TRUE(run_event_durable(ev_step_failed{}));
  EXPECT_TRUE(run_event_durable(ev_run_finished{}));
  EXPECT_FALSE(run_event_durable(ev_step_started{}));
  EXPECT_FALSE(run_event_durable(ev_route{}));
}

} // namespace
} // namespace troupe::runtime
