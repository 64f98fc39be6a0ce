// troupe: the launcher. Parses the command line and hands each command to a
// plain function; exit status 0 success, 1 failure in the input, 2 usage error.
#include "actors/launcher/dsl_commands.hpp"
#include "actors/launcher/engine_commands.hpp"
#include "actors/launcher/model_commands.hpp"
#include "actors/launcher/node_command.hpp"
#include "actors/launcher/run_command.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"troupe: multi-model LLM workflows on CAF actors", "troupe"};
  app.set_version_flag("--version", std::string("troupe ") + TROUPE_VERSION);
  app.require_subcommand(1);

  std::vector<std::string> check_files;
  bool dump_ir = false;
  auto* check = app.add_subcommand("check", "Check .wf files and report every error");
  check->add_option("files", check_files, "Workflow files")->required()->check(CLI::ExistingFile);
  check->add_flag("--ir", dump_ir, "Print the checked IR graph");

  std::vector<std::string> fmt_files;
  bool fmt_check = false;
  auto* fmt = app.add_subcommand("fmt", "Rewrite .wf files in the canonical layout");
  fmt->add_option("files", fmt_files, "Workflow files")->required()->check(CLI::ExistingFile);
  fmt->add_flag("--check", fmt_check, "Change nothing; exit 1 if a file is not formatted");

  std::string graph_file;
  auto* graph = app.add_subcommand("graph", "Print the checked graph as Graphviz DOT");
  graph->add_option("file", graph_file, "Workflow file")->required()->check(CLI::ExistingFile);

  auto* model = app.add_subcommand("model", "Inspect model files");
  model->require_subcommand(1);
  std::string info_file;
  auto* model_info = model->add_subcommand(
    "info", "Print a GGUF file's version, metadata and tensors; exit 1 if it is invalid");
  model_info->add_option("file", info_file, "GGUF file, or a model name in the models directory")
    ->required();
  std::string synth_shape, synth_type = "q8_0", synth_out;
  unsigned long long synth_seed = 1;
  auto* model_synth = model->add_subcommand(
    "synth", "Write a GGUF Llama model with random weights of a realistic shape");
  model_synth->add_option("--shape", synth_shape, "tiny, 15m, 42m or 110m")->required();
  model_synth->add_option("--type", synth_type, "Weight type: f32, f16, bf16, q8_0, q4_0, q4_1, ...");
  model_synth->add_option("-o,--output", synth_out, "Output file")->required();
  model_synth->add_option("--seed", synth_seed, "Random seed");

  troupe::launcher::generate_options gen;
  auto* generate = app.add_subcommand("generate", "Generate text with a GGUF model");
  generate->add_option("-m,--model", gen.model, "Model file or name in the models directory")->required();
  generate->add_option("-p,--prompt", gen.prompt, "Prompt text")->required();
  generate->add_option("-n,--max-tokens", gen.max_tokens, "Tokens to generate")->check(CLI::PositiveNumber);
  generate->add_option("--temp", gen.temperature, "Temperature (0: greedy)")->check(CLI::NonNegativeNumber);
  generate->add_option("--top-k", gen.top_k, "Top-k (0: off)")->check(CLI::NonNegativeNumber);
  generate->add_option("--top-p", gen.top_p, "Top-p")->check(CLI::Range(0.0, 1.0));
  generate->add_option("--min-p", gen.min_p, "Min-p")->check(CLI::Range(0.0, 1.0));
  generate->add_option("--repeat-penalty", gen.repeat_penalty, "Repetition penalty");
  generate->add_option("--seed", gen.seed, "Random seed");
  generate->add_option("-t,--threads", gen.threads, "CPU threads")->check(CLI::Range(1, 256));
  generate->add_option("--device", gen.device, "auto (CUDA when a device is usable), cpu, cuda or cuda:N");
  generate->add_flag("--chat", gen.chat, "Wrap the prompt in the model's chat template");
  generate->add_option("--system", gen.system, "With --chat: a system message");
  generate->add_option("--template", gen.chat_format, "With --chat: chatml, llama2 or plain");
  generate->add_option("--stop", gen.stop, "Stop before this text (repeatable)");

  troupe::launcher::run_options run_opts;
  auto* run = app.add_subcommand("run", "Run a workflow on actors and print its outputs as JSON");
  run->add_option("file", run_opts.file, "Workflow file (optional with --resume)");
  run->add_option("-i,--input", run_opts.inputs, "An input: NAME=VALUE (repeatable; JSON unless the input is text)");
  run->add_option("--inputs", run_opts.inputs_file, "A JSON file with an object of inputs")->check(CLI::ExistingFile);
  run->add_option("-w,--workflow", run_opts.workflow, "The workflow to run (default: the only one, or 'main')");
  run->add_option("--resume", run_opts.resume, "Finish the run with this id without redoing finished steps");
  run->add_option("-c,--config", run_opts.config, "troupe.toml (default: ./troupe.toml when present)");
  run->add_flag("--json", run_opts.json, "Stream every run event as a JSON line on stdout");
  run->add_flag("--explain", run_opts.explain, "Print each routing decision with its scores");
  run->add_option("--cluster", run_opts.cluster, "HOST:PORT of a cluster node: run the steps on the cluster's nodes");

  troupe::launcher::node_options node_opts;
  auto* node = app.add_subcommand("node", "Start a cluster node hosting executors and GPU actors");
  node->add_option("--listen", node_opts.listen, "HOST:PORT to serve on (default: node.listen)");
  node->add_option("--join", node_opts.join, "HOST:PORT of a member to join through");
  node->add_option("--name", node_opts.name, "This node's name (default: node.name, the host name)");
  node->add_option("-c,--config", node_opts.config, "troupe.toml (default: ./troupe.toml when present)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  using namespace troupe::launcher;
  if (check->parsed()) return cmd_check(check_files, dump_ir);
  if (fmt->parsed()) return cmd_fmt(fmt_files, fmt_check);
  if (graph->parsed()) return cmd_graph(graph_file);
  if (model_info->parsed()) return cmd_model_info(info_file);
  if (model_synth->parsed()) return cmd_model_synth(synth_shape, synth_type, synth_out, synth_seed);
  if (generate->parsed()) return cmd_generate(gen);
  if (run->parsed()) return cmd_run(run_opts, TROUPE_VERSION);
  if (node->parsed()) return cmd_node(node_opts);
  return 2;
}
