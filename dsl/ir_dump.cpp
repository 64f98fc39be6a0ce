#include "dsl/ir_dump.hpp"

#include "dsl/format.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace troupe::dsl {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string ms(int64_t v) { return std::to_string(v) + "ms"; }

std::string quote_list(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump();
}

std::string join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + v[i];
  return s + "]";
}

void router_line(std::string& out, const std::string& ind, const ir::router_policy& r) {
  out += ind + "router accuracy=" + num(r.accuracy) + " cost=" + num(r.cost)
         + " latency=" + num(r.latency) + " load_aware="
         + (r.load_aware ? "true" : "false") + "\n";
}

void model_line(std::string& out, const ir::model& m) {
  const auto& b = m.backend;
  out += "model " + m.name + " (" + m.origin + ") backend=";
  if (b.kind == ir::backend::gguf)
    out += "gguf(\"" + b.path + "\")";
  else
    out += "openai(\"" + b.url + "\", model: \"" + b.api_model + "\", key_env: \""
           + b.key_env + "\")";
  out += " domains=" + quote_list(m.domains) + " accuracy=" + num(m.accuracy)
         + " cost=" + num(m.cost_per_1k) + " latency=" + num(m.latency_ms) + "ms"
         + " context=" + std::to_string(m.context);
  if (m.exit_threshold)
    out += " exit_threshold=" + num(*m.exit_threshold);
  out += "\n";
}

void step_lines(std::string& out, const ir::step& s) {
  const std::string i = "    ";
  out += "  step " + s.name + ": " + ast::to_string(s.kind);
  if (!s.target.empty())
    out += " " + s.target;
  out += " -> " + s.output_type.to_string() + "\n";
  out += i + "deps: " + join(s.deps) + "\n";
  if (s.each)
    out += i + "for " + s.each->var + " in " + expr_to_ir(*s.each->list) + "\n";
  if (s.when) out += i + "when: " + expr_to_ir(*s.when) + "\n";
  if (s.prompt)
    out += i + (s.kind == ast::step_kind::plan ? "goal: " : "prompt: ")
           + expr_to_ir(*s.prompt) + "\n";
  if (s.system) out += i + "system: " + expr_to_ir(*s.system) + "\n";
  for (const auto& a : s.args)
    out += i + "arg " + a.name + ": " + expr_to_ir(*a.value) + "\n";
  if (s.kind == ast::step_kind::llm || s.kind == ast::step_kind::plan) {
    out += i + "model: " + (s.model ? *s.model : "<router>");
    if (!s.domain.empty()) out += " domain: \"" + s.domain + "\"";
    out += " max_tokens: " + std::to_string(s.max_tokens)
           + " temperature: " + num(s.temperature);
    if (s.format == ir::output_format::json) out += " format: json";
    out += "\n";
    if (!s.stop.empty()) out += i + "stop: " + quote_list(s.stop) + "\n";
    if (s.kind == ast::step_kind::plan)
      out += i + "max_steps: " + std::to_string(s.max_steps) + " max_depth: "
             + std::to_string(s.max_depth) + " candidates: " + std::to_string(s.candidates)
             + "\n";
  }
  out += i + "policy: retries=" + std::to_string(s.retries)
         + " priority=" + base::to_string(s.cls);
  if (s.timeout_ms) out += " timeout=" + ms(*s.timeout_ms);
  if (s.fallback) out += " fallback=" + *s.fallback;
  if (s.cache_ttl_ms) out += " cache=" + ms(*s.cache_ttl_ms);
  if (s.delib) {
    out += std::string(" deliberation=") + (s.delib->enabled ? "on" : "off");
    if (s.delib->exit_threshold) out += "@" + num(*s.delib->exit_threshold);
  }
  out += "\n";
  const auto& v = s.verify;
  if (v.empty())
    return;
  out += i + "verify:";
  if (v.json) out += " json";
  if (v.schema) out += " schema";
  for (const auto& r : v.regexes) out += " regex(\"" + r.first + "\")";
  for (const auto& a : v.asserts) out += " assert(" + expr_to_ir(*a) + ")";
  if (v.length)
    out += " length(" + std::to_string(v.length->first) + ".." + std::to_string(v.length->second) + ")";
  if (v.agree)
    out += " agree(" + std::to_string(v.agree->first) + " of " + std::to_string(v.agree->second) + ")";
  out += "\n";
}

} // namespace

std::string ir_dump(const checked_graph& cg) {
  const auto& g = cg.graph();
  std::string out;
  router_line(out, "", g.router);
  for (const auto& m : g.models)
    model_line(out, m);
  for (const auto& w : g.workflows) {
    out += "workflow " + w.name + "\n";
    if (w.router)
      router_line(out, "  ", *w.router);
    for (const auto& in : w.inputs) {
      out += "  input " + in.name + ": " + in.type_.to_string();
      if (in.default_value)
        out += " = " + expr_to_ir(*in.default_value);
      out += "\n";
    }
    for (const auto& s : w.steps)
      step_lines(out, s);
    for (const auto& o : w.outputs)
      out += "  output " + o.name + ": " + o.type_.to_string() + " = "
             + expr_to_ir(*o.value) + "  deps: " + join(o.deps) + "\n";
    out += "  order: " + join(cg.run_order(w.name)) + "\n";
  }
  return out;
}

} // namespace troupe::dsl
