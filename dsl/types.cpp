#include "dsl/types.hpp"

namespace troupe::dsl {

type type::list_of(type element) {
  type t(type_kind::list);
  t.element_ = std::make_shared<const type>(std::move(element));
  return t;
}

type type::record(std::vector<std::pair<std::string, type>> fields) {
  type t(type_kind::record);
  t.fields_ = std::make_shared<const std::vector<std::pair<std::string, type>>>(
    std::move(fields));
  return t;
}

const type* type::field(const std::string& name) const {
  if (kind_ != type_kind::record)
    return nullptr;
  for (const auto& f : *fields_)
    if (f.first == name)
      return &f.second;
  return nullptr;
}

std::string type::to_string() const {
  switch (kind_) {
    case type_kind::text: return "text";
    case type_kind::number: return "number";
    case type_kind::boolean: return "bool";
    case type_kind::json: return "json";
    case type_kind::duration: return "duration";
    case type_kind::null: return "null";
    case type_kind::error: return "<error>";
    case type_kind::list: return "list<" + element_->to_string() + ">";
    case type_kind::record: {
      std::string s = "{";
      for (size_t i = 0; i < fields_->size(); ++i)
        s += (i ? ", " : "") + (*fields_)[i].first + ": "
             + (*fields_)[i].second.to_string();
      return s + "}";
    }
  }
  return "?";
}

bool operator==(const type& a, const type& b) {
  if (a.kind_ != b.kind_)
    return false;
  if (a.kind_ == type_kind::list)
    return *a.element_ == *b.element_;
  if (a.kind_ == type_kind::record)
    return *a.fields_ == *b.fields_;
  return true;
}

bool assignable(const type& from, const type& to) {
  if (from.is_error() || to.is_error() || from == to)
    return true;
  if (from.is(type_kind::null) || from.is(type_kind::json) || to.is(type_kind::json))
    return true;
  if (from.is(type_kind::list) && to.is(type_kind::list))
    return assignable(from.element(), to.element());
  return false;
}

} // namespace troupe::dsl
