#include "actors/jobs.hpp"

namespace troupe::actors {

step_job step_job_for(const dsl::ir::graph& graph, const std::string& run_id,
                      const runtime::task& t, uint32_t attempt, const runtime::job_request& r) {
  const auto& step = *t.step;
  step_job j;
  j.run_id = run_id;
  j.key = t.key;
  j.attempt = attempt;
  j.timeout_ms = step.timeout_ms.value_or(0);
  j.cls = step.cls;
  if (step.kind == dsl::ast::step_kind::tool) {
    j.kind = "tool";
    j.tool = step.target;
    j.args_json = t.args.dump();
    return j;
  }
  const auto& backend = graph.find_model(r.model)->backend;
  const bool openai = backend.kind == dsl::ir::backend::openai;
  j.kind = step.kind == dsl::ast::step_kind::plan ? "plan" : "llm";
  j.model = r.model;
  j.backend = openai ? "openai" : "gguf";
  j.location = openai ? backend.url : backend.path;
  j.api_model = backend.api_model;
  j.key_env = backend.key_env;
  j.prompt = r.prompt;
  j.system = t.system;
  j.json_output = r.json_output;
  j.max_tokens = int32_t(step.max_tokens);
  j.temperature = r.temperature;
  j.seed = r.seed;
  j.stop = step.stop;
  return j;
}

} // namespace troupe::actors
