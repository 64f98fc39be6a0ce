#include "runtime/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <unistd.h>

#include "dsl/diagnostics.hpp"
#include "runtime/base/error.hpp"
#include "runtime/config_reader.hpp"

namespace troupe::runtime {

namespace {

namespace fs = std::filesystem;
using config_detail::located_string;
using config_detail::toml_reader;

constexpr std::int64_t max_threads = 4096;
constexpr std::int64_t max_timeout_ms = 86'400'000; // a day

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(std::min<unsigned>(n, max_threads));
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool is_env_name(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_';
  });
}

// Reads the sections of one parsed file into a config.
class config_walker {
public:
  config_walker(toml_reader& r, fs::path base_dir, config& c)
    : r_(r), base_(std::move(base_dir)), c_(c) {
  }

  void walk(const toml::table& root);

private:
  void node(const toml::table& t);
  void paths(const toml::table& t);
  void cluster(const toml::table& t);
  void limits(const toml::table& t);
  void engine(const toml::table& t);
  void tools(const toml::table& t);
  void cache(const toml::table& t);
  void models(const toml::table& t);

  // An integer key read into `out` (any integral type) when valid.
  template <class T>
  void integer(const toml::table& t, std::string_view key,
               const std::string& section, std::int64_t min, std::int64_t max,
               T& out) {
    if (auto v = r_.integer(t, key, section + "." + std::string{key}, min, max))
      out = static_cast<T>(*v);
  }

  // A path key: relative values are taken from the file's directory.
  std::optional<fs::path> path(const toml::table& t, std::string_view key);

  toml_reader& r_;
  fs::path base_;
  config& c_;
};

void config_walker::walk(const toml::table& root) {
  static const std::vector<std::string> sections = {
    "node", "paths", "cluster", "limits", "engine", "tools", "cache", "models"};
  for (const auto& [key, value] : root) {
    const std::string name{key.str()};
    if (std::find(sections.begin(), sections.end(), name) != sections.end())
      continue;
    std::string message = value.is_table() ? "unknown section [" + name + "]"
                                           : "unknown top-level key '" + name
                                               + "' (keys belong in sections)";
    if (auto hint = dsl::did_you_mean(name, sections); !hint.empty())
      message += "; " + hint;
    r_.error(key.source(), std::move(message));
  }
  using reader = void (config_walker::*)(const toml::table&);
  const std::pair<const char*, reader> readers[] = {
    {"node", &config_walker::node},       {"paths", &config_walker::paths},
    {"cluster", &config_walker::cluster}, {"limits", &config_walker::limits},
    {"engine", &config_walker::engine},   {"tools", &config_walker::tools},
    {"cache", &config_walker::cache},     {"models", &config_walker::models},
  };
  for (const auto& [name, read] : readers)
    if (const toml::table* t = r_.table(root, name, name))
      (this->*read)(*t);
}

void config_walker::node(const toml::table& t) {
  r_.check_keys(t, "[node]", {"name", "listen", "threads", "scheduler", "idle_sleep_us"});
  if (auto name = r_.string(t, "name", "node.name")) {
    if (name->value.empty())
      r_.error(name->at, "node.name: must not be empty");
    else
      c_.node.name = name->value;
  }
  if (auto listen = r_.string(t, "listen", "node.listen")) {
    auto parsed = parse_host_port(listen->value, true);
    if (parsed)
      c_.node.listen = parsed.value();
    else
      r_.error(listen->at, "node.listen: " + parsed.error());
  }
  integer(t, "threads", "node", 1, max_threads, c_.node.threads);
  if (auto s = r_.string(t, "scheduler", "node.scheduler")) {
    if (s->value == "stealing" || s->value == "sharing") {
      c_.node.scheduler = s->value;
    } else {
      std::string message =
        "node.scheduler: '" + s->value + "' is not one of \"stealing\", \"sharing\"";
      if (auto hint = dsl::did_you_mean(s->value, {"stealing", "sharing"}); !hint.empty())
        message += "; " + hint;
      r_.error(s->at, std::move(message));
    }
  }
  integer(t, "idle_sleep_us", "node", 0, 1'000'000, c_.node.idle_sleep_us);
}

std::optional<fs::path> config_walker::path(const toml::table& t,
                                            std::string_view key) {
  const std::string dotted = "paths." + std::string{key};
  auto text = r_.string(t, key, dotted);
  if (!text)
    return std::nullopt;
  if (text->value.empty()) {
    r_.error(text->at, dotted + ": must not be empty");
    return std::nullopt;
  }
  fs::path p{text->value};
  if (p.is_relative())
    p = base_ / p;
  return p.lexically_normal();
}

void config_walker::paths(const toml::table& t) {
  r_.check_keys(t, "[paths]", {"models", "runs", "cache"});
  if (auto p = path(t, "models"))
    c_.paths.models = *p;
  if (auto p = path(t, "runs"))
    c_.paths.runs = *p;
  if (auto p = path(t, "cache"))
    c_.paths.cache = *p;
}

