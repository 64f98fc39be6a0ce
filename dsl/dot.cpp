#include "dsl/dot.hpp"

#include "dsl/format.hpp"

#include <algorithm>

namespace troupe::dsl {

namespace {

// A DOT double-quoted string.
std::string q(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

std::string node_id(const std::string& wf, const char* kind, const std::string& name) {
  return q(wf + "/" + kind + "/" + name);
}

std::string step_label(const ir::step& s) {
  std::string label = s.name + "\n" + ast::to_string(s.kind);
  if (!s.target.empty())
    label += " " + s.target;
  else if (s.model)
    label += " @" + *s.model;
  else if (!s.domain.empty())
    label += " [" + s.domain + "]";
  if (s.each)
    label += "\nfor " + s.each->var + " in " + expr_to_ir(*s.each->list);
  if (s.when)
    label += "\nwhen " + expr_to_ir(*s.when);
  if (!s.verify.empty())
    label += "\nverified";
  return label;
}

} // namespace

std::string to_dot(const checked_graph& cg) {
  const auto& g = cg.graph();
  std::string out = "digraph troupe {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  int cluster = 0;
  for (const auto& w : g.workflows) {
    out += "  subgraph cluster_" + std::to_string(cluster++) + " {\n";
    out += "    label=" + q("workflow " + w.name) + ";\n";
    for (const auto& in : w.inputs)
      out += "    " + node_id(w.name, "input", in.name) + " [shape=ellipse, label="
             + q(in.name + ": " + in.type_.to_string()) + "];\n";
    for (const auto& s : w.steps) {
      std::string style = s.when ? "dashed" : "solid";
      out += "    " + node_id(w.name, "step", s.name) + " [shape="
             + (s.each ? "box3d" : "box") + ", style=" + style + ", label="
             + q(step_label(s)) + "];\n";
    }
    for (const auto& o : w.outputs)
      out += "    " + node_id(w.name, "output", o.name) + " [shape=doubleoctagon, label="
             + q(o.name + ": " + o.type_.to_string()) + "];\n";
    for (const auto& s : w.steps)
      for (const auto& in : s.inputs_used)
        out += "    " + node_id(w.name, "input", in) + " -> " + node_id(w.name, "step", s.name) + ";\n";
    for (const auto& o : w.outputs)
      for (const auto& in : o.inputs_used)
        out += "    " + node_id(w.name, "input", in) + " -> " + node_id(w.name, "output", o.name) + ";\n";
    for (const auto& s : w.steps) {
      for (const auto& d : s.deps) {
        bool data = std::none_of(s.after.begin(), s.after.end(),
                                 [&](const auto& a) { return a.first == d; });
        out += "    " + node_id(w.name, "step", d) + " -> " + node_id(w.name, "step", s.name)
               + (data ? "" : " [style=dashed, label=\"after\"]") + ";\n";
      }
    }
    for (const auto& o : w.outputs)
      for (const auto& d : o.deps)
        out += "    " + node_id(w.name, "step", d) + " -> " + node_id(w.name, "output", o.name) + ";\n";
    out += "  }\n";
  }
  return out + "}\n";
}

} // namespace troupe::dsl
