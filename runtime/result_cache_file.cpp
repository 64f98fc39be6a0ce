// result_cache::save() and load(): the cache file.
//
// Format (JSONL): a header line {"format":"troupe-result-cache","version":1},
// then one entry per line, least recently used first:
//   {"kind":..., "tier":..., "prompt": normalized, "result": any JSON,
//    "expires_us": microseconds since the Unix epoch}

#include "runtime/result_cache.hpp"

#include "runtime/base/atomic_write.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "runtime/simhash.hpp"

namespace troupe::runtime {

namespace {

namespace fs = std::filesystem;

constexpr const char* format_name = "troupe-result-cache";
constexpr int format_version = 1;

std::int64_t to_us(result_cache::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           t.time_since_epoch())
    .count();
}

cache_error system_error(const fs::path& path, const std::string& what,
                         int err) {
  return {path, what + " " + path.string() + ": " + std::strerror(err)};
}

// Creates the directory of `path` if needed, then replaces the file.
std::optional<cache_error> write_atomically(const fs::path& path,
                                            const std::string& text) {
  const fs::path dir = path.parent_path();
  std::error_code ec;
  if (!dir.empty())
    fs::create_directories(dir, ec);
  if (ec)
    return cache_error{path, "cannot create directory " + dir.string() + ": "
                               + ec.message()};
  // Prompts and answers may be private: readable by the owner only.
  if (auto err = base::atomic_write(path, text, 0600))
    return cache_error{path, err->to_string()};
  return std::nullopt;
}

cache_error line_error(const fs::path& path, std::size_t line,
                       const std::string& what) {
  return {path, path.string() + ":" + std::to_string(line) + ": " + what};
}

bool is_header(const value& v) {
  return v.is_object() && v.contains("format") && v["format"] == format_name
         && v.contains("version") && v["version"] == format_version;
}

// Checks that a parsed entry line has every field with its type; returns
// what is wrong, or "".
std::string entry_problem(const value& e) {
  if (!e.is_object())
    return "entry is not a JSON object";
  for (const char* field : {"kind", "tier", "prompt"})
    if (!e.contains(field) || !e[field].is_string())
      return std::string{"entry has no string \""} + field + "\"";
  if (!e.contains("result"))
    return "entry has no \"result\"";
  if (!e.contains("expires_us") || !e["expires_us"].is_number_integer())
    return "entry has no integer \"expires_us\"";
  return {};
}

} // namespace

std::optional<cache_error> result_cache::save(const fs::path& path,
                                              time_point now) const {
  const std::int64_t now_us = to_us(now);
  const auto dump = value_to_json;
  std::string text =
    dump({{"format", format_name}, {"version", format_version}}) + "\n";
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    if (it->expires_us <= now_us)
      continue;
    text += dump({{"kind", it->kind},
                  {"tier", it->tier},
                  {"prompt", it->prompt},
                  {"result", it->result},
                  {"expires_us", it->expires_us}});
    text.push_back('\n');
  }
  return write_atomically(path, text);
}

result<std::size_t, cache_error> result_cache::load(const fs::path& path,
                                                    time_point now) {
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec)
    return std::size_t{0};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return system_error(path, "cannot open cache file", errno);
  std::string text;
  char buf[64 * 1024];
  ssize_t got;
  while ((got = ::read(fd, buf, sizeof buf)) != 0) {
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      const int err = errno;
      ::close(fd);
      return system_error(path, "cannot read cache file", err);
    }
    text.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fd);

  // Parse everything before adding anything: a corrupt file adds nothing.
  const std::int64_t now_us = to_us(now);
  std::vector<entry> loaded;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos)
      return line_error(path, line_no, "truncated line (no newline)");
    const std::string_view line{text.data() + pos, nl - pos};
    pos = nl + 1;
    const value v = value::parse(line, nullptr, false);
    if (v.is_discarded())
      return line_error(path, line_no, "invalid JSON");
    if (line_no == 1) {
      if (!is_header(v))
        return line_error(path, line_no,
                          std::string{"not a cache file (expected the header "}
                            + "{\"format\":\"" + format_name
                            + "\",\"version\":1})");
      continue;
    }
    if (auto problem = entry_problem(v); !problem.empty())
      return line_error(path, line_no, problem);
    if (v["expires_us"].get<std::int64_t>() <= now_us)
      continue;
    entry e;
    e.kind = v["kind"].get<std::string>();
    e.tier = v["tier"].get<std::string>();
    // Normalizing again keeps the invariant even for a hand-edited file.
    e.prompt = normalize_prompt(v["prompt"].get<std::string>());
    e.result = v["result"];
    e.expires_us = v["expires_us"].get<std::int64_t>();
    loaded.push_back(std::move(e));
  }
  if (line_no == 0)
    return line_error(path, 1, "empty file (expected the cache header)");
  for (auto& e : loaded)
    insert(std::move(e));
  return loaded.size();
}

} // namespace troupe::runtime
