#pragma once

#include "gpu/engine/backend.hpp"
#include "gpu/engine/engine.hpp"
#include "runtime/base/error.hpp"
#include "runtime/base/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

// Which backend runs a model's forward pass. `auto` takes a CUDA device when
// the build has the CUDA backend and a device is usable, else the CPU; `cuda`
// insists on one; `cpu` never touches CUDA.

namespace troupe::gpu {

using base::result;

enum class device_kind { automatic, cpu, cuda };

/// "auto", "cpu" or "cuda" -> the kind; anything else -> nullopt.
std::optional<device_kind> device_kind_from_name(std::string_view name);
const char* to_string(device_kind k);

/// A backend chosen for one engine, and a sentence saying what was chosen
/// and why ("cuda:0 (NVIDIA H100, 79 GiB)", "cpu (no CUDA device)").
/// `backend` is null when the choice is the CPU: engine's constructor then
/// builds the CPU reference backend itself.
struct device_choice {
  std::unique_ptr<llama_backend> backend;
  device_kind kind = device_kind::cpu;
  std::string description;
};

/// Why the requested device cannot run the model: a message only.
using device_error = base::error;

/// Picks and builds the backend for `model` under `opts` (kv_bytes,
/// block_tokens, threads). `automatic` falls back to the CPU when no device
/// is usable or the CUDA backend cannot take the model (the description
/// says why); `cuda` returns that reason as the error instead. Never throws.
/// `model` must outlive the returned backend.
result<device_choice, device_error> select_device(const engine_model& model,
                                                  const engine_options& opts,
                                                  device_kind want, int cuda_device = 0);

} // namespace troupe::gpu
