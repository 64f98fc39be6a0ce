#include "dsl/ir.hpp"

namespace troupe::dsl::ir {

namespace {
template <class T>
const T* find_named(const std::vector<T>& v, const std::string& name) {
  for (const auto& x : v)
    if (x.name == name)
      return &x;
  return nullptr;
}
} // namespace

const step* workflow::find_step(const std::string& n) const { return find_named(steps, n); }
const input* workflow::find_input(const std::string& n) const { return find_named(inputs, n); }
const model* graph::find_model(const std::string& n) const { return find_named(models, n); }
const workflow* graph::find_workflow(const std::string& n) const { return find_named(workflows, n); }

} // namespace troupe::dsl::ir
