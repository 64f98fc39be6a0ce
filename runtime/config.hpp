#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/result.hpp"

// troupe.toml: one node's settings. Every section and key is optional; an
// absent key keeps its default. Paths given in the file are relative to
// the directory holding it; default paths are relative to the current
// directory. Unknown sections and keys are errors (with a did-you-mean
// hint), as are wrong types, bad HOST:PORT values and numbers out of range.
//
//   [node]
//   name = "n1"                  # default: the host name
//   listen = "127.0.0.1:7700"    # HOST:PORT this node serves on; port 0
//                                #   picks a free one; IPv6 as [::1]:7700
//   threads = 8                  # 1..4096; default: hardware concurrency
//   scheduler = "stealing"       # CAF scheduler: "stealing" or "sharing"
//   idle_sleep_us = 0            # 0..1000000: an idle stealing worker's poll
//                                #   sleep (CAF moderate-sleep-duration)
//   [paths]
//   models = "models"            # models directory (see model_paths.hpp);
//                                #   default: unset (model_paths decides)
//   runs = ".troupe/runs"        # run store root (run_store.hpp)
//   cache = ".troupe/cache.jsonl"  # result cache file (result_cache.hpp)
//   [cluster]
//   seeds = ["10.0.0.2:7700"]    # HOST:PORT of nodes to join; default none
//   secret = "..."               # shared cluster secret, or instead:
//   secret_env = "TROUPE_SECRET" # the environment variable holding it
//                                #   (set and not empty); not both
//   heartbeat_ms = 500           # 10..600000
//   [limits]
//   max_concurrent_steps = 64    # 1..1000000
//   queue_capacity = 256         # 1..10000000
//   http_max_bytes = 10485760    # 1..2^40; default 10 MiB
//   http_timeout_ms = 30000      # 1..86400000
//   plan_max_steps = 64          # 1..100000
//   plan_max_depth = 4           # 1..64
//   [engine]
//   threads = 8                  # 1..4096; default: hardware concurrency
//   kv_memory_mb = 256           # 1..1048576
//   device = "auto"              # "auto" | "cpu" | "cuda"
//   [tools.shell]
//   enabled = false              # the shell tool is refused unless true
//   allow = ["echo", "wc"]       # program names (no '/'); default none
//   timeout_ms = 10000           # 1..86400000, kill after this long
//   max_output_bytes = 1048576   # 1..2^30, stdout kept per call
//   [cache]
//   enabled = true
//   capacity = 10000             # entries, 1..100000000
//   simhash_distance = 3         # 0..3 bits for a near-duplicate hit
//   [models.NAME]                # model registry entries, with the keys of
//   backend = "gguf"             #   workflows/registry/models.toml; read by
//   ...                          #   dsl::load_registry(), not here

namespace troupe::runtime {

using base::result;

/// A "HOST:PORT" value. `host` is a name or IPv4 address, or an IPv6
/// address without its brackets.
struct host_port {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port", with brackets around an IPv6 host.
  std::string text() const;
};

/// Parses "HOST:PORT": HOST is a name of letters, digits, '-', '_' and
/// '.', or "[IPv6]"; PORT is decimal, 1..65535, or 0..65535 when
/// `allow_port_zero`. Returns what is wrong, one sentence, otherwise.
result<host_port, std::string> parse_host_port(std::string_view text,
                                               bool allow_port_zero = false);

/// [engine] device: "auto" (CUDA when a device exists), "cpu", "cuda".
enum class engine_device { automatic, cpu, cuda };

/// [node]
struct node_config {
  std::string name; ///< Default: the host name.
  host_port listen{"127.0.0.1", 7700};
  int threads = 1; ///< Default: hardware concurrency.
  /// CAF's scheduler policy: "stealing" (work stealing) or "sharing" (one
  /// shared queue).
  std::string scheduler = "stealing";
  /// Work stealing: how long an idle worker sleeps between polls before it
  /// waits on a condition variable (CAF's moderate-sleep-duration, whose
  /// own default is 50). 0 by measurement: a chain of steps across nodes
  /// is about a third faster, one node as fast or faster, and an idle node
  /// costs the same (docs/benchmarks.md).
  std::int64_t idle_sleep_us = 0;
};

/// [paths]; a path set in the file is already joined to the file's
/// directory.
struct paths_config {
  std::optional<std::filesystem::path> models; ///< Unset: model_paths decides.
  std::filesystem::path runs{".troupe/runs"};
  std::filesystem::path cache{".troupe/cache.jsonl"};
};

/// [cluster]
struct cluster_config {
  std::vector<host_port> seeds;
  /// The secret itself, from `secret` or read from `secret_env`.
  std::string secret;
  /// The variable named by `secret_env`; "" when the secret was given.
  std::string secret_env;
  std::int64_t heartbeat_ms = 500;
};

/// [limits]
struct limits_config {
  std::size_t max_concurrent_steps = 64;
  std::size_t queue_capacity = 256;
  std::size_t http_max_bytes = 10u << 20;
  std::int64_t http_timeout_ms = 30000;
  std::size_t plan_max_steps = 64;
  int plan_max_depth = 4;
};

/// [engine]
struct engine_config {
  int threads = 1; ///< Default: hardware concurrency.
  std::size_t kv_memory_mb = 256;
  engine_device device = engine_device::automatic;
};

/// [tools.shell]: what the shell tool may run (runtime/tools.hpp).
struct shell_config {
  bool enabled = false;
  std::vector<std::string> allow;
  std::int64_t timeout_ms = 10000;
  std::size_t max_output_bytes = 1u << 20;
};

/// [cache]: the result cache's settings (result_cache.hpp).
struct cache_config {
  bool enabled = true;
  std::size_t capacity = 10000;
  int simhash_distance = 3;
};

/// The [models.NAME] tables. Only their shape is checked here; pass
/// `registry_file` to dsl::load_registry() for the entries themselves.
struct models_config {
  std::filesystem::path registry_file; ///< The troupe.toml; "" when none.
  std::vector<std::string> names;      ///< In file order.
};

/// Invariants (for one returned by load_config or default_config): every
/// value is within the range documented above.
struct config {
  std::filesystem::path file; ///< The troupe.toml read; "" for defaults.
  node_config node;
  paths_config paths;
  cluster_config cluster;
  limits_config limits;
  engine_config engine;
  shell_config shell; ///< [tools.shell]
  cache_config cache;
  models_config models;
};

/// One mistake in a troupe.toml. `line` and `column` are 1-based; both are
/// 0 when the mistake is about the whole file (it is missing).
struct config_error {
  std::filesystem::path file;
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;

  /// "file:line:col: message" ("file: message" without a position).
  std::string text() const;
};

/// Every mistake found in one file, sorted by position.
struct config_errors {
  std::vector<config_error> items;

  /// Each item's text(), one per line.
  std::string text() const;
};

/// The settings when there is no troupe.toml.
config default_config();

/// Reads `path`. A missing or unreadable file and a TOML syntax error are
/// one error each (toml++ stops at the first syntax error); otherwise the
/// whole file is checked and every mistake is reported. Reads the
/// environment for `cluster.secret_env`; not thread-safe against setenv().
result<config, config_errors> load_config(const std::filesystem::path& path);

/// load_config(path) when `path` is not empty; else ./troupe.toml when it
/// exists; else default_config().
result<config, config_errors>
load_config_or_default(const std::filesystem::path& path = {});

} // namespace troupe::runtime
