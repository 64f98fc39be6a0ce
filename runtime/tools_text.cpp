#include "dsl/tools.hpp"
#include "runtime/base/utf8.hpp"
#include "runtime/tools_builtin.hpp"

#include <pthread.h>

#include <algorithm>
#include <regex>

// chunk_text and regex_extract: the tools that cut and search text.

namespace troupe::runtime::tools_builtin {

namespace {

// chunk_text refuses to produce more than this in total (a large overlap
// with a small size copies the text many times over).
constexpr size_t max_chunk_output = 64u << 20;

// libstdc++'s ECMAScript matcher recurses once or more per character a
// match attempt consumes, using up to ~1 KiB of stack per character with
// nested groups: a 20 000-character match overflows an 8 MiB stack. So
// matching runs on a thread whose stack grows with the text (reserved, and
// only committed as touched), and texts are capped so the reservation
// stays bounded.
constexpr size_t regex_max_text = 512u << 10;
constexpr size_t regex_stack_per_byte = 4096;
constexpr size_t regex_min_stack = 16u << 20;

bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Byte offsets where code points start, plus text.size() at the end.
// Continuation bytes (10xxxxxx) never start one, so a cut at these offsets
// never splits a UTF-8 sequence (stray ones in invalid text stay attached
// to the code point before them).
std::vector<size_t> code_point_starts(const std::string& text) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i)
    if (!base::utf8_is_continuation(static_cast<unsigned char>(text[i])) || i == 0)
      starts.push_back(i);
  starts.push_back(text.size());
  return starts;
}

// Where a chunk that could run from code point `start` to `end` should end:
// just after the last whitespace in its second half that also lies past the
// overlap (so the next chunk starts later than this one), else at `end`.
size_t chunk_end(const std::string& text, const std::vector<size_t>& starts, size_t start,
                 size_t end, size_t size, size_t overlap) {
  const size_t lowest = start + std::max(overlap, size / 2) + 1;
  for (size_t b = end; b >= lowest && b > start; --b)
    if (ascii_space(text[starts[b - 1]]))
      return b;
  return end;
}

// Runs fn() on a new thread with a stack of `bytes`; false if no such
// thread could be made.
template <class Fn>
bool run_on_stack(size_t bytes, Fn& fn) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0)
    return false;
  pthread_t thread;
  const bool made =
    pthread_attr_setstacksize(&attr, bytes) == 0
    && pthread_create(
         &thread, &attr,
         [](void* p) -> void* {
           (*static_cast<Fn*>(p))();
           return nullptr;
         },
         &fn) == 0;
  pthread_attr_destroy(&attr);
  if (made)
    pthread_join(thread, nullptr);
  return made;
}

// What one regex_extract computes on its own thread. Exceptions must not
// leave that thread, so they become `error`.
struct regex_job {
  const std::string* text = nullptr;
  const std::string* pattern = nullptr;
  std::vector<std::string> matches;
  std::string error;

  void operator()() {
    std::regex re;
    try {
      re = dsl::compile_regex(*pattern);
    } catch (const std::regex_error& e) {
      error = "invalid regex '" + *pattern + "': " + e.what();
      return;
    }
    try {
      const bool grouped = re.mark_count() > 0;
      for (std::sregex_iterator it{text->begin(), text->end(), re}, last; it != last; ++it)
        matches.push_back(grouped ? (*it)[1].str() : it->str());
    } catch (const std::exception& e) {
      matches.clear();
      error = "regex '" + *pattern + "' failed while matching: " + e.what();
    }
  }
};

} // namespace

tool_result chunk_text(const value& args) {
  const std::string& text = text_arg(args, "text");
  auto size = whole_arg(args, "chunk_text", "size", 0);
  if (!size)
    return size.error();
  auto overlap = whole_arg(args, "chunk_text", "overlap", 0);
  if (!overlap)
    return overlap.error();
  if (size.value() <= 0)
    return fail("chunk_text", "size must be at least 1, got " + std::to_string(size.value()));
  if (overlap.value() < 0 || overlap.value() >= size.value())
    return fail("chunk_text", "overlap must be at least 0 and less than size ("
                                + std::to_string(size.value()) + "), got "
                                + std::to_string(overlap.value()));
  const auto starts = code_point_starts(text);
  const size_t n = starts.size() - 1;
  const auto width = static_cast<size_t>(size.value());
  const auto back = static_cast<size_t>(overlap.value());
  value chunks = value::array();
  size_t total = 0;
  for (size_t start = 0; start < n;) {
    size_t end = std::min(n - start, width) + start;
    if (end < n)
      end = chunk_end(text, starts, start, end, width, back);
    total += starts[end] - starts[start];
    if (total > max_chunk_output)
      return fail("chunk_text", "chunks would total more than "
                                  + std::to_string(max_chunk_output >> 20)
                                  + " MiB; use a larger size or a smaller overlap");
    chunks.push_back(text.substr(starts[start], starts[end] - starts[start]));
    if (end == n)
      break;
    start = end - back;
  }
  return chunks;
}

tool_result regex_extract(const value& args) {
  const std::string& text = text_arg(args, "text");
  if (text.size() > regex_max_text)
    return fail("regex_extract", "text is " + std::to_string(text.size())
                                   + " bytes; regex_extract takes at most "
                                   + std::to_string(regex_max_text)
                                   + " (split it with chunk_text first)");
  regex_job job;
  job.text = &text;
  job.pattern = &text_arg(args, "pattern");
  const size_t stack = std::max(regex_min_stack, text.size() * regex_stack_per_byte);
  if (!run_on_stack(stack, job))
    return fail("regex_extract", "cannot start a matching thread with a "
                                   + std::to_string(stack >> 20) + " MiB stack");
  if (!job.error.empty())
    return fail("regex_extract", job.error);
  value out = value::array();
  for (size_t i = 0; i < job.matches.size(); ++i) {
    // std::regex matches bytes, so '.' or [^x] can take part of a
    // multi-byte character.
    auto utf8 = require_utf8("regex_extract", "match " + std::to_string(i), job.matches[i]);
    if (!utf8)
      return utf8.error();
    out.push_back(std::move(job.matches[i]));
  }
  return out;
}

} // namespace troupe::runtime::tools_builtin