void config_walker::cluster(const toml::table& t) {
  r_.check_keys(t, "[cluster]", {"seeds", "secret", "secret_env", "heartbeat_ms"});
  if (auto seeds = r_.strings(t, "seeds", "cluster.seeds")) {
    for (std::size_t i = 0; i < seeds->size(); ++i) {
      auto parsed = parse_host_port((*seeds)[i].value);
      if (parsed)
        c_.cluster.seeds.push_back(parsed.value());
      else
        r_.error((*seeds)[i].at, "cluster.seeds[" + std::to_string(i)
                                   + "]: " + parsed.error());
    }
  }
  const auto secret = r_.string(t, "secret", "cluster.secret");
  const auto env = r_.string(t, "secret_env", "cluster.secret_env");
  if (secret && env) {
    r_.error(env->at, "cluster.secret_env: set either cluster.secret or "
                      "cluster.secret_env, not both");
  } else if (secret) {
    if (secret->value.empty())
      r_.error(secret->at, "cluster.secret: must not be empty");
    c_.cluster.secret = secret->value;
  } else if (env) {
    const char* found =
      is_env_name(env->value) ? std::getenv(env->value.c_str()) : nullptr;
    if (!is_env_name(env->value))
      r_.error(env->at, "cluster.secret_env: '" + env->value
                          + "' is not an environment variable name");
    else if (found == nullptr || *found == '\0')
      r_.error(env->at, "cluster.secret_env: environment variable "
                          + env->value + " is not set or is empty");
    else
      c_.cluster.secret = found;
    c_.cluster.secret_env = env->value;
  }
  integer(t, "heartbeat_ms", "cluster", 10, 600'000, c_.cluster.heartbeat_ms);
}

void config_walker::limits(const toml::table& t) {
  r_.check_keys(t, "[limits]",
                {"max_concurrent_steps", "queue_capacity", "http_max_bytes",
                 "http_timeout_ms", "plan_max_steps", "plan_max_depth"});
  auto& l = c_.limits;
  integer(t, "max_concurrent_steps", "limits", 1, 1'000'000,
          l.max_concurrent_steps);
  integer(t, "queue_capacity", "limits", 1, 10'000'000, l.queue_capacity);
  integer(t, "http_max_bytes", "limits", 1, std::int64_t{1} << 40,
          l.http_max_bytes);
  integer(t, "http_timeout_ms", "limits", 1, max_timeout_ms,
          l.http_timeout_ms);
  integer(t, "plan_max_steps", "limits", 1, 100'000, l.plan_max_steps);
  integer(t, "plan_max_depth", "limits", 1, 64, l.plan_max_depth);
}

void config_walker::engine(const toml::table& t) {
  r_.check_keys(t, "[engine]", {"threads", "kv_memory_mb", "device"});
  integer(t, "threads", "engine", 1, max_threads, c_.engine.threads);
  integer(t, "kv_memory_mb", "engine", 1, 1 << 20, c_.engine.kv_memory_mb);
  if (auto device = r_.string(t, "device", "engine.device")) {
    static const std::vector<std::string> names = {"auto", "cpu", "cuda"};
    if (device->value == "auto")
      c_.engine.device = engine_device::automatic;
    else if (device->value == "cpu")
      c_.engine.device = engine_device::cpu;
    else if (device->value == "cuda")
      c_.engine.device = engine_device::cuda;
    else {
      std::string message = "engine.device: '" + device->value
                            + "' is not one of \"auto\", \"cpu\", \"cuda\"";
      if (auto hint = dsl::did_you_mean(device->value, names); !hint.empty())
        message += "; " + hint;
      r_.error(device->at, std::move(message));
    }
  }
}

void config_walker::tools(const toml::table& t) {
  r_.check_keys(t, "[tools]", {"shell"});
  const toml::table* shell = r_.table(t, "shell", "tools.shell");
  if (shell == nullptr)
    return;
  r_.check_keys(*shell, "[tools.shell]",
                {"enabled", "allow", "timeout_ms", "max_output_bytes"});
  if (auto enabled = r_.boolean(*shell, "enabled", "tools.shell.enabled"))
    c_.shell.enabled = *enabled;
  if (auto allow = r_.strings(*shell, "allow", "tools.shell.allow")) {
    for (std::size_t i = 0; i < allow->size(); ++i) {
      const auto& [name, at] = (*allow)[i];
      const bool bad = name.empty() || name.find('/') != std::string::npos
                       || name.find_first_of(" \t\n") != std::string::npos;
      if (bad)
        r_.error(at, "tools.shell.allow[" + std::to_string(i) + "]: '" + name
                       + "' is not a program name (no '/', no spaces; "
                         "programs are looked up on PATH)");
      else
        c_.shell.allow.push_back(name);
    }
  }
  integer(*shell, "timeout_ms", "tools.shell", 1, max_timeout_ms,
          c_.shell.timeout_ms);
  integer(*shell, "max_output_bytes", "tools.shell", 1, std::int64_t{1} << 30,
          c_.shell.max_output_bytes);
}

void config_walker::cache(const toml::table& t) {
  r_.check_keys(t, "[cache]", {"enabled", "capacity", "simhash_distance"});
  if (auto enabled = r_.boolean(t, "enabled", "cache.enabled"))
    c_.cache.enabled = *enabled;
  integer(t, "capacity", "cache", 1, 100'000'000, c_.cache.capacity);
  // The cache's 4-band SimHash index finds every match only up to 3 bits.
  integer(t, "simhash_distance", "cache", 0, 3, c_.cache.simhash_distance);
}

void config_walker::models(const toml::table& t) {
  std::vector<std::pair<toml::source_position, std::string>> names;
  for (const auto& [key, value] : t) {
    const std::string name{key.str()};
    if (!value.is_table()) {
      r_.error(value.source(), "models." + name + ": expected a table ([models."
                                 + name + "]), found "
                                 + config_detail::type_phrase(value.type()));
      continue;
    }
    names.emplace_back(key.source().begin, name);
  }
  // toml++ orders keys by name; the registry's order is the file's.
  std::sort(names.begin(), names.end(), [](const auto& a, const auto& b) {
    return std::pair{a.first.line, a.first.column}
           < std::pair{b.first.line, b.first.column};
  });
  c_.models.registry_file = c_.file;
  for (auto& [at, name] : names)
    c_.models.names.push_back(std::move(name));
}

} // namespace

std::string host_port::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

result<host_port, std::string> parse_host_port(std::string_view text,
                                               bool allow_port_zero) {
  const std::string shown = "'" + std::string{text} + "'";
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return shown + " is not HOST:PORT (no ':PORT')";
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    const bool ok = !host.empty()
                    && host.find_first_not_of("0123456789abcdefABCDEF:.")
                         == std::string_view::npos;
    if (!ok)
      return shown + " has an invalid IPv6 address in brackets";
  } else if (host.find(':') != std::string_view::npos) {
    return shown + " is not HOST:PORT (write an IPv6 host in brackets, as "
                   "[::1]:7700)";
  } else if (host.empty()
             || !std::all_of(host.begin(), host.end(), is_host_char)) {
    return shown + " has an invalid host (letters, digits, '-', '_', '.')";
  }
  const bool digits = !port.empty() && port.size() <= 5
                      && port.find_first_not_of("0123456789")
                           == std::string_view::npos;
  const long value = digits ? std::stol(std::string{port}) : -1;
  const long lowest = allow_port_zero ? 0 : 1;
  if (value < lowest || value > 65535)
    return shown + " has an invalid port (expected " + std::to_string(lowest)
           + " to 65535)";
  return host_port{std::string{host}, static_cast<std::uint16_t>(value)};
}

