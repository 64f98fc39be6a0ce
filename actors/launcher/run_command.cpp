#include "actors/launcher/run_command.hpp"

#include "actors/deploy.hpp"
#include "actors/node_actor.hpp"
#include "actors/system_config.hpp"
#include "actors/launcher/run_view.hpp"
#include "actors/messages.hpp"
#include "dsl/compile.hpp"
#include "runtime/run_store.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace troupe::launcher {

namespace {

using runtime::value;

// --input NAME=VALUE: text inputs take VALUE as it is; others parse it as JSON.
bool parse_inputs(const run_options& o, const dsl::ir::workflow* wf, value& out) {
  out = value::object();
  if (!o.inputs_file.empty()) {
    std::ifstream in(o.inputs_file);
    if (!in) {
      std::cerr << "troupe run: cannot read --inputs file " << o.inputs_file << "\n";
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    out = value::parse(text.str(), nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      std::cerr << "troupe run: " << o.inputs_file << " must hold a JSON object of inputs\n";
      return false;
    }
  }
  for (const auto& kv : o.inputs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "troupe run: --input '" << kv << "' must look like NAME=VALUE\n";
      return false;
    }
    std::string name = kv.substr(0, eq), text = kv.substr(eq + 1);
    const auto* in = wf ? wf->find_input(name) : nullptr;
    if (in && in->type_.is(dsl::type_kind::text)) {
      out[name] = text;
      continue;
    }
    auto v = value::parse(text, nullptr, false);
    if (v.is_discarded()) {
      if (in && !in->type_.is(dsl::type_kind::json)) {
        std::cerr << "troupe run: --input " << name << ": '" << text << "' is not a "
                  << in->type_.to_string() << " (write it as JSON)\n";
        return false;
      }
      v = text; // json inputs and unknown names (reported by binding) keep text.
    }
    out[name] = v;
  }
  return true;
}

} // namespace

int cmd_run(const run_options& o, const std::string& version) {
  auto cfg = runtime::load_config_or_default(o.config);
  if (!cfg) {
    std::cerr << cfg.error().text();
    return run_bad_input;
  }
  auto config = std::move(cfg).value();
  std::string file = o.file;
  std::optional<runtime::run_handle> resumed;
  if (!o.resume.empty()) {
    auto h = actors::run_store_of(config).open_run(o.resume);
    if (!h) {
      std::cerr << "troupe run: " << h.error().message << "\n";
      return run_bad_input;
    }
    resumed = std::move(h).value();
    if (file.empty())
      file = resumed->meta.workflow_file.string();
  }
  if (file.empty()) {
    std::cerr << "troupe run: give a .wf file, or --resume RUN_ID\n";
    return run_usage;
  }
  std::shared_ptr<const dsl::compilation> program = dsl::compile_file(file);
  if (!program->ok() || !program->diags.items().empty())
    std::cerr << program->report();
  if (!program->ok())
    return run_bad_input;

  auto run = actors::resolve_run(*program, o.workflow, std::move(resumed));
  if (!run) {
    for (const auto& line : run.error().lines)
      std::cerr << "troupe run: " << line << "\n";
    return run_bad_input;
  }
  actors::deploy_options d;
  d.program = program;
  if (!parse_inputs(o, run.value().workflow, d.inputs))
    return run_bad_input;
  d.run = std::move(run).value();
  d.config = config;
  d.version = version;

  actors::system_config sys_cfg(config.node, !o.cluster.empty());
  caf::actor_system sys{sys_cfg};
  caf::scoped_actor self{sys};
  if (!o.cluster.empty()) {
    auto seed = runtime::parse_host_port(o.cluster, false);
    if (!seed) {
      std::cerr << "troupe run: --cluster: " << seed.error() << "\n";
      return run_bad_input;
    }
    auto joined = actors::cluster_connect(sys, seed.value(), config.node.name + "-run-"
                                          + std::to_string(::getpid()),
                                          actors::cluster_secret(config));
    if (!joined) {
      std::cerr << "troupe run: " << joined.error().message << "\n";
      return run_bad_input;
    }
    for (const auto& u : joined.value().unreachable)
      std::cerr << "troupe run: skipping unreachable node " << u << "\n";
    for (const auto& m : joined.value().members)
      for (const auto& e : m.executors)
        d.remote_executors.push_back({caf::actor_cast<actors::executor_actor>(e), m.name, false});
    d.local_executors = false;
  }
  d.listeners.push_back(caf::actor{self});
  auto dep = actors::deploy(sys, std::move(d));
  if (!dep) {
    for (const auto& line : dep.error().lines)
      std::cerr << "troupe run: " << line << "\n";
    return dep.error().user_error ? run_bad_input : run_system_error;
  }
  run_view view(o.json, o.explain, dep.value().run_id);
  auto summary = actors::run_to_end(self, dep.value(),
                                    [&](const actors::run_event& e) { view.on_event(e.json); });
  view.finish(summary);
  return summary.ok ? run_ok : run_failed;
}

} // namespace troupe::launcher
