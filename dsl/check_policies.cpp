// Value checks of models, routers and step policies, for check().
#include "dsl/check_policies.hpp"

#include "dsl/tools.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <regex>
#include <set>

namespace troupe::dsl {

namespace {

std::string fmt_num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void out_of_range(diagnostics& diags, source_range r, const std::string& msg,
                  const std::string& hint = {}) {
  diags.add(diag_code::E051, r, msg, hint);
}

void check_unit_interval(diagnostics& diags, const std::map<std::string, source_range>& ranges,
                         const std::string& key, double v, source_range fallback,
                         const std::string& what, bool open_zero) {
  if (ranges.find(key) == ranges.end())
    return;
  bool bad = open_zero ? !(v > 0 && v <= 1) : !(v >= 0 && v <= 1);
  if (bad)
    out_of_range(diags, range_of(ranges, key, fallback),
                 what + " must be " + (open_zero ? "in (0, 1]" : "between 0 and 1")
                   + ", found " + fmt_num(v));
}

void check_schema(const std::string& text, source_range r, diagnostics& diags) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    diags.add(diag_code::E056, r, "the schema is not valid JSON");
    return;
  }
  static const std::set<std::string> types = {"object", "array", "string", "number",
                                              "integer", "boolean", "null"};
  std::function<void(const nlohmann::json&, int)> walk = [&](const nlohmann::json& j, int depth) {
    if (depth > 64)
      return;
    if (!j.is_object() && !j.is_boolean()) {
      diags.add(diag_code::E056, r, "a JSON schema must be an object");
      return;
    }
    if (!j.is_object())
      return;
    if (auto t = j.find("type"); t != j.end()) {
      auto ok = [&](const nlohmann::json& x) { return x.is_string() && types.count(x.get<std::string>()); };
      bool valid = ok(*t) || (t->is_array() && std::all_of(t->begin(), t->end(), ok));
      if (!valid)
        diags.add(diag_code::E056, r, "schema type " + t->dump() + " is not a JSON type");
    }
    if (auto p = j.find("properties"); p != j.end() && p->is_object())
      for (const auto& [k, sub] : p->items())
        walk(sub, depth + 1);
    if (auto i = j.find("items"); i != j.end()) {
      if (i->is_array())
        for (const auto& sub : *i) walk(sub, depth + 1); // Tuple form, drafts <= 2019-09.
      else
        walk(*i, depth + 1);
    }
  };
  walk(doc, 0);
}

} // namespace

void check_model(const ir::model& m, diagnostics& diags) {
  auto where = m.name_range;
  std::string what = "model '" + m.name + "'";
  check_unit_interval(diags, m.ranges, "accuracy", m.accuracy, where, "accuracy of " + what, false);
  if (m.cost_per_1k < 0)
    out_of_range(diags, range_of(m.ranges, "cost", where), "cost of " + what + " cannot be negative");
  if (m.latency_ms <= 0)
    out_of_range(diags, range_of(m.ranges, "latency", where), "latency of " + what + " must be positive");
  if (m.context < 1)
    out_of_range(diags, range_of(m.ranges, "context", where), "context of " + what + " must be at least 1 token");
  if (m.exit_threshold && !(*m.exit_threshold > 0 && *m.exit_threshold <= 1))
    out_of_range(diags, range_of(m.ranges, "deliberation", where),
                 "exit_threshold of " + what + " must be in (0, 1]");
  for (const auto& d : m.domains)
    if (d.empty())
      out_of_range(diags, range_of(m.ranges, "domains", where), "a domain name cannot be empty");
  const auto& b = m.backend;
  if (!b.range.valid())
    return;
  if (b.kind == ir::backend::gguf && b.path.empty())
    diags.add(diag_code::E061, b.range, "the gguf() file name is empty");
  if (b.kind == ir::backend::openai) {
    if (b.url.rfind("http://", 0) != 0 && b.url.rfind("https://", 0) != 0)
      diags.add(diag_code::E061, b.range,
                 "endpoint URL '" + b.url + "' must start with http:// or https://");
    static const std::regex env_name("[A-Za-z_][A-Za-z0-9_]*");
    if (!b.key_env.empty() && !std::regex_match(b.key_env, env_name))
      diags.add(diag_code::E061, b.range,
                 "key_env '" + b.key_env + "' is not a valid environment variable name",
                 "name the variable that holds the key, not the key itself");
  }
}

