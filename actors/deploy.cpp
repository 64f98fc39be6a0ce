#include "actors/deploy.hpp"

#include "runtime/journal.hpp"
#include "runtime/workflow_run.hpp"

#include "caf/send.hpp"

#include <thread>

namespace troupe::actors {

base::result<std::string, deploy_error> entry_workflow(const dsl::checked_graph& g) {
  std::vector<std::string> names;
  for (const auto& w : g.graph().workflows)
    if (w.range.file == g.graph().main_file)
      names.push_back(w.name);
  if (names.size() == 1)
    return names.front();
  for (const auto& n : names)
    if (n == "main")
      return n;
  if (names.empty())
    return deploy_error{{"the file defines no workflow to run"}, true};
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return deploy_error{{"the file defines several workflows (" + list
                       + "): name one with --workflow, or call one 'main'"},
                      true};
}

namespace {

using runtime::value;

deploy_error fail(std::string line, bool user = true) {
  return deploy_error{{std::move(line)}, user};
}

gpu::device_kind device_of(runtime::engine_device d) {
  switch (d) {
    case runtime::engine_device::cpu: return gpu::device_kind::cpu;
    case runtime::engine_device::cuda: return gpu::device_kind::cuda;
    default: return gpu::device_kind::automatic;
  }
}

// The run's directory: a new one, or the resumed one after checking that
// the workflow file is the same. Fills restored results.
base::result<runtime::run_handle, deploy_error>
open_run_dir(const deploy_options& o, const std::string& workflow, const value& inputs,
             std::map<std::string, value>& restored) {
  const auto& sm = o.program->sources;
  const auto& main = sm.file(o.program->checked->graph().main_file);
  if (!o.run.resumed) {
    runtime::run_request req;
    req.workflow_file = main.path;
    req.workflow_name = workflow;
    req.inputs = inputs;
    req.source_text = main.text;
    req.troupe_version = o.version;
    auto h = run_store_of(o.config).create_run(req);
    if (!h)
      return fail(h.error().message, false);
    return h.value();
  }
  const runtime::run_handle& h = *o.run.resumed;
  const auto& meta = h.meta;
  if (meta.source_sha256 != runtime::sha256_hex(main.text))
    return fail("run " + meta.id + " was started from a different version of "
                + meta.workflow_file.string()
                + " (its SHA-256 differs): resuming would mix results of two workflows");
  if (!std::filesystem::exists(h.journal))
    return h;
  auto events = runtime::read_journal(h.journal);
  if (!events)
    return fail(events.error().message);
  auto progress = runtime::resume_state(events.value().events, h.journal);
  if (!progress)
    return fail(progress.error().message);
  restored = std::move(progress.value().done);
  return h;
}

} // namespace

std::shared_ptr<model_host> model_host_from(caf::actor_system& sys, const runtime::config& c,
                                            const std::string& node,
                                            std::vector<caf::actor> load_listeners) {
  gpu::engine_options eng;
  eng.threads = std::max(1, c.engine.threads);
  eng.kv_bytes = c.engine.kv_memory_mb << 20;
  eng.max_batch_tokens = 512;
  gpu::worker_options wo;
  wo.queue_capacity = c.limits.queue_capacity;
  return std::make_shared<model_host>(sys, node, eng, wo, device_of(c.engine.device),
                                      std::move(load_listeners));
}

executor_options executor_options_from(const runtime::config& c, const std::string& node,
                                       std::filesystem::path runs_root,
                                       std::shared_ptr<model_host> models) {
  executor_options eo;
  eo.node = node;
  eo.runs_root = std::move(runs_root);
  eo.tools.shell.enabled = c.shell.enabled;
  eo.tools.shell.allow = c.shell.allow;
  eo.tools.shell.timeout_ms = c.shell.timeout_ms;
  eo.tools.shell.max_output = c.shell.max_output_bytes;
  eo.tools.http_max_bytes = c.limits.http_max_bytes;
  eo.tools.http_timeout_ms = c.limits.http_timeout_ms;
  eo.models = std::move(models);
  return eo;
}

run_summary run_to_end(caf::scoped_actor& self, const deployment& d,
                       const std::function<void(const run_event&)>& on_event) {
  run_summary summary;
  bool done = false;
  self->send(d.planner, run_atom_v);
  while (!done)
    self->receive(
      [&](const run_event& e) {
        if (on_event)
          on_event(e);
      },
      [&](const run_summary& s) {
        summary = s;
        done = true;
      },
      [&](const caf::error& e) {
        summary.run_id = d.run_id;
        summary.failures.push_back("the planner failed: " + self->system().render(e));
        done = true;
      });
  d.journal->flush();
  shutdown(d);
  return summary;
}

void shutdown(const deployment& d) {
  auto reason = caf::exit_reason::user_shutdown;
  caf::anon_send_exit(d.planner, reason);
  caf::anon_send_exit(d.router, reason);
  caf::anon_send_exit(d.verifier, reason);
  for (const auto& e : d.executors)
    if (e.local)
      caf::anon_send_exit(e.actor, reason);
  if (d.models)
    for (const auto& [name, g] : d.models->actors())
      caf::anon_send_exit(g, reason);
}

runtime::run_store run_store_of(const runtime::config& c) {
  return runtime::run_store(c.paths.runs.empty()
                              ? std::filesystem::path(runtime::run_store::default_root)
                              : c.paths.runs);
}

base::result<resolved_run, deploy_error>
resolve_run(const dsl::compilation& program, const std::string& workflow,
            std::optional<runtime::run_handle> resumed) {
  const auto& graph = *program.checked;
  std::string name = resumed ? resumed->meta.workflow_name : workflow;
  if (name.empty()) {
    auto w = entry_workflow(graph);
    if (!w)
      return w.error();
    name = w.value();
  }
  const auto* wf = graph.graph().find_workflow(name);
  if (!wf)
    return fail("no workflow '" + name + "' in " + program.sources.file(0).display);
  return resolved_run{wf, std::move(resumed)};
}

base::result<deployment, deploy_error> deploy(caf::actor_system& sys, deploy_options o) {
  const auto& graph = *o.program->checked;
  const auto& wf = *o.run.workflow;
  const std::string& workflow = wf.name;
  const runtime::value& given = o.run.resumed ? o.run.resumed->meta.inputs : o.inputs;
  auto inputs = runtime::bind_inputs(wf, given);
  if (!inputs)
    return deploy_error{inputs.error(), true};

  deployment d;
  std::map<std::string, value> restored;
  auto run = open_run_dir(o, workflow, inputs.value(), restored);
  if (!run)
    return run.error();
  d.run_id = run.value().meta.id;
  d.run_dir = run.value().dir;
  d.reused = restored.size();
  auto writer = runtime::journal_writer::open(run.value().journal);
  if (!writer)
    return fail(writer.error().message, false);
  d.journal = std::make_shared<runtime::journal_service>(std::move(writer).value());

  auto router = router_actor_spawn(sys, graph.graph().models, graph.graph().router);
  if (!router)
    return fail(router.error(), false);
  d.router = router.value();
  d.verifier = verifier_actor_spawn(sys, o.program);

  const auto& c = o.config;
  d.models = model_host_from(sys, c, c.node.name, {caf::actor_cast<caf::actor>(d.router)});
  if (o.local_executors) {
    auto eo = executor_options_from(c, c.node.name, run.value().dir.parent_path(), d.models);
    size_t n = std::max<size_t>(1, std::min<size_t>(4, std::thread::hardware_concurrency()));
    for (size_t i = 0; i < n; ++i)
      d.executors.push_back({executor_actor_spawn(sys, eo), c.node.name, true});
  }
  for (const auto& r : o.remote_executors)
    d.executors.push_back(r);
  if (d.executors.empty())
    return fail("no executor to run steps on: no local executors and no cluster nodes", false);

  planner_options po;
  po.program = o.program;
  po.workflow = workflow;
  po.inputs = inputs.value();
  po.run_id = d.run_id;
  po.workflow_file = o.program->sources.file(graph.graph().main_file).path;
  po.restored = std::move(restored);
  po.journal = d.journal;
  po.router = d.router;
  po.verifier = d.verifier;
  po.executors = d.executors;
  po.listeners = o.listeners;
  po.max_concurrent_steps = c.limits.max_concurrent_steps;
  po.plan_max_steps = c.limits.plan_max_steps;
  if (o.local_executors)
    po.quick_tools_node = c.node.name;
  if (c.cache.enabled) {
    runtime::cache_options co;
    co.capacity = c.cache.capacity;
    co.max_distance = c.cache.simhash_distance;
    po.cache = std::make_shared<runtime::result_cache>(co);
    po.cache_file = c.paths.cache;
    std::error_code ec;
    if (c.paths.cache.has_parent_path())
      std::filesystem::create_directories(c.paths.cache.parent_path(), ec);
    if (auto loaded = po.cache->load(c.paths.cache, runtime::result_cache::clock::now()); !loaded)
      return fail("result cache: " + loaded.error().message
                  + " (delete the file, or set cache.enabled = false)");
  }
  d.planner = planner_actor_spawn(sys, std::move(po));
  return d;
}

void plan_run::stop() const {
  caf::anon_send_exit(planner, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(verifier, caf::exit_reason::user_shutdown);
}

plan_run plan_run_spawn(caf::actor_system& sys, const planner_options& parent,
                        std::shared_ptr<const dsl::compilation> program, std::string workflow,
                        std::string key_prefix) {
  auto child = plan_run_options(parent, program, std::move(workflow), std::move(key_prefix));
  child.verifier = verifier_actor_spawn(sys, std::move(program));
  auto verifier = child.verifier;
  return {planner_actor_spawn(sys, std::move(child)), verifier};
}

planner_options plan_run_options(const planner_options& parent,
                                 std::shared_ptr<const dsl::compilation> program,
                                 std::string workflow, std::string key_prefix) {
  planner_options child;
  child.program = std::move(program);
  child.workflow = std::move(workflow);
  child.inputs = runtime::value::object();
  child.run_id = parent.run_id;
  child.workflow_file = parent.workflow_file;
  const std::string own = key_prefix.substr(parent.key_prefix.size());
  for (const auto& [k, v] : parent.restored)
    if (k.rfind(own, 0) == 0)
      child.restored[k.substr(own.size())] = v;
  child.journal = parent.journal;
  child.router = parent.router;
  child.executors = parent.executors;
  child.listeners = parent.listeners;
  child.max_concurrent_steps = parent.max_concurrent_steps;
  child.key_prefix = std::move(key_prefix);
  child.plan_depth = parent.plan_depth + 1;
  child.plan_max_steps = parent.plan_max_steps;
  child.quick_tools_node = parent.quick_tools_node;
  return child;
}

} // namespace troupe::actors
