// Every message type survives CAF's binary serialization inside a message
// (what crossing nodes does), and FlatBuffers payloads are verified on
// receipt: good ones decode exactly, corrupt or truncated ones are errors.
#include "actors/messages.hpp"
#include "actors/jobs.hpp"
#include "actors/records.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/deep_to_string.hpp"
#include "caf/message.hpp"

#include <gtest/gtest.h>

namespace troupe::actors {
namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_message_types(*this); }
};

class messages_test : public testing::Test {
protected:
  // Serializes (atom, x) as a message, reads it back, and returns the copy;
  // the copy must serialize to the same bytes and print the same.
  template <class Atom, class T>
  T round_trip(Atom atom, const T& x) {
    auto original = caf::make_message(atom, x);
    std::vector<char> buf;
    caf::binary_serializer sink{sys_, buf};
    EXPECT_FALSE(sink(original));
    caf::message copy;
    caf::binary_deserializer source{sys_, buf};
    EXPECT_FALSE(source(copy));
    EXPECT_TRUE((copy.match_elements<Atom, T>()));
    std::vector<char> again;
    caf::binary_serializer sink2{sys_, again};
    EXPECT_FALSE(sink2(copy));
    EXPECT_EQ(buf, again);
    EXPECT_EQ(caf::deep_to_string(x), caf::deep_to_string(copy.get_as<T>(1)));
    return copy.get_as<T>(1);
  }

  test_config cfg_;
  caf::actor_system sys_{cfg_};
};

TEST_F(messages_test, every_message_type_round_trips) {
  step_job job;
  job.run_id = "20261122-010203-abcdef";
  job.key = "parts[2]";
  job.attempt = 3;
  job.kind = "llm";
  job.model = "smollm";
  job.backend = "gguf";
  job.location = "SmolLM2-135M-Instruct.Q4_1.gguf";
  job.prompt = "Say \"hi\"\n\xE2\x9C\x93";
  job.stop = {"\n", "END"};
  job.temperature = 0.7;
  job.seed = 42;
  job.timeout_ms = 1500;
  EXPECT_EQ("parts[2]", round_trip(execute_atom_v, job).key);
  EXPECT_EQ(job.stop, round_trip(execute_atom_v, job).stop);

  runtime::step_record rec;
  rec.key = "a";
  rec.ok = true;
  rec.output_json = "\"x\"";
  step_outcome out{step_record_write(rec)};
  EXPECT_EQ(out.record, round_trip(execute_atom_v, out).record);

  generation_job g;
  g.prompt = "Once upon a time";
  g.chat = true;
  g.max_tokens = 17;
  g.stop = {"."};
  EXPECT_EQ(17, round_trip(generate_atom_v, g).max_tokens);

  generation_result gr;
  gr.ok = true;
  gr.text = "there was";
  gr.finish = "length";
  gr.completion_tokens = 2;
  gr.tokens = token_list_write({{5, 6}, {-0.5f, -1.25f}});
  EXPECT_EQ(gr.tokens, round_trip(generate_atom_v, gr).tokens);

  EXPECT_EQ("hi", round_trip(generate_atom_v, token_chunk{7, "hi", true}).text);

  model_load lr{"node-a", "smollm", {3, 2, 0.25, 4.5, 7, 1}};
  EXPECT_EQ(0.25, round_trip(load_atom_v, lr).load.kv_occupancy);
  EXPECT_EQ(7, round_trip(load_atom_v, lr).load.completed);
  EXPECT_EQ("smollm", round_trip(load_atom_v, lr).model);

  runtime::route_request q;
  q.step = "answer";
  q.domain = "stories";
  q.exclude = {"big"};
  q.fallback = {"small"};
  q.n = 2;
  q.max_tokens = 64;
  dsl::ir::router_policy weights;
  weights.accuracy = 0.5;
  weights.cost = 0.3;
  weights.latency = 0.2;
  weights.load_aware = false;
  q.policy = weights;
  auto q_back = round_trip(route_atom_v, q);
  EXPECT_EQ(q.exclude, q_back.exclude);
  EXPECT_EQ(q.fallback, q_back.fallback);
  EXPECT_FALSE(q_back.pinned);
  ASSERT_TRUE(q_back.policy);
  EXPECT_EQ(0.3, q_back.policy->cost);
  EXPECT_FALSE(q_back.policy->load_aware);
  q.pinned = "big";
  q.policy.reset();
  q_back = round_trip(route_atom_v, q);
  EXPECT_EQ(std::optional<std::string>("big"), q_back.pinned);
  EXPECT_FALSE(q_back.policy);

  runtime::route_reply rr{true, {"a", "b"}, "{\"chosen\":[\"a\"]}", "answer -> a", ""};
  EXPECT_EQ(rr.chosen, round_trip(route_atom_v, rr).chosen);

  runtime::call_report mo{"a", "stories", runtime::call_outcome::timeout, false, 12.5};
  EXPECT_FALSE(round_trip(route_atom_v, mo).verified);
  EXPECT_EQ(runtime::call_outcome::timeout, round_trip(route_atom_v, mo).outcome);

  verify_job vj{"hello", "answer", {"\"Paris\"", "\"Rome\""}, "{\"inputs\":{}}"};
  EXPECT_EQ(vj.results_json, round_trip(verify_atom_v, vj).results_json);

  runtime::verdict vr{false, {"regex \"^a\" did not match"}, "no verifier"};
  EXPECT_EQ(vr.failures, round_trip(verify_atom_v, vr).failures);
  EXPECT_EQ("no verifier", round_trip(verify_atom_v, vr).error);

  agree_reply ar{true, {0, 2}};
  EXPECT_EQ(ar.group, round_trip(agree_atom_v, ar).group);

  EXPECT_EQ("{}", round_trip(run_atom_v, run_event{"{}"}).json);

  member_info mi{"node-b", "127.0.0.1:7701", {}};
  EXPECT_EQ("127.0.0.1:7701", round_trip(join_atom_v, mi).address);

  join_request jr{"node-b", "node", "abc", "def", "127.0.0.1:7701", {}};
  EXPECT_EQ("def", round_trip(join_atom_v, jr).proof);

  join_reply jy{true, "", "node-a", {mi, mi}};
  EXPECT_EQ(2u, round_trip(join_atom_v, jy).members.size());

  run_summary rs{"id", true, "{\"o\":1}", {}, "/tmp/j.jsonl"};
  EXPECT_EQ(rs.outputs_json, round_trip(run_atom_v, rs).outputs_json);
}

