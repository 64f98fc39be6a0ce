#include "runtime/plan.hpp"

#include "dsl/lexicon.hpp"
#include "dsl/tools.hpp"

#include <filesystem>
#include <optional>
#include <set>

namespace troupe::runtime {

namespace {

// A name the plan's steps and arguments may use: a .wf identifier of at most
// 64 bytes, other than `result`, the name of the plan workflow's output.
bool is_identifier(const std::string& s) {
  return s.size() <= 64 && dsl::is_identifier(s) && s != "result";
}

// A .wf string literal with the same text; {{...}} stays an interpolation.
std::string wf_string(const std::string& s) {
  return dsl::quote_string(s, dsl::string_braces::interpolate);
}

struct writer {
  const plan_limits& limits;
  std::string out;
  std::set<std::string> names;

  std::optional<plan_error> text(const value& v, const std::string& at, std::string& dst) {
    if (!v.is_string())
      return plan_error{at + " must be a string"};
    dst = v.get<std::string>();
    if (dst.size() > limits.max_text)
      return plan_error{at + " is longer than " + std::to_string(limits.max_text) + " bytes"};
    return std::nullopt;
  }

  std::optional<plan_error> step(const value& s, size_t i) {
    const std::string at = "/steps/" + std::to_string(i);
    if (!s.is_object())
      return plan_error{at + " must be an object"};
    std::string name, kind;
    if (auto e = text(s.value("name", value()), at + "/name", name)) return e;
    if (!is_identifier(name))
      return plan_error{at + "/name '" + name + "' is not a step name (letters, digits, _)"};
    if (!names.insert(name).second)
      return plan_error{at + "/name '" + name + "' is used twice"};
    if (auto e = text(s.value("kind", value("llm")), at + "/kind", kind)) return e;
    if (kind == "plan" && limits.depth_left <= 0)
      return plan_error{at + "/kind: plans may not nest deeper here"};
    if (kind != "llm" && kind != "tool" && kind != "plan")
      return plan_error{at + "/kind '" + kind + "' is not llm, tool or plan"};
    out += "  " + kind + " " + name + " {\n";
    if (kind == "tool") {
      std::string use;
      if (auto e = text(s.value("use", value()), at + "/use", use)) return e;
      if (!dsl::find_tool(use))
        return plan_error{at + "/use '" + use + "' is not a built-in tool"};
      out += "    use: " + use + "\n";
      const auto& args = s.value("args", value::object());
      if (!args.is_object())
        return plan_error{at + "/args must be an object"};
      if (!args.empty()) {
        out += "    args {\n";
        for (const auto& [k, v] : args.items()) {
          if (!is_identifier(k))
            return plan_error{at + "/args/" + k + " is not an argument name"};
          std::string rendered;
          if (v.is_string()) {
            if (auto e = text(v, at + "/args/" + k, rendered)) return e;
            rendered = wf_string(rendered);
          } else if (v.is_number() || v.is_boolean()) {
            rendered = v.dump();
          } else {
            return plan_error{at + "/args/" + k + " must be a string, number or bool"};
          }
          out += "      " + k + ": " + rendered + "\n";
        }
        out += "    }\n";
      }
    } else {
      std::string prompt;
      const char* field = kind == "plan" ? "goal" : "prompt";
      if (auto e = text(s.value(field, s.value("prompt", value())), at + "/" + field, prompt))
        return e;
      out += std::string("    ") + field + ": " + wf_string(prompt) + "\n";
      if (s.contains("domain")) {
        std::string domain;
        if (auto e = text(s["domain"], at + "/domain", domain)) return e;
        out += "    domain: " + wf_string(domain) + "\n";
      }
      if (s.contains("max_tokens")) {
        const auto& m = s["max_tokens"];
        if (!m.is_number_integer() || m.get<int64_t>() < 1 || m.get<int64_t>() > 100000)
          return plan_error{at + "/max_tokens must be a whole number from 1 to 100000"};
        out += "    max_tokens: " + m.dump() + "\n";
      }
    }
    if (s.contains("after")) {
      const auto& after = s["after"];
      if (!after.is_array())
        return plan_error{at + "/after must be a list of step names"};
      std::string list;
      for (size_t k = 0; k < after.size(); ++k) {
        if (!after[k].is_string() || !is_identifier(after[k].get<std::string>()))
          return plan_error{at + "/after/" + std::to_string(k) + " is not a step name"};
        list += (k ? ", " : "") + after[k].get<std::string>();
      }
      if (!list.empty())
        out += "    after: [" + list + "]\n";
    }
    out += "  }\n\n";
    return std::nullopt;
  }
};

} // namespace

std::string plan_prompt(const std::string& goal, const plan_limits& limits) {
  std::string tools;
  for (const auto& t : dsl::builtin_tools())
    if (!t.side_effects)
      tools += "- " + t.name + ": " + t.summary + "\n";
  return "Break the goal below into at most " + std::to_string(limits.max_steps)
         + " steps. Answer with JSON only, in this form:\n"
           "{\"steps\": [{\"name\": \"draft\", \"kind\": \"llm\", \"prompt\": \"...\"},\n"
           "            {\"name\": \"final\", \"kind\": \"tool\", \"use\": \"template\", "
           "\"args\": {\"text\": \"{{draft}}\"}}],\n"
           " \"output\": \"final\"}\n"
           "Step names are identifiers. A prompt or argument may use an earlier step's "
           "result as {{name}}. Tools:\n"
         + tools + "\nGoal: " + goal;
}

result<std::string, plan_error> plan_to_wf(const value& plan, const std::string& workflow_name,
                                           const std::string& import_path,
                                           const plan_limits& limits) {
  if (!plan.is_object())
    return plan_error{"a plan must be a JSON object with \"steps\" and \"output\""};
  auto steps = plan.find("steps");
  if (steps == plan.end() || !steps->is_array() || steps->empty())
    return plan_error{"/steps must be a non-empty list"};
  if (steps->size() > limits.max_steps)
    return plan_error{"/steps has " + std::to_string(steps->size()) + " steps; at most "
                      + std::to_string(limits.max_steps) + " are allowed"};
  writer w{limits, {}, {}};
  w.out = "import " + wf_string(import_path) + "\n\nworkflow " + workflow_name + " {\n";
  for (size_t i = 0; i < steps->size(); ++i)
    if (auto e = w.step((*steps)[i], i))
      return *e;
  auto output = plan.find("output");
  std::string out_name = output != plan.end() && output->is_string()
                           ? output->get<std::string>()
                           : (*steps)[steps->size() - 1].value("name", "");
  if (!w.names.count(out_name))
    return plan_error{"/output '" + out_name + "' names no step of the plan"};
  w.out += "  output result: json = " + out_name + "\n}\n";
  return w.out;
}

std::string plan_rejection::sentence() const {
  return kind == unusable ? "the plan is not usable: " + message
                          : "the plan does not check:\n" + message;
}

result<compiled_plan, plan_rejection> plan_compile(const value& plan,
                                                   const std::string& workflow_name,
                                                   const std::string& import_path,
                                                   const plan_limits& limits,
                                                   const std::string& file_name) {
  auto text = plan_to_wf(plan, workflow_name, import_path, limits);
  if (!text)
    return plan_rejection{plan_rejection::unusable, text.error().message};
  auto dir = std::filesystem::path(import_path).parent_path();
  std::shared_ptr<const dsl::compilation> program =
    dsl::compile_source((dir / file_name).string(), text.value());
  if (!program->ok()) {
    std::string report = program->report();
    if (report.size() > 2000)
      report = report.substr(0, 2000) + "...";
    return plan_rejection{plan_rejection::does_not_check, std::move(report)};
  }
  return compiled_plan{std::move(text).value(), std::move(program)};
}

} // namespace troupe::runtime
