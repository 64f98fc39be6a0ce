// build_ir(): ast files -> ir::graph, with names resolved.
#include "dsl/build_ir.hpp"

#include "dsl/ir_properties.hpp"
#include "dsl/resolve_names.hpp"
#include "dsl/tools.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace troupe::dsl {

namespace {

const std::vector<std::string> step_common = {"when", "after", "retries",
                                              "timeout", "priority", "verify"};
const std::vector<std::string> llm_props = {
  "prompt", "system", "model", "domain", "max_tokens", "temperature", "stop",
  "format", "fallback", "cache", "deliberation"};
const std::vector<std::string> plan_props = {
  "goal", "model", "domain", "max_steps", "max_depth", "candidates",
  "max_tokens", "temperature", "fallback", "cache", "deliberation"};
const std::vector<std::string> tool_props = {"use", "args"};

std::vector<std::string> concat(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Tracks which name was first declared where, to report duplicates (E021).
class name_table {
public:
  name_table(diagnostics& diags, std::string what) : diags_(diags), what_(std::move(what)) {}

  bool declare(const std::string& name, source_range at) {
    auto [it, fresh] = first_.emplace(name, at);
    if (!fresh) {
      diags_.add(diag_code::E021, at, what_ + " '" + name + "' is defined twice")
        .notes.push_back({it->second, "first defined here"});
    }
    return fresh;
  }

private:
  diagnostics& diags_;
  std::string what_;
  std::map<std::string, source_range> first_;
};

class ir_builder {
public:
  explicit ir_builder(diagnostics& diags) : diags_(diags) {}

  ir::graph build(const std::vector<const ast::file*>& files,
                  std::vector<ir::model> registry_models) {
    ir::graph g;
    g.main_file = files.empty() ? 0 : files.front()->file_id;
    name_table models(diags_, "model");
    for (auto& m : registry_models)
      if (models.declare(m.name, m.name_range))
        g.models.push_back(std::move(m));
    std::optional<source_range> router_at;
    for (const auto* f : files) {
      for (const auto& item : f->items) {
        if (auto* m = std::get_if<ast::model_decl>(&item)) {
          if (models.declare(m->name, m->name_range))
            g.models.push_back(read_model(*m));
        } else if (auto* r = std::get_if<ast::router_decl>(&item)) {
          if (router_at) {
            diags_.add(diag_code::E021, r->range, "the router is declared twice")
              .notes.push_back({*router_at, "first declared here"});
            continue;
          }
          router_at = r->range;
          g.router = read_router(*r);
        }
      }
    }
    name_table workflows(diags_, "workflow");
    for (const auto* f : files)
      for (const auto& item : f->items)
        if (auto* w = std::get_if<ast::workflow_decl>(&item))
          if (workflows.declare(w->name, w->name_range))
            g.workflows.push_back(read_workflow(*w));
    for (auto& w : g.workflows)
      resolve_names(g, w, diags_);
    return g;
  }

private:
  ir::model read_model(const ast::model_decl& d) {
    ir::model m;
    m.name = d.name;
    m.name_range = d.name_range;
    m.origin = "wf";
    property_reader p(diags_, d.body, "model '" + d.name + "'",
                      {"backend", "domains", "accuracy", "cost", "latency",
                       "context", "deliberation"});
    p.anchor(d.name_range);
    if (p.require("backend", "for example backend: gguf(\"model.gguf\")"))
      if (auto e = p.expr("backend"))
        m.backend = read_backend(*e);
    if (auto v = p.string_list("domains")) m.domains = *v;
    if (auto v = p.number("accuracy")) m.accuracy = *v;
    if (auto v = p.number("cost")) m.cost_per_1k = *v;
    if (auto v = p.duration_ms("latency")) m.latency_ms = double(*v);
    if (auto v = p.integer("context")) m.context = *v;
    if (const auto* b = p.nested("deliberation"))
      m.exit_threshold = read_deliberation(*b, "model '" + d.name + "'", false).exit_threshold;
    m.ranges = p.ranges();
    return m;
  }

  ir::backend read_backend(const ast::expr& e) {
    ir::backend b;
    b.range = e.range;
    auto bad = [&](const std::string& msg) {
      diags_.add(diag_code::E061, e.range, msg,
                 "write gguf(\"file.gguf\") or openai(\"https://host/v1\", "
                 "model: \"name\", key_env: \"API_KEY_VAR\")");
      return ir::backend{}; // No range: later checks skip it.
    };
    if (e.kind != ast::expr_kind::call)
      return bad("a backend must be gguf(...) or openai(...)");
    std::map<std::string, std::string> named;
    std::vector<std::string> positional;
    for (size_t i = 0; i < e.args.size(); ++i) {
      const auto& a = *e.args[i];
      if (a.kind != ast::expr_kind::string || !a.str.is_plain())
        return bad("backend arguments must be plain strings");
      if (e.arg_names[i].empty())
        positional.push_back(a.str.plain_text());
      else
        named[e.arg_names[i]] = a.str.plain_text();
    }
    if (e.text == "gguf") {
      b.kind = ir::backend::gguf;
      if (positional.size() != 1 || !named.empty())
        return bad("gguf() takes exactly one argument: the model file");
      b.path = positional[0];
    } else if (e.text == "openai") {
      b.kind = ir::backend::openai;
      if (positional.size() != 1)
        return bad("openai() takes the endpoint URL as its first argument");
      b.url = positional[0];
      for (const auto& [k, v] : named) {
        if (k == "model") b.api_model = v;
        else if (k == "key_env") b.key_env = v;
        else return bad("openai() has no argument '" + k + "'");
      }
      if (b.api_model.empty())
        return bad("openai() needs model: \"<name at the endpoint>\"");
    } else {
      return bad("unknown backend '" + e.text + "'");
    }
    return b;
  }

  // Steps may switch deliberation off; models only set their threshold.
  ir::deliberation read_deliberation(const ast::block& b, const std::string& owner,
                                     bool allow_off) {
    ir::deliberation d;
    d.range = b.range;
    std::vector<std::string> allowed{"exit_threshold"};
    if (allow_off)
      allowed.push_back("off");
    property_reader p(diags_, b, "deliberation of " + owner, allowed);
    if (auto v = p.number("exit_threshold")) d.exit_threshold = v;
    if (allow_off && p.flag("off")) d.enabled = false;
    return d;
  }

  ir::router_policy read_router(const ast::router_decl& r) {
    ir::router_policy rp;
    rp.declared = true;
    rp.range = r.range;
    property_reader p(diags_, r.body, "router", {"weights", "load_aware"});
    if (const auto* w = p.nested("weights")) {
      property_reader pw(diags_, *w, "router weights", {"accuracy", "cost", "latency"});
      if (auto v = pw.number("accuracy")) rp.accuracy = *v;
      if (auto v = pw.number("cost")) rp.cost = *v;
      if (auto v = pw.number("latency")) rp.latency = *v;
      rp.ranges = pw.ranges();
      rp.ranges["weights"] = w->range;
    }
    if (auto v = p.boolean("load_aware")) rp.load_aware = *v;
    return rp;
  }

  type read_type(const ast::type_ref& t) {
    if (t.name == "list") {
      if (!t.element) {
        diags_.add(diag_code::E028, t.range, "'list' needs an element type",
                   "write list<text>");
        return type::error();
      }
      return type::list_of(read_type(*t.element));
    }
    if (t.element) {
      diags_.add(diag_code::E028, t.range, "type '" + t.name + "' takes no element type");
      return type::error();
    }
    if (t.name == "text") return type::text();
    if (t.name == "number") return type::number();
    if (t.name == "bool") return type::boolean();
    if (t.name == "json") return type::json();
    diags_.add(diag_code::E028, t.range, "unknown type '" + t.name + "'",
               did_you_mean(t.name, {"text", "number", "bool", "json", "list"}));
    return type::error();
  }

  ir::workflow read_workflow(const ast::workflow_decl& d) {
    ir::workflow w;
    w.name = d.name;
    w.name_range = d.name_range;
    w.range = d.range;
    name_table names(diags_, "name");
    name_table outputs(diags_, "output");
    for (const auto& m : d.members) {
      if (auto* in = std::get_if<ast::input_decl>(&m)) {
        if (names.declare(in->name, in->name_range))
          w.inputs.push_back({in->name, in->name_range, in->range,
                              read_type(in->type), in->default_value});
      } else if (auto* out = std::get_if<ast::output_decl>(&m)) {
        if (outputs.declare(out->name, out->name_range))
          w.outputs.push_back({out->name, out->name_range, out->range,
                               read_type(out->type), out->value, {}, {}});
      } else if (auto* s = std::get_if<ast::step_decl>(&m)) {
        if (names.declare(s->name, s->name_range))
          w.steps.push_back(read_step(*s));
      } else if (auto* r = std::get_if<ast::router_decl>(&m)) {
        if (w.router) {
          diags_.add(diag_code::E021, r->range,
                     "workflow '" + d.name + "' declares its router twice");
          continue;
        }
        w.router = read_router(*r);
      }
    }
    w.index_names();
    return w;
  }

  ir::step read_step(const ast::step_decl& d) {
    ir::step s;
    s.name = d.name;
    s.kind = d.kind;
    s.range = d.range;
    s.name_range = d.name_range;
    if (d.each)
      s.each = ir::for_each{d.each->var, d.each->var_range, d.each->list};
    std::string what = std::string(ast::to_string(d.kind)) + " step '" + d.name + "'";
    const auto& extra = d.kind == ast::step_kind::llm    ? llm_props
                        : d.kind == ast::step_kind::plan ? plan_props
                                                         : tool_props;
    property_reader p(diags_, d.body, what, concat(step_common, extra));
    p.anchor(d.name_range);
    switch (d.kind) {
      case ast::step_kind::llm:
        if (p.require("prompt")) s.prompt = p.templ("prompt");
        s.system = p.templ("system");
        read_model_props(p, s);
        if (auto v = p.string_list("stop")) s.stop = *v;
        if (auto v = p.ident("format")) {
          if (*v == "json") s.format = ir::output_format::json;
          else if (*v != "text")
            diags_.add(diag_code::E058, p.ranges().at("format"),
                       "format must be text or json, not '" + *v + "'");
        }
        break;
      case ast::step_kind::plan:
        if (p.require("goal")) s.prompt = p.templ("goal");
        read_model_props(p, s);
        if (auto v = p.integer("max_steps")) s.max_steps = *v;
        if (auto v = p.integer("max_depth")) s.max_depth = *v;
        if (auto v = p.integer("candidates")) s.candidates = *v;
        break;
      case ast::step_kind::tool:
      case ast::step_kind::call:
        if (p.require("use", d.kind == ast::step_kind::tool
                               ? "for example use: http_get"
                               : "name the workflow to run: use: <workflow>"))
          if (auto v = p.ident("use")) s.target = *v;
        if (const auto* b = p.nested("args"))
          for (const auto& e : b->entries) {
            if (!e.value) {
              diags_.add(diag_code::E034, e.range,
                         "argument '" + e.name + "' needs a value");
              continue;
            }
            s.args.push_back({e.name, e.name_range, e.value});
          }
        break;
    }
    read_step_policies(p, s, what);
    s.ranges = p.ranges();
    return s;
  }

  void read_model_props(property_reader& p, ir::step& s) {
    s.model = p.ident("model");
    if (auto v = p.string("domain")) s.domain = *v;
    if (auto v = p.integer("max_tokens")) s.max_tokens = *v;
    if (auto v = p.number("temperature")) s.temperature = *v;
    s.fallback = p.ident("fallback");
    s.cache_ttl_ms = p.duration_ms("cache");
    if (const auto* b = p.nested("deliberation"))
      s.delib = read_deliberation(*b, "step '" + s.name + "'", true);
  }

  void read_step_policies(property_reader& p, ir::step& s, const std::string& what) {
    s.when = p.expr("when");
    if (auto v = p.ident_list("after")) s.after = *v;
    if (auto v = p.integer("retries")) s.retries = *v;
    s.timeout_ms = p.duration_ms("timeout");
    if (auto v = p.ident("priority")) {
      if (auto cls = base::job_class_from_name(*v))
        s.cls = *cls;
      else
        diags_.add(diag_code::E058, p.ranges().at("priority"),
                   "priority must be interactive or batch, not '" + *v + "'",
                   did_you_mean(*v, {"interactive", "batch"}));
    }
    if (const auto* b = p.nested("verify"))
      s.verify = read_verify(*b, what);
  }

  ir::verify_policy read_verify(const ast::block& b, const std::string& what) {
    ir::verify_policy v;
    property_reader p(diags_, b, "verify of " + what,
                      {"json", "schema", "regex", "assert", "length", "agree"},
                      {"regex", "assert"});
    v.json = p.flag("json");
    v.schema = p.string("schema");
    for (const auto* e : p.all("regex")) {
      if (e->value && e->value->kind == ast::expr_kind::string && e->value->str.is_plain())
        v.regexes.emplace_back(e->value->str.plain_text(), e->value->range);
      else
        diags_.add(diag_code::E034, e->value ? e->value->range : e->range,
                   "'regex' expects a string without interpolation");
    }
    for (const auto* e : p.all("assert")) {
      if (e->value && e->value->kind != ast::expr_kind::range
          && e->value->kind != ast::expr_kind::agree)
        v.asserts.push_back(e->value);
      else
        diags_.add(diag_code::E034, e->value ? e->value->range : e->range,
                   "'assert' expects a boolean expression",
                   "for example assert: len(result) < 500");
    }
    v.length = read_pair(p, "length", ast::expr_kind::range, "a range like 10..2000");
    v.agree = read_pair(p, "agree", ast::expr_kind::agree, "'k of n', like 2 of 3");
    v.ranges = p.ranges();
    return v;
  }

  std::optional<std::pair<int64_t, int64_t>>
  read_pair(property_reader& p, const std::string& name, ast::expr_kind kind,
            const std::string& form) {
    auto v = p.any(name);
    if (!v)
      return std::nullopt;
    if (v->kind != kind) {
      diags_.add(diag_code::E034, v->range, "'" + name + "' expects " + form);
      return std::nullopt;
    }
    auto a = literal_number(*v->args[0]);
    auto b = literal_number(*v->args[1]);
    if (!a || !b || std::fabs(*a) > 1e15 || std::fabs(*b) > 1e15
        || *a != double(int64_t(*a)) || *b != double(int64_t(*b))) {
      diags_.add(diag_code::E034, v->range,
                 "'" + name + "' expects whole numbers: " + form);
      return std::nullopt;
    }
    return std::make_pair(int64_t(*a), int64_t(*b));
  }

  diagnostics& diags_;
};

} // namespace

ir::graph build_ir(const std::vector<const ast::file*>& files,
                   std::vector<ir::model> registry_models, diagnostics& diags) {
  return ir_builder(diags).build(files, std::move(registry_models));
}

} // namespace troupe::dsl
