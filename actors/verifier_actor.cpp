#include "actors/verifier_actor.hpp"

#include "runtime/verifier.hpp"
#include "runtime/workflow_run.hpp"

#include "caf/typed_event_based_actor.hpp"

namespace troupe::actors {

runtime::verdict verify_step(const dsl::compilation& program, const verify_job& job) {
  runtime::verdict reply;
  const auto* wf = program.checked->graph().find_workflow(job.workflow);
  const auto* step = wf ? wf->find_step(job.step) : nullptr;
  if (!step) {
    reply.failures.push_back("no step '" + job.workflow + "." + job.step + "' to verify");
    return reply;
  }
  auto result = runtime::value::parse(job.result_json, nullptr, false);
  auto context = runtime::verify_context_read(
    runtime::value::parse(job.context_json, nullptr, false), wf);
  if (result.is_discarded() || !context) {
    reply.failures.push_back("verify job for '" + job.step + "' is not valid JSON");
    return reply;
  }
  runtime::eval_scope scope{wf, &context->inputs, &context->steps,
                            step->each ? &context->loop_value : nullptr, nullptr};
  auto report = runtime::verify_result(step->verify, result, scope);
  for (const auto& f : report.failures)
    reply.failures.push_back(f.check + ": " + f.message);
  reply.passed = report.passed();
  return reply;
}

namespace {

class verifier_impl : public verifier_actor::base {
public:
  verifier_impl(caf::actor_config& cfg, std::shared_ptr<const dsl::compilation> program)
    : verifier_actor::base(cfg), program_(std::move(program)) {}

  behavior_type make_behavior() override {
    return {
      [this](verify_atom, const verify_job& job) { return verify_step(*program_, job); },
      [](agree_atom, const std::vector<std::string>& answers, std::uint32_t k) {
        std::vector<runtime::value> values;
        for (const auto& a : answers) {
          auto v = runtime::value::parse(a, nullptr, false);
          values.push_back(v.is_discarded() ? runtime::value(a) : v);
        }
        auto a = runtime::find_agreement(values, k);
        agree_reply r;
        r.reached = a.reached;
        for (auto i : a.group)
          r.group.push_back(std::uint32_t(i));
        return r;
      },
    };
  }

private:
  std::shared_ptr<const dsl::compilation> program_;
};

} // namespace

verifier_actor verifier_actor_spawn(caf::actor_system& sys,
                                    std::shared_ptr<const dsl::compilation> program) {
  return sys.spawn<verifier_impl>(std::move(program));
}

} // namespace troupe::actors
