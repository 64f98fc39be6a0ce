#include "actors/router_actor.hpp"

#include "runtime/router.hpp"

#include "caf/typed_event_based_actor.hpp"

namespace troupe::actors {

namespace {

class router_impl : public router_actor::base {
public:
  router_impl(caf::actor_config& cfg, runtime::router r)
    : router_actor::base(cfg), router_(std::move(r)) {}

  behavior_type make_behavior() override {
    return {
      [this](route_atom, const runtime::route_request& q) {
        return runtime::route_reply_of(router_.choose(q, runtime::router_clock::now()));
      },
      [this](const model_load& l) {
        // Unknown models are not ours to route.
        router_.report_load(l.model, l.load, runtime::router_clock::now());
      },
      [this](const runtime::call_report& r) {
        router_.learn(r, runtime::router_clock::now()); // Unknown models are not ours.
      },
      [this](stats_atom) { return router_.snapshot(runtime::router_clock::now()).dump(); },
    };
  }

private:
  runtime::router router_;
};

} // namespace

base::result<router_actor, std::string>
router_actor_spawn(caf::actor_system& sys, std::vector<dsl::ir::model> models,
                   dsl::ir::router_policy policy) {
  auto r = runtime::router::create(std::move(models), policy);
  if (!r)
    return r.error().message;
  return sys.spawn<router_impl>(std::move(r).value());
}

} // namespace troupe::actors
