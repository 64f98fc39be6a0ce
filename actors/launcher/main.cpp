// troupe: the launcher. Parses the command line and hands each command to a
// plain function; exit status 0 success, 1 failure in the input, 2 usage error.
#include "actors/launcher/dsl_commands.hpp"

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
  return 2;
}