void check_router(const ir::router_policy& r, diagnostics& diags) {
  if (!r.declared || r.ranges.empty())
    return;
  const std::pair<const char*, double> ws[] = {
    {"accuracy", r.accuracy}, {"cost", r.cost}, {"latency", r.latency}};
  bool each_ok = true;
  for (const auto& [k, v] : ws) {
    if (r.ranges.count(k) && !(v >= 0 && v <= 1)) {
      out_of_range(diags, r.ranges.at(k), std::string("router weight '") + k
                                     + "' must be between 0 and 1, found " + fmt_num(v));
      each_ok = false;
    }
  }
  double sum = r.accuracy + r.cost + r.latency;
  if (each_ok && std::fabs(sum - 1.0) > 1e-6) {
    const ir::router_policy defaults; // The one home of the default weights.
    char hint[128];
    std::snprintf(hint, sizeof hint,
                  "weights not given default to accuracy %.2f, cost %.2f, latency %.2f",
                  defaults.accuracy, defaults.cost, defaults.latency);
    diags.add(diag_code::E050, range_of(r.ranges, "weights", r.range),
              "router weights sum to " + fmt_num(sum) + ", not 1", hint);
  }
}

void check_step_policies(const ir::step& s, diagnostics& diags) {
  std::string what = "step '" + s.name + "'";
  if (s.retries < 0)
    diags.add(diag_code::E053, range_of(s.ranges, "retries", s.name_range),
               "retries of " + what + " cannot be negative");
  else if (s.retries > 100)
    out_of_range(diags, range_of(s.ranges, "retries", s.name_range),
                 "retries of " + what + " must be at most 100");
  if (s.timeout_ms && *s.timeout_ms <= 0)
    diags.add(diag_code::E054, range_of(s.ranges, "timeout", s.name_range),
               "timeout of " + what + " must be positive",
               "leave 'timeout' out for no limit");
  if (s.cache_ttl_ms && *s.cache_ttl_ms < 0)
    out_of_range(diags, range_of(s.ranges, "cache", s.name_range),
                 "cache TTL of " + what + " cannot be negative", "0s disables caching");
  if (s.kind != ast::step_kind::llm && s.kind != ast::step_kind::plan)
    return;
  if (s.ranges.count("max_tokens") && s.max_tokens < 1)
    out_of_range(diags, s.ranges.at("max_tokens"), "max_tokens of " + what + " must be at least 1");
  if (s.ranges.count("temperature") && !(s.temperature >= 0 && s.temperature <= 2))
    out_of_range(diags, s.ranges.at("temperature"),
                 "temperature of " + what + " must be between 0 and 2");
  auto bounded = [&](const char* key, int64_t v, int64_t lo, int64_t hi) {
    if (s.ranges.count(key) && (v < lo || v > hi))
      out_of_range(diags, s.ranges.at(key), std::string(key) + " of " + what + " must be between "
                                       + std::to_string(lo) + " and " + std::to_string(hi));
  };
  bounded("max_steps", s.max_steps, 1, 64);
  bounded("max_depth", s.max_depth, 1, 4);
  bounded("candidates", s.candidates, 1, 16);
  if (s.delib && s.delib->exit_threshold
      && !(*s.delib->exit_threshold > 0 && *s.delib->exit_threshold <= 1))
    out_of_range(diags, s.delib->range, "exit_threshold of " + what + " must be in (0, 1]");
}

void check_verify(const ir::step& s, size_t serving, diagnostics& diags) {
  std::string what = "step '" + s.name + "'";
  const auto& v = s.verify;
  for (const auto& [pattern, r] : v.regexes) {
    try {
      compile_regex(pattern);
    } catch (const std::regex_error& e) {
      diags.add(diag_code::E055, r, "invalid regular expression: " + std::string(e.what()));
    }
  }
  if (v.schema)
    check_schema(*v.schema, range_of(v.ranges, "schema", s.name_range), diags);
  if (v.length) {
    auto [lo, hi] = *v.length;
    if (lo < 0 || hi < lo)
      diags.add(diag_code::E057, range_of(v.ranges, "length", s.name_range),
                 "length bounds " + std::to_string(lo) + ".." + std::to_string(hi)
                   + " of " + what + " are invalid",
                 "write min..max with 0 <= min <= max");
  }
  if (v.agree) {
    auto [k, n] = *v.agree;
    auto r = range_of(v.ranges, "agree", s.name_range);
    if (k < 1 || n < 2 || k > n) {
      diags.add(diag_code::E052, r,
                 "agreement " + std::to_string(k) + " of " + std::to_string(n)
                   + " is impossible",
                 "need 1 <= k <= n and n >= 2");
    } else if (s.kind != ast::step_kind::llm && s.kind != ast::step_kind::plan) {
      diags.add(diag_code::E052, r, "agreement needs a model step; " + what + " runs a "
                                       + ast::to_string(s.kind));
    } else if (!s.model && int64_t(serving) < n) {
      diags.add(diag_code::E059, r,
                 "agreement of " + what + " needs " + std::to_string(n)
                   + " models but only " + std::to_string(serving)
                   + " can serve it");
    }
  }
}

source_range range_of(const std::map<std::string, source_range>& ranges,
                const std::string& key, source_range fallback) {
  auto it = ranges.find(key);
  return it != ranges.end() ? it->second : fallback;
}

} // namespace troupe::dsl
