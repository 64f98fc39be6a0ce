#include "actors/verifier_actor.hpp"

#include "runtime/verifier.hpp"
#include "runtime/workflow_run.hpp"

#include "caf/typed_event_based_actor.hpp"

namespace troupe::actors {

std::vector<runtime::verdict> verify_step(const dsl::compilation& program,
                                          const verify_job& job) {
  std::vector<runtime::verdict> out(job.results_json.size());
  auto fail_all = [&](const std::string& why) {
    for (auto& v : out) v.failures.push_back(why);
    return out;
  };
  const auto* wf = program.checked->graph().find_workflow(job.workflow);
  const auto* step = wf ? wf->find_step(job.step) : nullptr;
  if (!step)
    return fail_all("no step '" + job.workflow + "." + job.step + "' to verify");
  auto context = runtime::verify_context_read(
    runtime::value::parse(job.context_json, nullptr, false), wf);
  if (!context)
    return fail_all("verify job for '" + job.step + "': its context is not valid JSON");
  runtime::eval_scope scope{wf, &context->inputs, &context->steps,
                            step->each ? &context->loop_value : nullptr, nullptr};
  for (size_t i = 0; i < out.size(); ++i) {
    auto result = runtime::value::parse(job.results_json[i], nullptr, false);
    if (result.is_discarded()) {
      out[i].failures.push_back("verify job for '" + job.step + "': its result is not valid JSON");
      continue;
    }
    auto report = runtime::verify_result(step->verify, result, scope);
    for (const auto& f : report.failures)
      out[i].failures.push_back(f.check + ": " + f.message);
    out[i].passed = report.passed();
  }
  return out;
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
