#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace troupe::dsl {

enum class type_kind {
  text, number, boolean, json, list, record, duration, null,
  error ///< Result of an expression that already failed; never reported again.
};

/// A value type of the language. `list` carries its element type; `record`
/// (the outputs of a called workflow) carries its named fields.
/// Invariants: element is set iff kind == list; fields only for record.
class type {
public:
  type() = default;
  static type text() { return type(type_kind::text); }
  static type number() { return type(type_kind::number); }
  static type boolean() { return type(type_kind::boolean); }
  static type json() { return type(type_kind::json); }
  static type duration() { return type(type_kind::duration); }
  static type null() { return type(type_kind::null); }
  static type error() { return type(type_kind::error); }
  static type list_of(type element);
  static type record(std::vector<std::pair<std::string, type>> fields);

  type_kind kind() const { return kind_; }
  bool is(type_kind k) const { return kind_ == k; }
  bool is_error() const { return kind_ == type_kind::error; }
  const type& element() const { return *element_; }
  const std::vector<std::pair<std::string, type>>& fields() const { return *fields_; }

  /// Field type of a record, or null when absent.
  const type* field(const std::string& name) const;

  /// "text", "list<json>", "{summary: text}".
  std::string to_string() const;

  friend bool operator==(const type& a, const type& b);
  friend bool operator!=(const type& a, const type& b) { return !(a == b); }

private:
  explicit type(type_kind k) : kind_(k) {}
  type_kind kind_ = type_kind::error;
  std::shared_ptr<const type> element_;
  std::shared_ptr<const std::vector<std::pair<std::string, type>>> fields_;
};

/// Whether a value of type `from` may be used where `to` is expected: equal
/// types, json where anything is expected (checked at run time), anything
/// where json is expected, and null where anything is expected.
bool assignable(const type& from, const type& to);

} // namespace troupe::dsl
