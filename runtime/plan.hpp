#pragma once

#include "runtime/base/error.hpp"
#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

#include "dsl/compile.hpp"

#include <memory>
#include <string>

/// `plan` steps: a model decomposes a goal into steps, as JSON; troupe turns
/// the JSON into a .wf workflow, checks it with the same checker as any .wf
/// file, and runs it. The JSON a plan must be:
///
///   {"steps": [
///      {"name": "outline", "kind": "llm", "prompt": "Outline {{...}}",
///       "domain": "writing", "max_tokens": 200, "after": ["other"]},
///      {"name": "final", "kind": "tool", "use": "template",
///       "args": {"text": "{{outline}}"}}],
///    "output": "final"}
///
/// Step names are identifiers; `kind` is "llm" or "tool" ("plan" nests a
/// plan, while depth allows); strings may interpolate earlier steps with
/// {{name}}. `output` names the step whose result the plan step returns.
namespace troupe::runtime {

using base::result;

struct plan_limits {
  size_t max_steps = 8;         ///< The step's max_steps.
  int depth_left = 1;           ///< Nested plan levels still allowed (max_depth - 1 at top).
  size_t max_text = 64 * 1024;  ///< Longest string in a plan.
};

/// Why a plan's JSON cannot become a workflow: a message only, one sentence
/// with the JSON pointer of the offending part.
using plan_error = base::error;

/// The prompt asking a model for a plan for `goal`: the JSON format above,
/// the limits, and the built-in tools.
std::string plan_prompt(const std::string& goal, const plan_limits& limits);

/// The .wf text of workflow `workflow_name` holding the plan's steps, with
/// one output `result: json` (the plan's `output` step), importing
/// `import_path` (the main .wf file, for its models). Errors: not an object,
/// no steps, too many steps, a name that is not an identifier or repeats,
/// an unknown kind, a missing prompt or tool, text over the limit, nesting
/// beyond the depth, an output that names no step. The checker then checks
/// what this function cannot (names used in interpolations, tool argument
/// types, models for domains).
result<std::string, plan_error> plan_to_wf(const value& plan, const std::string& workflow_name,
                                           const std::string& import_path,
                                           const plan_limits& limits);

/// A plan that checked: its .wf text and the compilation holding it.
struct compiled_plan {
  std::string text;
  std::shared_ptr<const dsl::compilation> program; ///< ok().
};

/// Why a plan cannot run: it could not become a workflow (`message` is
/// plan_to_wf()'s), or the workflow does not check (`message` is the
/// checker's report, cut to about 2000 bytes).
struct plan_rejection {
  enum kind_t { unusable, does_not_check } kind = unusable;
  std::string message;
  /// "the plan is not usable: ..." or "the plan does not check:\n...".
  std::string sentence() const;
};

/// plan_to_wf() and the front end's whole check of the result, as the file
/// `file_name` beside `import_path` (the name diagnostics show).
result<compiled_plan, plan_rejection> plan_compile(const value& plan,
                                                   const std::string& workflow_name,
                                                   const std::string& import_path,
                                                   const plan_limits& limits,
                                                   const std::string& file_name);

} // namespace troupe::runtime
