#pragma once

#include <cstdint>

namespace troupe::base {

/// How busy one model's engine is: measured by gpu::engine_worker::load(),
/// sent by its GPU actor to routers (actors::model_load names the node and
/// model), read by runtime::router for the expected wait. The one load type
/// from the engine to the router.
struct load_report {
  std::int64_t queued = 0;    ///< Waiting to enter the engine; >= 0.
  std::int64_t running = 0;   ///< Inside the engine (decoding); >= 0.
  double kv_occupancy = 0;    ///< Used KV blocks / all blocks, 0..1.
  double ms_per_token = 0;    ///< Recent decode time per generated token; 0: none yet.
  std::int64_t completed = 0; ///< Requests finished since the worker started.
  std::int64_t refused = 0;   ///< Requests refused because the queue was full.
};

/// Serialization (CAF's inspect protocol; no CAF is included here).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, load_report& x) {
  return f(x.queued, x.running, x.kv_occupancy, x.ms_per_token, x.completed, x.refused);
}

} // namespace troupe::base
