#pragma once

#include <nlohmann/json.hpp>

#include <string>

/// Run-time values of the .wf language. Every language type maps onto JSON,
/// so a value can go into the journal, the result cache and a message as is:
///   text -> string, number -> number, bool -> boolean, null -> null,
///   list<T> -> array, json -> any JSON, duration -> number (milliseconds),
///   record (a called workflow's outputs) -> object.
namespace troupe::runtime {

using value = nlohmann::json;

/// How a value reads when interpolated into text (`"{{x}}"`) or handed to a
/// tool that wants text: strings as they are (no quotes), integral numbers
/// without a fraction ("3", not "3.0"), other numbers in shortest round-trip
/// form, booleans "true"/"false", null "" (nothing), arrays and objects as
/// compact JSON.
std::string value_to_text(const value& v);

} // namespace troupe::runtime
