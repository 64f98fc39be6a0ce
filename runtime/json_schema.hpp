#pragma once

#include "runtime/value.hpp"

#include <cstddef>
#include <string>
#include <vector>

/// A compact JSON Schema validator over nlohmann::json (Debian packages no
/// C++ one) for the draft-07 keywords workflows use:
///   type (a name or a list; "integer" is a number with an integral value),
///   enum, const, properties, patternProperties, required,
///   additionalProperties (bool or schema), items (a schema, or a list for
///   tuples), additionalItems (bool or schema), minItems, maxItems,
///   uniqueItems, minLength and maxLength (in code points), pattern (an
///   ECMAScript regex, searched, not fully matched), minimum, maximum,
///   exclusiveMinimum and exclusiveMaximum (the draft-07 numeric form),
///   multipleOf, minProperties, maxProperties, allOf, anyOf, oneOf, not,
///   the boolean schemas true and false, and $ref to a local "#/..." JSON
///   pointer (which, as in draft-07, makes the schema's other keywords void).
/// Other keywords are ignored. Equality (enum, const, uniqueItems) is JSON
/// equality: 1 equals 1.0.
namespace troupe::runtime {

/// One reason an instance does not match.
struct schema_violation {
  std::string pointer; ///< JSON pointer into the instance; "" is the root.
  std::string message; ///< "expected type \"string\", found number".
};

/// The deepest chain of nested checks the validator follows (each property,
/// item, combinator branch and $ref is one level); past it, one violation.
constexpr size_t schema_max_nesting = 2048;

/// $refs followed in a row without moving into the instance; more means a
/// cycle such as {"$ref": "#"}.
constexpr size_t schema_max_ref_chain = 32;

/// Validates `instance` against `schema`, returning at most `max_violations`
/// violations (0 counts as 1) in the order found: empty means it matches.
/// Never throws. A schema mistake (a non-numeric "minimum", a pattern that
/// does not compile, an unsupported or dangling $ref) is reported as a
/// violation whose message starts with "invalid schema:", at the instance
/// location where it mattered. An instance or schema nested deeper than
/// value_max_depth, a $ref chain longer than schema_max_ref_chain, nesting
/// past schema_max_nesting and more than a million checks in all each end
/// validation with a violation instead of exhausting the stack or the
/// clock. Thread-safe: reads only.
std::vector<schema_violation> schema_validate(const value& schema, const value& instance,
                                              size_t max_violations = 16);

} // namespace troupe::runtime
