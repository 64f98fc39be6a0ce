// embed_demo: a CAF application of its own that embeds troupe through the
// installed package. It builds its own actor system, spawns a router over
// two models it declares in code (no .wf file) and asks it where a step
// should go; given a GGUF file, it also spawns a GPU actor on the CPU and
// has it generate. Every exchange goes through troupe's typed interfaces.
//
// Usage: embed_demo [model.gguf]
// Exits 0 when every step succeeded, 1 otherwise (with the reason on stderr).

#include "actors/gpu_actor.hpp"
#include "actors/messages.hpp"
#include "actors/router_actor.hpp"
#include "dsl/ir.hpp"
#include "gpu/model/model_load.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace troupe;

// Troupe's message types must be known to the system before it starts.
struct demo_config : caf::actor_system_config {
  demo_config() { actors::register_message_types(*this); }
};

dsl::ir::model make_model(std::string name, std::string file, std::string domain,
                          double accuracy, double latency_ms) {
  dsl::ir::model m;
  m.name = std::move(name);
  m.origin = "wf";
  m.backend.kind = dsl::ir::backend::gguf;
  m.backend.path = std::move(file);
  m.domains = {std::move(domain)};
  m.accuracy = accuracy;
  m.latency_ms = latency_ms;
  return m;
}

// Asks the router which model should write a story (only "storyteller"
// serves that domain); the decision, or nothing after printing why not.
std::optional<runtime::route_reply> route(caf::actor_system& sys,
                                         const actors::router_actor& router) {
  troupe::runtime::route_request q;
  q.step = "story";
  q.domain = "stories";
  q.max_tokens = 32;
  std::optional<runtime::route_reply> got;
  caf::scoped_actor self{sys};
  self->request(router, caf::infinite, actors::route_atom_v, q)
    .receive(
      [&](const runtime::route_reply& r) {
        if (r.ok && !r.chosen.empty())
          got = r;
        else
          std::cerr << "embed_demo: the router chose nothing: " << r.error << "\n";
      },
      [&](const caf::error& e) {
        std::cerr << "embed_demo: route request failed: " << sys.render(e) << "\n";
      });
  return got;
}

// Loads `path`, serves it from a GPU actor on the CPU as `model_name` and
// prints its continuation of a prompt. False after printing why on failure.
bool generate(caf::actor_system& sys, const std::string& path,
              const std::string& model_name) {
  auto model = gpu::load_model(path);
  if (!model) {
    std::cerr << "embed_demo: " << model.error().to_string() << "\n";
    return false;
  }
  actors::gpu_actor_options opts;
  opts.node = "embed-demo";
  opts.model_name = model_name;
  opts.device = gpu::device_kind::cpu;
  auto gpu = actors::gpu_actor_spawn(sys, model.value(), opts);
  if (!gpu) {
    std::cerr << "embed_demo: cannot start the GPU actor: " << gpu.error() << "\n";
    return false;
  }
  actors::generation_job job;
  job.prompt = "Once upon a time";
  job.max_tokens = 32;
  bool ok = false;
  caf::scoped_actor self{sys};
  self->request(gpu.value(), caf::infinite, actors::generate_atom_v, job)
    .receive(
      [&](const actors::generation_result& r) {
        if (!r.ok) {
          std::cerr << "embed_demo: generation failed: " << r.error << "\n";
        } else if (r.text.empty()) {
          std::cerr << "embed_demo: the model generated no text\n";
        } else {
          std::cout << "text: " << job.prompt << r.text << "\n"
                    << "tokens: " << r.completion_tokens << " (" << r.finish << ")\n";
          ok = true;
        }
      },
      [&](const caf::error& e) {
        std::cerr << "embed_demo: generate request failed: " << sys.render(e) << "\n";
      });
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::cerr << "usage: embed_demo [model.gguf]\n";
    return 1;
  }
  demo_config cfg;
  caf::actor_system sys{cfg};

  std::vector<dsl::ir::model> models{
    make_model("storyteller", "stories260K.gguf", "stories", 0.6, 50),
    make_model("assistant", "SmolLM2-135M-Instruct.Q4_1.gguf", "chat", 0.8, 400)};
  auto router = actors::router_actor_spawn(sys, std::move(models), dsl::ir::router_policy{});
  if (!router) {
    std::cerr << "embed_demo: cannot start the router: " << router.error() << "\n";
    return 1;
  }
  auto decision = route(sys, router.value());
  if (!decision)
    return 1;
  std::cout << "route: " << decision->explain << "\n";

  if (argc == 2 && !generate(sys, argv[1], decision->chosen.front()))
    return 1;
  return 0;
}
