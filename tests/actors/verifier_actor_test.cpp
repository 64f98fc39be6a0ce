// The verifier actor through its typed interface, on a compiled workflow:
// one job carries every result of an attempt and gets a verdict per result,
// in order, with the inputs its asserts read; a bad job fails every verdict with its reason; agreement finds
// the largest agreeing group.
#include "actors/verifier_actor.hpp"
#include "runtime/workflow_run.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace troupe::actors {
namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_message_types(*this); }
};

const char* source = R"(
model a {
  backend: gguf("a.gguf")
  domains: ["qa"]
}
workflow capital {
  input city: text
  llm answer {
    prompt: "Capital near {{city}}?"
    domain: "qa"
    verify {
      regex: "(?i)paris"
      assert: len(result) < 12
      assert: result != city
    }
  }
  output reply: text = answer
}
)";

class verifier_actor_test : public testing::Test {
protected:
  void SetUp() override {
    program_ = dsl::compile_source("verify.wf", source);
    ASSERT_TRUE(program_->ok()) << program_->report();
    verifier_ = verifier_actor_spawn(sys_, program_);
  }

  std::vector<runtime::verdict> verify(verify_job job) {
    caf::scoped_actor self{sys_};
    std::vector<runtime::verdict> out;
    self->request(verifier_, caf::infinite, verify_atom_v, std::move(job))
      .receive([&](const std::vector<runtime::verdict>& v) { out = v; },
               [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return out;
  }

  test_config cfg_;
  caf::actor_system sys_{cfg_};
  std::shared_ptr<const dsl::compilation> program_;
  verifier_actor verifier_;
};

TEST_F(verifier_actor_test, one_verdict_per_result_in_order) {
  auto context = runtime::verify_context_json({nullptr, runtime::value{{"city", "Lyon"}}, {}, {}}).dump();
  auto v = verify({"capital", "answer",
                   {"\"Paris\"", "\"Rome\"", "\"paris, France, Europe\"", "not json"},
                   context});
  ASSERT_EQ(4u, v.size());
  EXPECT_TRUE(v[0].passed);
  EXPECT_TRUE(v[0].failures.empty());
  EXPECT_FALSE(v[1].passed);
  ASSERT_EQ(1u, v[1].failures.size());
  EXPECT_EQ(0u, v[1].failures[0].rfind("regex", 0)) << v[1].failures[0];
  EXPECT_FALSE(v[2].passed);
  ASSERT_EQ(1u, v[2].failures.size());
  EXPECT_EQ(0u, v[2].failures[0].rfind("assert", 0)) << v[2].failures[0];
  EXPECT_FALSE(v[3].passed);
  ASSERT_EQ(1u, v[3].failures.size());
  EXPECT_NE(std::string::npos, v[3].failures[0].find("its result is not valid JSON"));

  // The context travels with the job: asserts read the inputs.
  auto in_paris = runtime::verify_context_json({nullptr, runtime::value{{"city", "Paris"}}, {}, {}});
  auto same = verify({"capital", "answer", {"\"Paris\""}, in_paris.dump()});
  ASSERT_EQ(1u, same.size());
  EXPECT_FALSE(same[0].passed);
}

TEST_F(verifier_actor_test, a_bad_job_fails_every_verdict_with_its_reason) {
  auto unknown = verify({"capital", "nowhere", {"\"Paris\"", "\"Paris\""}, "{}"});
  ASSERT_EQ(2u, unknown.size());
  for (const auto& v : unknown) {
    EXPECT_FALSE(v.passed);
    ASSERT_EQ(1u, v.failures.size());
    EXPECT_EQ("no step 'capital.nowhere' to verify", v.failures[0]);
  }
  auto context = verify({"capital", "answer", {"\"Paris\""}, "{broken"});
  ASSERT_EQ(1u, context.size());
  EXPECT_FALSE(context[0].passed);
  EXPECT_NE(std::string::npos, context[0].failures[0].find("its context is not valid JSON"));
  EXPECT_TRUE(verify({"capital", "answer", {}, "{}"}).empty());
}

TEST_F(verifier_actor_test, agreement_names_the_largest_group) {
  caf::scoped_actor self{sys_};
  agree_reply r;
  std::vector<std::string> answers{"\"Paris\"", "\"Lyon\"", "\"Paris\""};
  self->request(verifier_, caf::infinite, agree_atom_v, answers, std::uint32_t(2))
    .receive([&](const agree_reply& x) { r = x; },
             [&](const caf::error& e) { ADD_FAILURE() << sys_.render(e); });
  EXPECT_TRUE(r.reached);
  EXPECT_EQ((std::vector<std::uint32_t>{0, 2}), r.group);
}

} // namespace
} // namespace troupe::actors
