#include "actors/model_host.hpp"

#include "gpu/model/model_load.hpp"
#include "runtime/model_paths.hpp"

namespace troupe::actors {

base::result<gpu_actor, std::string> model_host::get(const std::string& model_name,
                                                        const std::string& location) {
  auto path = runtime::model_path_resolve(location);
  if (!path)
    return "model '" + model_name + "': " + path.error().message;
  const std::string key = path.value().string();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = by_path_.find(key); it != by_path_.end())
    return it->second;
  if (auto f = failures_.find(key); f != failures_.end())
    return f->second;
  auto fail = [&](std::string why) -> base::result<gpu_actor, std::string> {
    failures_[key] = why;
    return why;
  };
  auto model = gpu::load_model(key);
  if (!model)
    return fail("model '" + model_name + "': " + model.error().to_string());
  gpu_actor_options o;
  o.node = node_;
  o.model_name = model_name;
  o.engine = engine_;
  o.worker = worker_;
  o.device = device_;
  o.load_listeners = load_listeners_;
  auto actor = gpu_actor_spawn(sys_, model.value(), o);
  if (!actor)
    return fail("model '" + model_name + "': " + actor.error());
  by_path_.emplace(key, actor.value());
  by_name_.emplace(model_name, actor.value());
  return actor.value();
}

std::map<std::string, gpu_actor> model_host::actors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_name_;
}

} // namespace troupe::actors
