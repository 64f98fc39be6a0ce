#pragma once

#include "dsl/ast.hpp"
#include "dsl/types.hpp"
#include "runtime/base/job_class.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

/// The IR graph: every workflow, model and policy of a compilation with names
/// resolved (each name expression points at the input, step or loop variable
/// it means) and properties read into typed fields. Produced by build_ir();
/// check() validates it and assigns types.
namespace troupe::dsl::ir {

/// What a name expression refers to.
struct ref {
  enum kind_t { input, step, loop_var, result } kind = input;
  std::string name;
};

struct backend {
  enum kind_t { gguf, openai } kind = gguf;
  std::string path;      ///< gguf: file name, resolved through the models dir.
  std::string url;       ///< openai: base URL of the endpoint.
  std::string api_model; ///< openai: model name sent to the endpoint.
  std::string key_env;   ///< openai: environment variable holding the key.
  source_range range;
};

struct model {
  std::string name;
  source_range name_range;
  std::string origin; ///< "wf" or "registry".
  ir::backend backend;
  std::vector<std::string> domains;
  double accuracy = 0.5;
  double cost_per_1k = 0;
  double latency_ms = 1000;
  int64_t context = 2048;
  std::optional<double> exit_threshold;
  std::map<std::string, source_range> ranges; ///< Property name -> value range.
};

/// Router utility: accuracy*α + (1-normalized cost)*β + (1-latency/max)*γ.
struct router_policy {
  double accuracy = 0.75;
  double cost = 0.15;
  double latency = 0.10;
  bool load_aware = true;
  bool declared = false;
  source_range range;
  std::map<std::string, source_range> ranges;
};

/// Serialization of the weights (CAF's inspect protocol; this header does
/// not include CAF): a workflow's router block travels with its route
/// requests. Source ranges stay behind.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_policy& x) {
  return f(x.accuracy, x.cost, x.latency, x.load_aware, x.declared);
}

struct deliberation {
  bool enabled = true;
  std::optional<double> exit_threshold;
  source_range range;
};

enum class output_format { text, json };

struct verify_policy {
  bool json = false;
  std::optional<std::string> schema; ///< JSON text.
  std::vector<std::pair<std::string, source_range>> regexes;
  std::vector<ast::expr_ptr> asserts;
  std::optional<std::pair<int64_t, int64_t>> length;
  std::optional<std::pair<int64_t, int64_t>> agree; ///< k of n.
  std::map<std::string, source_range> ranges;

  bool empty() const {
    return !json && !schema && regexes.empty() && asserts.empty() && !length
           && !agree;
  }
};

struct argument {
  std::string name;
  source_range name_range;
  ast::expr_ptr value;
};

struct for_each {
  std::string var;
  source_range var_range;
  ast::expr_ptr list;
};

struct step {
  std::string name;
  ast::step_kind kind = ast::step_kind::llm;
  source_range range;
  source_range name_range;

  // llm and plan
  ast::expr_ptr prompt; ///< llm: the prompt; plan: the goal (string exprs).
  ast::expr_ptr system;
  std::optional<std::string> model;
  std::string domain;
  int64_t max_tokens = 256;
  double temperature = 0;
  std::vector<std::string> stop;
  output_format format = output_format::text;
  int64_t max_steps = 8;  ///< plan
  int64_t max_depth = 2;  ///< plan
  int64_t candidates = 1; ///< plan: tree-of-thought breadth

  // tool and call
  std::string target; ///< Tool or workflow name.
  std::vector<argument> args;

  // control flow
  std::optional<for_each> each;
  ast::expr_ptr when;
  std::vector<std::pair<std::string, source_range>> after;

  // policies
  int64_t retries = 0;
  std::optional<int64_t> timeout_ms;
  std::optional<std::string> fallback;
  std::optional<int64_t> cache_ttl_ms;
  base::job_class cls = base::job_class::interactive; ///< From `priority:`.
  std::optional<deliberation> delib;
  verify_policy verify;
  std::map<std::string, source_range> ranges; ///< Property -> value range.

  /// Steps this one waits for: every step its expressions mention, plus
  /// `after`. Sorted, unique.
  std::vector<std::string> deps;
  std::vector<std::string> inputs_used; ///< Inputs its expressions mention.
  /// Set by check(): the value this step produces (list<T> under `for`).
  type output_type = type::error();
};

struct input {
  std::string name;
  source_range name_range;
  source_range range;
  type type_ = type::error();
  ast::expr_ptr default_value;
};

struct output {
  std::string name;
  source_range name_range;
  source_range range;
  type type_ = type::error();
  ast::expr_ptr value;
  std::vector<std::string> deps; ///< Steps the value mentions.
  std::vector<std::string> inputs_used;
};

struct workflow {
  std::string name;
  source_range name_range;
  source_range range;
  std::vector<input> inputs;
  std::vector<output> outputs;
  std::vector<step> steps; ///< In source order; check() records a run order.
  std::optional<router_policy> router;
  /// Resolution of every name expression in this workflow.
  std::unordered_map<const ast::expr*, ref> refs;
  /// Name -> position in `steps` and `inputs`: what find_step() and
  /// find_input() read. build_ir() calls index_names() once the lists are
  /// complete; whoever changes them afterwards calls it again.
  std::unordered_map<std::string, size_t> step_index, input_index;

  void index_names();
  const step* find_step(const std::string& name) const;
  const input* find_input(const std::string& name) const;
};

struct graph {
  uint32_t main_file = 0;
  std::vector<model> models;
  std::vector<workflow> workflows;
  router_policy router;

  const model* find_model(const std::string& name) const;
  const workflow* find_workflow(const std::string& name) const;
};

} // namespace troupe::dsl::ir