std::string config_error::text() const {
  return base::error{message, file.string(), line, column}.to_string();
}

std::string config_errors::text() const {
  std::string out;
  for (const auto& e : items)
    out += e.text() + "\n";
  return out;
}

config default_config() {
  config c;
  c.node.name = host_name();
  c.node.threads = default_threads();
  c.engine.threads = default_threads();
  return c;
}

result<config, config_errors> load_config(const fs::path& path) {
  const auto fail = [&path](std::size_t line, std::size_t column,
                            std::string message) {
    return config_errors{{config_error{path, line, column, std::move(message)}}};
  };
  std::error_code ec;
  if (fs::is_directory(path, ec))
    return fail(0, 0, "cannot read config file: it is a directory");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return fail(0, 0, std::string{"cannot read config file: "}
                        + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  toml::table root;
  try {
    root = toml::parse(text.str(), std::string_view{path.string()});
  } catch (const toml::parse_error& err) {
    return fail(err.source().begin.line, err.source().begin.column,
                std::string{err.description()});
  }
  config c = default_config();
  c.file = path;
  fs::path base = fs::absolute(path, ec).parent_path();
  if (ec)
    base = path.parent_path();
  std::vector<config_error> errors;
  toml_reader reader{path, errors};
  config_walker{reader, base, c}.walk(root);
  if (errors.empty())
    return c;
  std::stable_sort(errors.begin(), errors.end(),
                   [](const config_error& a, const config_error& b) {
                     return std::pair{a.line, a.column}
                            < std::pair{b.line, b.column};
                   });
  return config_errors{std::move(errors)};
}

result<config, config_errors>
load_config_or_default(const fs::path& path) {
  if (!path.empty())
    return load_config(path);
  std::error_code ec;
  if (fs::exists("troupe.toml", ec))
    return load_config("troupe.toml");
  return default_config();
}

} // namespace troupe::runtime
