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

template <class T>
const T* find_indexed(const std::vector<T>& v, const std::unordered_map<std::string, size_t>& index,
                      const std::string& name) {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &v[it->second];
}

template <class T>
void index_of(const std::vector<T>& v, std::unordered_map<std::string, size_t>& index) {
  index.clear();
  index.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    index.emplace(v[i].name, i); // The first of a name wins, as a scan would find it.
}
} // namespace

void workflow::index_names() {
  index_of(steps, step_index);
  index_of(inputs, input_index);
}

const step* workflow::find_step(const std::string& n) const {
  return find_indexed(steps, step_index, n);
}
const input* workflow::find_input(const std::string& n) const {
  return find_indexed(inputs, input_index, n);
}
const model* graph::find_model(const std::string& n) const { return find_named(models, n); }
const workflow* graph::find_workflow(const std::string& n) const { return find_named(workflows, n); }

} // namespace troupe::dsl::ir
