#include "dsl/diagnostics.hpp"

#include "runtime/base/utf8.hpp"

#include <algorithm>
#include <tuple>

namespace troupe::dsl {

namespace {

struct code_row {
  diag_code code;
  std::string_view title;
};

const code_row code_table[] = {
  {diag_code::E001, "syntax error"},
  {diag_code::E002, "unterminated string"},
  {diag_code::E003, "invalid escape sequence"},
  {diag_code::E004, "invalid character"},
  {diag_code::E005, "invalid UTF-8"},
  {diag_code::E006, "malformed interpolation"},
  {diag_code::E007, "nesting too deep"},
  {diag_code::E008, "number out of range"},
  {diag_code::E010, "cannot read imported file"},
  {diag_code::E011, "import cycle"},
  {diag_code::E012, "registry is not valid TOML"},
  {diag_code::E013, "invalid registry entry"},
  {diag_code::E020, "undefined name"},
  {diag_code::E021, "duplicate definition"},
  {diag_code::E022, "unknown model"},
  {diag_code::E023, "unknown tool"},
  {diag_code::E024, "unknown workflow"},
  {diag_code::E025, "unknown property"},
  {diag_code::E026, "missing required property"},
  {diag_code::E027, "property given twice"},
  {diag_code::E028, "unknown type"},
  {diag_code::E029, "unknown function"},
  {diag_code::E030, "type mismatch"},
  {diag_code::E031, "no such field"},
  {diag_code::E032, "wrong function arguments"},
  {diag_code::E033, "wrong tool or workflow arguments"},
  {diag_code::E034, "value of the wrong form"},
  {diag_code::E035, "fan-out over a non-list"},
  {diag_code::E040, "dependency cycle"},
  {diag_code::E041, "workflow call cycle"},
  {diag_code::E042, "output may be missing"},
  {diag_code::E043, "workflow produces no output"},
  {diag_code::E044, "ordering names no step"},
  {diag_code::E050, "router weights do not sum to 1"},
  {diag_code::E051, "value out of range"},
  {diag_code::E052, "invalid agreement"},
  {diag_code::E053, "negative retries"},
  {diag_code::E054, "non-positive timeout"},
  {diag_code::E055, "invalid regular expression"},
  {diag_code::E056, "invalid JSON schema"},
  {diag_code::E057, "invalid length bounds"},
  {diag_code::E058, "invalid choice"},
  {diag_code::E059, "no model can serve the step"},
  {diag_code::E060, "max_tokens exceeds the model's context"},
  {diag_code::E061, "invalid backend"},
  {diag_code::W001, "unused step"},
  {diag_code::W002, "unused input"},
  {diag_code::W003, "fallback is the step's own model"},
  {diag_code::W004, "domain ignored for a pinned model"},
};

const code_row* find_row(diag_code c) {
  for (const auto& r : code_table)
    if (r.code == c)
      return &r;
  return nullptr;
}

std::string location(const source_manager& sm, const source_range& r) {
  if (!r.valid() || r.file >= sm.size())
    return "<unknown>";
  return sm.file(r.file).display + ":" + std::to_string(r.begin.line) + ":"
         + std::to_string(r.begin.col);
}

// Quotes the first line of `r` with a caret underline.
void render_excerpt(std::string& out, const source_manager& sm,
                    const source_range& r) {
  if (!r.valid() || r.file >= sm.size())
    return;
  const auto& f = sm.file(r.file);
  // Quote broken UTF-8 as U+FFFD so the report itself stays valid text.
  std::string line = base::utf8_replace_invalid(f.line_text(r.begin.line));
  std::replace(line.begin(), line.end(), '\t', ' ');
  size_t width = base::utf8_length(line);
  std::string num = std::to_string(r.begin.line);
  std::string pad(num.size(), ' ');
  out += "  " + num + " | " + line + "\n";
  size_t start = r.begin.col > 0 ? r.begin.col - 1 : 0;
  size_t stop = r.end.line == r.begin.line && r.end.col > r.begin.col
                  ? r.end.col - 1
                  : std::max(width, start + 1);
  if (stop <= start)
    stop = start + 1;
  out += "  " + pad + " | " + std::string(start, ' ')
         + std::string(stop - start, '^') + "\n";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

} // namespace

std::string code_name(diag_code c) {
  int n = static_cast<int>(c);
  std::string digits = std::to_string(n > 1000 ? n - 1000 : n);
  return std::string(n > 1000 ? "W" : "E")
         + std::string(3 - std::min<size_t>(3, digits.size()), '0') + digits;
}

std::string_view code_title(diag_code c) {
  const auto* row = find_row(c);
  return row ? row->title : "unknown";
}

const std::vector<diag_code>& all_codes() {
  static const std::vector<diag_code> codes = [] {
    std::vector<diag_code> v;
    for (const auto& r : code_table)
      v.push_back(r.code);
    return v;
  }();
  return codes;
}

diagnostic& diagnostics::add(diag_code code, source_range range,
                             std::string message, std::string hint) {
  items_.push_back({code, range, std::move(message), std::move(hint), {}});
  return items_.back();
}

size_t diagnostics::error_count() const {
  return static_cast<size_t>(std::count_if(
    items_.begin(), items_.end(), [](const auto& d) { return d.is_error(); }));
}

size_t diagnostics::warning_count() const {
  return items_.size() - error_count();
}

void diagnostics::finalize(const source_manager& sm) {
  auto key = [&](const diagnostic& d) {
    std::string file = d.range.file < sm.size() ? sm.file(d.range.file).display
                                                : std::string();
    return std::make_tuple(file, d.range.begin.line, d.range.begin.col,
                           static_cast<int>(d.code), d.message);
  };
  std::stable_sort(items_.begin(), items_.end(),
                   [&](const auto& a, const auto& b) { return key(a) < key(b); });
  items_.erase(std::unique(items_.begin(), items_.end(),
                           [&](const auto& a, const auto& b) {
                             return key(a) == key(b);
                           }),
               items_.end());
}

std::string diagnostics::render(const source_manager& sm) const {
  std::string out;
  for (const auto& d : items_) {
    out += location(sm, d.range) + ": "
           + (d.is_error() ? "error" : "warning") + "[" + code_name(d.code)
           + "]: " + d.message + "\n";
    render_excerpt(out, sm, d.range);
    for (const auto& n : d.notes)
      out += "  = note: " + n.message + " (" + location(sm, n.range) + ")\n";
    if (!d.hint.empty())
      out += "  = hint: " + d.hint + "\n";
  }
  size_t errors = error_count(), warnings = warning_count();
  if (errors + warnings > 0) {
    out += std::to_string(errors) + (errors == 1 ? " error" : " errors")
           + ", " + std::to_string(warnings)
           + (warnings == 1 ? " warning" : " warnings") + "\n";
  }
  return out;
}

std::string closest_match(std::string_view name,
                          const std::vector<std::string>& candidates) {
  // Allow about one edit per three characters, at most three.
  size_t limit = std::max<size_t>(1, std::min<size_t>(3, name.size() / 3 + 1));
  std::string best;
  size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    if (d > 0 && (d < best_d || (d == best_d && c < best))) {
      best = c;
      best_d = d;
    }
  }
  return best_d <= limit ? best : std::string();
}

std::string did_you_mean(std::string_view name,
                         const std::vector<std::string>& candidates) {
  auto m = closest_match(name, candidates);
  return m.empty() ? std::string() : "did you mean '" + m + "'?";
}

} // namespace troupe::dsl
