#include "actors/jobs.hpp"

#include "actors/records.hpp"

#include "runtime/journal.hpp"

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

runtime::step_record answer_of(const base::result<step_outcome, caf::error>& reply,
                               const step_job& job, const std::string& node) {
  auto unanswered = [&](const std::string& why) {
    return runtime::step_record::unanswered(job.key, job.model, node, why);
  };
  if (!reply)
    return unanswered("executor on node '" + node + "' failed: " + caf::to_string(reply.error()));
  auto rec = step_record_read(reply.value().record);
  if (!rec)
    return unanswered("bad step record from node '" + node + "': " + rec.error());
  return std::move(rec).value();
}

runtime::step_record record_for(const step_job& job, const std::string& node) {
  runtime::step_record r;
  r.key = job.key;
  r.attempt = job.attempt;
  r.model = job.model;
  r.node = node;
  r.started_us = runtime::journal_now_us();
  return r;
}

runtime::step_record tool_job_record(const step_job& job, const runtime::tool_context& ctx,
                                     const std::string& node) {
  auto r = record_for(job, node);
  auto args = runtime::value::parse(job.args_json, nullptr, false);
  if (args.is_discarded()) {
    r.error = "tool '" + job.tool + "': arguments are not JSON";
  } else if (auto out = runtime::run_tool(job.tool, args, ctx)) {
    r.ok = true;
    r.output_json = out.value().dump();
  } else {
    r.error = out.error().message;
    r.retryable = out.error().retryable;
  }
  r.finished_us = runtime::journal_now_us();
  return r;
}

} // namespace troupe::actors
