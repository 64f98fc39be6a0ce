#include "runtime/config_reader.hpp"

#include <utility>

#include "dsl/diagnostics.hpp"

namespace troupe::runtime::config_detail {

std::string type_phrase(toml::node_type type) {
  switch (type) {
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a floating-point number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::date:
    return "a date";
  case toml::node_type::time:
    return "a time";
  case toml::node_type::date_time:
    return "a date-time";
  case toml::node_type::none:
    break;
  }
  return "nothing";
}

toml_reader::toml_reader(std::filesystem::path file,
                         std::vector<config_error>& errors)
  : file_(std::move(file)), errors_(errors) {
}

void toml_reader::error(const toml::source_region& at, std::string message) {
  errors_.push_back(
    {file_, at.begin.line, at.begin.column, std::move(message)});
}

void toml_reader::wrong_type(const toml::node& node, std::string_view dotted,
                             std::string_view expected) {
  error(node.source(), std::string{dotted} + ": expected "
                         + std::string{expected} + ", found "
                         + type_phrase(node.type()));
}

void toml_reader::check_keys(const toml::table& table, std::string_view where,
                             const std::vector<std::string>& known) {
  for (const auto& [key, node] : table) {
    const std::string name{key.str()};
    bool is_known = false;
    for (const auto& k : known)
      is_known = is_known || k == name;
    if (is_known)
      continue;
    std::string message = "unknown key '" + name + "' in " + std::string{where};
    if (auto hint = dsl::did_you_mean(name, known); !hint.empty())
      message += "; " + hint;
    error(key.source(), std::move(message));
  }
}

const toml::table* toml_reader::table(const toml::table& parent,
                                      std::string_view key,
                                      std::string_view dotted) {
  const toml::node* node = parent.get(key);
  if (node == nullptr)
    return nullptr;
  if (const auto* t = node->as_table())
    return t;
  wrong_type(*node, dotted, "a table");
  return nullptr;
}

std::optional<located_string> toml_reader::string(const toml::table& t,
                                                  std::string_view key,
                                                  std::string_view dotted) {
  const toml::node* node = t.get(key);
  if (node == nullptr)
    return std::nullopt;
  if (const auto* s = node->as_string())
    return located_string{s->get(), node->source()};
  wrong_type(*node, dotted, "a string");
  return std::nullopt;
}

std::optional<bool> toml_reader::boolean(const toml::table& t,
                                         std::string_view key,
                                         std::string_view dotted) {
  const toml::node* node = t.get(key);
  if (node == nullptr)
    return std::nullopt;
  if (const auto* b = node->as_boolean())
    return b->get();
  wrong_type(*node, dotted, "a boolean");
  return std::nullopt;
}

std::optional<std::int64_t> toml_reader::integer(const toml::table& t,
                                                 std::string_view key,
                                                 std::string_view dotted,
                                                 std::int64_t min,
                                                 std::int64_t max) {
  const toml::node* node = t.get(key);
  if (node == nullptr)
    return std::nullopt;
  const auto* i = node->as_integer();
  if (i == nullptr) {
    wrong_type(*node, dotted, "an integer");
    return std::nullopt;
  }
  const std::int64_t v = i->get();
  if (v < min || v > max) {
    error(node->source(), std::string{dotted} + ": " + std::to_string(v)
                            + " is out of range (expected "
                            + std::to_string(min) + " to "
                            + std::to_string(max) + ")");
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<located_string>>
toml_reader::strings(const toml::table& t, std::string_view key,
                     std::string_view dotted) {
  const toml::node* node = t.get(key);
  if (node == nullptr)
    return std::nullopt;
  const auto* array = node->as_array();
  if (array == nullptr) {
    wrong_type(*node, dotted, "an array of strings");
    return std::nullopt;
  }
  std::vector<located_string> out;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (const auto* s = element.as_string()) {
      out.push_back({s->get(), element.source()});
      continue;
    }
    wrong_type(element, std::string{dotted} + "[" + std::to_string(i) + "]",
               "a string");
    ok = false;
  }
  if (!ok)
    return std::nullopt;
  return out;
}

} // namespace troupe::runtime::config_detail
