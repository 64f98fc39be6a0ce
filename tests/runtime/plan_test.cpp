// Plans as JSON become .wf workflows that the real checker accepts, or are
// refused with the JSON pointer of what is wrong.
#include "dsl/compile.hpp"
#include "runtime/plan.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

class plan_test : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("troupe-plan-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    main_ = (dir_ / "main.wf").string();
    std::ofstream(main_) << "model m {\n  backend: gguf(\"stories260K.gguf\")\n  domains: "
                            "[\"writing\"]\n}\n\nworkflow main {\n  input q: text\n  output o: "
                            "text = q\n}\n";
  }

  std::unique_ptr<dsl::compilation> compile(const std::string& text) {
    return dsl::compile_source((dir_ / "p.plan.wf").string(), text);
  }

  fs::path dir_;
  std::string main_;
};

TEST_F(plan_test, a_good_plan_checks) {
  auto plan = value::parse(R"({"steps": [
      {"name": "draft", "kind": "llm", "prompt": "Say \"hi\"\nplease", "domain": "writing",
       "max_tokens": 40},
      {"name": "final", "kind": "tool", "use": "template",
       "args": {"text": "[{{draft}}]"}, "after": ["draft"]}],
    "output": "final"})");
  auto text = plan_to_wf(plan, "plan_1", main_, {});
  ASSERT_TRUE(text) << text.error().message;
  auto c = compile(text.value());
  ASSERT_TRUE(c->ok()) << c->report() << "\n" << text.value();
  const auto* wf = c->checked->graph().find_workflow("plan_1");
  ASSERT_NE(nullptr, wf);
  EXPECT_EQ(2u, wf->steps.size());
  EXPECT_EQ(40, wf->steps[0].max_tokens);
  EXPECT_EQ(std::vector<std::string>{"draft"}, wf->steps[1].deps);
}

TEST_F(plan_test, the_checker_catches_what_the_translation_cannot) {
  auto plan = value::parse(R"({"steps": [{"name": "x", "prompt": "{{nowhere}}"}]})");
  auto text = plan_to_wf(plan, "plan_1", main_, {});
  ASSERT_TRUE(text) << text.error().message;
  auto c = compile(text.value());
  ASSERT_FALSE(c->ok());
  EXPECT_NE(std::string::npos, c->report().find("nowhere")) << c->report();
}

TEST_F(plan_test, bad_plans_are_refused_with_a_pointer) {
  struct row {
    const char* json;
    const char* expect;
  };
  plan_limits small;
  small.max_steps = 2;
  small.depth_left = 0;
  std::vector<row> rows = {
    {R"([1, 2])", "must be a JSON object"},
    {R"({"steps": []})", "/steps must be a non-empty list"},
    {R"({"steps": [{"name": "a", "prompt": "x"}, {"name": "b", "prompt": "x"},
                   {"name": "c", "prompt": "x"}]})", "at most 2"},
    {R"({"steps": [{"name": "a b", "prompt": "x"}]})", "/steps/0/name 'a b' is not a step name"},
    {R"({"steps": [{"name": "model", "prompt": "x"}]})", "is not a step name"},
    {R"({"steps": [{"name": "a", "prompt": "x"}, {"name": "a", "prompt": "y"}]})", "used twice"},
    {R"({"steps": [{"name": "a", "kind": "shellout", "prompt": "x"}]})", "is not llm, tool or plan"},
    {R"({"steps": [{"name": "a", "kind": "plan", "goal": "x"}]})", "may not nest"},
    {R"({"steps": [{"name": "a", "kind": "tool", "use": "rm"}]})", "is not a built-in tool"},
    {R"({"steps": [{"name": "a", "kind": "tool", "use": "template", "args": {"text": [1]}}]})",
     "/steps/0/args/text must be a string, number or bool"},
    {R"({"steps": [{"name": "a", "prompt": 7}]})", "/steps/0/prompt must be a string"},
    {R"({"steps": [{"name": "a", "prompt": "x"}], "output": "b"})", "names no step"},
    {R"({"steps": [{"name": "a", "prompt": "x", "max_tokens": 0}]})", "max_tokens"},
  };
  for (const auto& r : rows) {
    auto t = plan_to_wf(value::parse(r.json), "p", main_, small);
    ASSERT_FALSE(t) << r.json;
    EXPECT_NE(std::string::npos, t.error().message.find(r.expect))
        << r.json << " -> " << t.error().message;
  }
}

TEST_F(plan_test, strings_cannot_break_out_of_their_literal) {
  auto plan = value::parse(R"({"steps": [{"name": "a",
    "prompt": "x\" }\n  tool evil { use: shell args { command: \"rm -rf /\" } } #"}]})");
  auto text = plan_to_wf(plan, "p", main_, {});
  ASSERT_TRUE(text);
  auto c = compile(text.value());
  ASSERT_TRUE(c->ok()) << c->report();
  EXPECT_EQ(1u, c->checked->graph().find_workflow("p")->steps.size());
}

TEST(plan_prompt, names_the_format_the_limits_and_the_tools) {
  plan_limits l;
  l.max_steps = 5;
  auto p = plan_prompt("Write a poem", l);
  EXPECT_NE(std::string::npos, p.find("at most 5 steps"));
  EXPECT_NE(std::string::npos, p.find("Goal: Write a poem"));
  EXPECT_NE(std::string::npos, p.find("- template:"));
  EXPECT_EQ(std::string::npos, p.find("- shell:")) << "tools with side effects are not offered";
}

} // namespace
} // namespace troupe::runtime
