#include "actors/router_actor.hpp"

#include "runtime/router.hpp"

#include "caf/typed_event_based_actor.hpp"

namespace troupe::actors {

namespace {

runtime::route_request to_request(const route_query& q) {
  runtime::route_request r;
  r.step = q.step;
  r.domain = q.domain;
  if (!q.pinned.empty())
    r.pinned = q.pinned;
  r.exclude.insert(q.exclude.begin(), q.exclude.end());
  r.fallback = q.fallbacks;
  r.n = q.n;
  r.max_tokens = q.max_tokens;
  if (q.has_policy) {
    dsl::ir::router_policy p;
    p.accuracy = q.w_accuracy;
    p.cost = q.w_cost;
    p.latency = q.w_latency;
    p.load_aware = q.load_aware;
    p.declared = true;
    r.policy = p;
  }
  return r;
}

class router_impl : public router_actor::base {
public:
  router_impl(caf::actor_config& cfg, runtime::router r)
    : router_actor::base(cfg), router_(std::move(r)) {}

  behavior_type make_behavior() override {
    return {
      [this](route_atom, const route_query& q) {
        route_reply reply;
        auto d = router_.choose(to_request(q), runtime::router_clock::now());
        if (!d) {
          reply.error = d.error().message;
          return reply;
        }
        reply.ok = true;
        reply.chosen = d.value().chosen;
        reply.decision_json = runtime::to_json(d.value()).dump();
        reply.explain = runtime::explain(d.value());
        return reply;
      },
      [this](const load_report& l) {
        runtime::load_report r;
        r.queue_len = l.queued;
        r.active = l.running;
        r.kv_occupancy = l.kv_occupancy;
        r.ms_per_token = l.ms_per_token;
        r.updated_at = runtime::router_clock::now();
        router_.report_load(l.model, r); // Unknown models are not ours to route.
      },
      [this](const model_outcome& o) {
        auto now = runtime::router_clock::now();
        auto outcome = o.call_ok ? runtime::call_outcome::ok
                                 : o.timed_out ? runtime::call_outcome::timeout
                                               : runtime::call_outcome::error;
        std::optional<std::chrono::milliseconds> elapsed;
        if (o.call_ok && o.elapsed_ms >= 0)
          elapsed = std::chrono::milliseconds(int64_t(o.elapsed_ms));
        router_.record_call(o.model, outcome, now, elapsed);
        if (o.call_ok)
          router_.record_verification(o.model, o.domain, o.verified);
      },
      [this](stats_atom) { return router_.snapshot(runtime::router_clock::now()).dump(); },
    };
  }

private:
  runtime::router router_;
};

} // namespace

runtime::result<router_actor, std::string>
router_actor_spawn(caf::actor_system& sys, std::vector<dsl::ir::model> models,
                   dsl::ir::router_policy policy) {
  auto r = runtime::router::create(std::move(models), policy);
  if (!r)
    return r.error().message;
  return sys.spawn<router_impl>(std::move(r).value());
}

} // namespace troupe::actors
