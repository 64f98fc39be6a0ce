#include "actors/launcher/engine_commands.hpp"

#include "gpu/engine/device_select.hpp"
#include "gpu/engine/engine.hpp"
#include "gpu/model/model_load.hpp"
#include "gpu/model/model_synth.hpp"
#include "gpu/tokenizer/chat_template.hpp"
#include "runtime/model_paths.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>

namespace troupe::launcher {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

/// "auto", "cpu", "cuda" or "cuda:N" -> kind and device index.
bool parse_device(const std::string& text, gpu::device_kind& kind, int& index) {
  std::string name = text;
  index = 0;
  if (auto colon = text.find(':'); colon != std::string::npos) {
    name = text.substr(0, colon);
    std::string n = text.substr(colon + 1);
    if (name != "cuda" || n.empty() || n.size() > 3
        || n.find_first_not_of("0123456789") != std::string::npos)
      return false;
    index = std::stoi(n);
  }
  auto k = gpu::device_kind_from_name(name);
  if (!k)
    return false;
  kind = *k;
  return true;
}

} // namespace

int cmd_generate(const generate_options& o) {
  auto path = runtime::model_path_resolve(o.model);
  if (!path) {
    std::cerr << "troupe generate: " << path.error().message << "\n";
    return 1;
  }
  auto t_load = clock_type::now();
  auto model = gpu::load_model(path.value().string());
  if (!model) {
    std::cerr << "troupe generate: " << model.error().to_string() << "\n";
    return 1;
  }
  const auto& m = *model.value();
  double load_s = seconds_since(t_load);
  gpu::prompt_parts parts;
  parts.user = o.prompt;
  if (o.chat) { // --system and --template apply with --chat only.
    parts.layout = gpu::prompt_layout::chat;
    parts.system = o.system;
    if (!o.chat_format.empty()) {
      parts.format = gpu::chat_format_from_name(o.chat_format);
      if (!parts.format) {
        std::cerr << "troupe generate: unknown chat template '" << o.chat_format
                  << "' (chatml, llama2 or plain)\n";
        return 1;
      }
    }
  }
  auto prompt = gpu::prompt_render(m.tok.vocabulary().chat_template, parts);
  gpu::generation_request req;
  req.prompt = m.tok.encode(prompt.text, true, prompt.parse_special);
  req.max_tokens = o.max_tokens;
  req.stop = o.stop;
  req.sampling.temperature = o.temperature;
  req.sampling.top_k = o.top_k;
  req.sampling.top_p = o.top_p;
  req.sampling.min_p = o.min_p;
  req.sampling.repeat_penalty = o.repeat_penalty;
  req.sampling.seed = o.seed;
  gpu::engine_options eo;
  eo.threads = o.threads;
  eo.max_batch_tokens = 512;
  gpu::device_kind kind;
  int device_index = 0;
  if (!parse_device(o.device, kind, device_index)) {
    std::cerr << "troupe generate: unknown device '" << o.device
              << "' (auto, cpu, cuda or cuda:N)\n";
    return 1;
  }
  auto choice = gpu::select_device(m, eo, kind, device_index);
  if (!choice) {
    std::cerr << "troupe generate: " << choice.error().message << "\n";
    return 1;
  }
  auto backend = std::move(choice).value();
  // Say why an automatic choice stayed on the CPU.
  std::string cuda_note;
  if (backend.kind == gpu::device_kind::cpu && kind == gpu::device_kind::automatic)
    cuda_note = "; " + backend.description.substr(5, backend.description.size() - 6);
  gpu::engine e(model.value(), eo, std::move(backend.backend));
  int generated = 0;
  double ttft = 0;
  gpu::finish_reason why = gpu::finish_reason::none;
  auto t0 = clock_type::now();
  e.submit(req, [&](const gpu::token_event& ev) {
    if (ev.token >= 0 && generated++ == 0)
      ttft = seconds_since(t0);
    std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
    std::fflush(stdout);
    if (ev.done)
      why = ev.reason;
  });
  e.run();
  double total = seconds_since(t0);
  std::printf("\n");
  double decode_s = total - ttft;
  std::fprintf(stderr,
               "model: %s (%.2fs to load)\ndevice: %s%s\nprompt: %zu tokens, time to first token %.1f ms "
               "(%.0f tokens/s)\ngenerated: %d tokens, %.1f tokens/s; finished: %s\n",
               path.value().string().c_str(), load_s, e.backend().describe().c_str(),
               cuda_note.c_str(),
               req.prompt.size(), ttft * 1e3,
               ttft > 0 ? double(req.prompt.size()) / ttft : 0.0, generated,
               generated > 1 && decode_s > 0 ? (generated - 1) / decode_s : 0.0,
               gpu::to_string(why));
  return 0;
}

int cmd_model_synth(const std::string& shape, const std::string& type, const std::string& out,
                    unsigned long long seed) {
  const auto* s = gpu::synth_shape_find(shape);
  if (!s) {
    std::cerr << "troupe model synth: unknown shape '" << shape << "' (";
    for (const auto& x : gpu::synth_shapes())
      std::cerr << x.name << (&x == &gpu::synth_shapes().back() ? ")\n" : ", ");
    return 1;
  }
  gpu::ggml_type t;
  if (!gpu::ggml_type_from_name(type, t)) {
    std::cerr << "troupe model synth: unknown type '" << type << "' (f32, f16, q8_0, q4_0, ...)\n";
    return 1;
  }
  auto t0 = clock_type::now();
  auto r = gpu::synth_model(*s, t, out, seed);
  if (!r) {
    std::cerr << "troupe model synth: " << r.error().to_string() << "\n";
    return 1;
  }
  std::fprintf(stderr, "wrote %s: %s shape, %s, %.1f MB in %.1fs\n", out.c_str(), shape.c_str(),
               type.c_str(), double(r.value()) / 1e6, seconds_since(t0));
  return 0;
}

} // namespace troupe::launcher
