#pragma once

#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

#include <string>

namespace troupe::runtime {

using base::result;

/// A model's answer as a step result. Text steps keep the text as it came.
/// `format: json` steps take the first complete JSON object or array in the
/// answer: models often wrap JSON in a ```json fence or a sentence, so a
/// leading and trailing remainder is tolerated, but the JSON itself must
/// parse. Returns a sentence with a short excerpt when there is none.
result<value, std::string> model_output_parse(const std::string& text, bool json);

} // namespace troupe::runtime
