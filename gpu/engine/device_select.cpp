#include "gpu/engine/device_select.hpp"

#include "gpu/backend.hpp"
#include "gpu/cuda/cuda_backend.hpp"

namespace troupe::gpu {

std::optional<device_kind> device_kind_from_name(std::string_view name) {
  if (name == "auto") return device_kind::automatic;
  if (name == "cpu") return device_kind::cpu;
  if (name == "cuda") return device_kind::cuda;
  return std::nullopt;
}

const char* to_string(device_kind k) {
  switch (k) {
    case device_kind::automatic: return "auto";
    case device_kind::cpu: return "cpu";
    case device_kind::cuda: return "cuda";
  }
  return "?";
}

namespace {

device_choice cpu_choice(std::string why) {
  device_choice c;
  c.kind = device_kind::cpu;
  c.description = "cpu (" + why + ")";
  return c;
}

} // namespace

result<device_choice, device_error> select_device(const engine_model& model,
                                                  const engine_options& opts,
                                                  device_kind want, int cuda_device) {
  if (want == device_kind::cpu)
    return cpu_choice("requested");
  std::string why;
  if (!cuda_built())
    why = "this build has no CUDA backend";
  else if (cuda_device_count() == 0)
    why = "no CUDA device is usable";
  else if (cuda_device < 0 || cuda_device >= cuda_device_count())
    why = "no CUDA device " + std::to_string(cuda_device) + " (there are "
          + std::to_string(cuda_device_count()) + ")";
  if (why.empty()) {
    auto backend = make_cuda_backend(model.weights, opts.kv_bytes, opts.block_tokens,
                                     cuda_device, &why);
    if (backend) {
      device_choice c;
      c.kind = device_kind::cuda;
      c.description = backend->describe();
      c.backend = std::move(backend);
      return c;
    }
  }
  if (want == device_kind::cuda)
    return device_error{"cannot run on CUDA: " + why};
  return cpu_choice(why);
}

} // namespace troupe::gpu
