#include "runtime/regex_search.hpp"

#include <pthread.h>

#include <algorithm>

namespace troupe::runtime {

namespace {

// Measured need is ~800 bytes per character without sanitizers; the rest is
// headroom for sanitizer builds and patterns with more nesting.
constexpr size_t stack_per_byte = 4096;
constexpr size_t min_thread_stack = 16u << 20;
// Up to here the caller's own stack (at least 1 MiB on any thread the
// runtime makes) is enough, and a thread would only cost time.
constexpr size_t inline_max_text = 256;

struct search_job {
  const std::regex* re = nullptr;
  const std::string* text = nullptr;
  bool matched = false;
  std::string error;

  // Exceptions must not leave the thread, so they become `error`.
  void run() noexcept {
    try {
      matched = std::regex_search(*text, *re);
    } catch (const std::exception& e) {
      error = std::string("the regex matcher gave up: ") + e.what();
    }
  }
};

void* run_job(void* job) {
  static_cast<search_job*>(job)->run();
  return nullptr;
}

} // namespace

result<bool, std::string> regex_search_bounded(const std::regex& re,
                                               const std::string& text) {
  if (text.size() > regex_search_max_text)
    return "text of " + std::to_string(text.size()) + " bytes is too long to search with a "
           + "regex (the limit is " + std::to_string(regex_search_max_text) + ")";
  search_job job;
  job.re = &re;
  job.text = &text;
  if (text.size() <= inline_max_text) {
    job.run();
  } else {
    const size_t stack = std::max(min_thread_stack, text.size() * stack_per_byte);
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
      return std::string("cannot set up a thread to search with a regex");
    pthread_t thread;
    const bool started = pthread_attr_setstacksize(&attr, stack) == 0
                         && pthread_create(&thread, &attr, run_job, &job) == 0;
    pthread_attr_destroy(&attr);
    if (!started)
      return "cannot start a thread with a " + std::to_string(stack >> 20)
             + " MiB stack to search with a regex";
    pthread_join(thread, nullptr);
  }
  if (!job.error.empty())
    return job.error;
  return job.matched;
}

} // namespace troupe::runtime