TEST_F(messages_test, the_job_class_travels_as_itself) {
  for (auto cls : {base::job_class::interactive, base::job_class::batch}) {
    step_job job;
    job.cls = cls;
    EXPECT_EQ(cls, round_trip(execute_atom_v, job).cls);
    generation_job g;
    g.cls = cls;
    EXPECT_EQ(cls, round_trip(generate_atom_v, g).cls);
    // CAF prints it by name (base::to_string), not as "<unprintable>".
    EXPECT_NE(caf::deep_to_string(g).find(base::to_string(cls)), std::string::npos)
      << caf::deep_to_string(g);
  }
}

TEST(records, step_record_round_trips_exactly) {
  runtime::step_record r;
  r.key = "summary";
  r.attempt = 2;
  r.ok = true;
  r.output_json = "{\"a\":[1,2]}";
  r.model = "smollm";
  r.node = "node-b";
  r.prompt_tokens = 12;
  r.completion_tokens = 3;
  r.started_us = 1700000000000000;
  r.finished_us = 1700000000123456;
  r.tokens = {{1, 2, 3}, {-0.1f, -0.2f, -0.3f}};
  auto bytes = step_record_write(r);
  auto back = step_record_read(bytes);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(r.key, back.value().key);
  EXPECT_EQ(r.output_json, back.value().output_json);
  EXPECT_EQ(r.node, back.value().node);
  EXPECT_EQ(r.finished_us, back.value().finished_us);
  EXPECT_EQ(r.tokens.ids, back.value().tokens.ids);
  EXPECT_EQ(r.tokens.logprobs, back.value().tokens.logprobs);
}

TEST(records, corrupt_and_truncated_buffers_are_errors) {
  runtime::step_record r;
  r.key = "k";
  r.output_json = std::string(300, 'x');
  auto bytes = step_record_write(r);
  // Every truncation is refused, never read out of bounds; only cutting
  // trailing alignment padding may leave a buffer that still decodes, and
  // then to the same record.
  int refused = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + long(n));
    auto d = step_record_read(cut);
    if (!d) {
      refused++;
      continue;
    }
    EXPECT_EQ(r.output_json, d.value().output_json) << n;
    EXPECT_GE(n + 8, bytes.size()) << n;
  }
  EXPECT_GE(refused + 8, int(bytes.size()));
  // Flipped offsets are refused or decode without crashing.
  for (size_t i = 0; i < bytes.size(); i += 3) {
    auto bad = bytes;
    bad[i] ^= 0xA5;
    auto d = step_record_read(bad);
    if (!d) {
      EXPECT_NE(std::string::npos, d.error().find("step record")) << d.error();
    }
  }
  EXPECT_FALSE(step_record_read({}));
  auto e = step_record_read({1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_FALSE(e);
  EXPECT_NE(std::string::npos, e.error().find("not a valid FlatBuffer")) << e.error();
  // A record without a key is refused.
  EXPECT_FALSE(step_record_read(step_record_write(runtime::step_record{})));
}

TEST(records, an_executors_answer_is_its_record_or_says_why_there_is_none) {
  step_job job;
  job.key = "s";
  job.model = "m";
  runtime::step_record r;
  r.key = "s";
  r.ok = true;
  r.node = "b";
  r.output_json = "\"x\"";
  auto got = answer_of(step_outcome{step_record_write(r)}, job, "b");
  EXPECT_TRUE(got.ok);
  EXPECT_EQ("\"x\"", got.output_json);

  auto bad = answer_of(step_outcome{{1, 2, 3}}, job, "b");
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ("s", bad.key);
  EXPECT_EQ("m", bad.model);
  EXPECT_EQ(0u, bad.error.rfind("bad step record from node 'b': ", 0)) << bad.error;

  auto failed = answer_of(caf::make_error(caf::sec::request_timeout), job, "b");
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(0u, failed.error.rfind("executor on node 'b' failed: ", 0)) << failed.error;
}

TEST(records, token_lists_are_checked) {
  auto ok = token_list_read(token_list_write({{1}, {-1.f}}));
  ASSERT_TRUE(ok);
  EXPECT_EQ(std::vector<std::int32_t>{1}, ok.value().ids);
  auto mismatched = token_list_read(token_list_write({{1, 2}, {-1.f}}));
  ASSERT_FALSE(mismatched);
  EXPECT_NE(std::string::npos, mismatched.error().find("differ in length"));
}

} // namespace
} // namespace troupe::actors
