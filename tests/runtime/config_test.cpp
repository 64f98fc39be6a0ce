#include "runtime/config.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/runtime/test_files.hpp"

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;

class config_test : public testing::Test {
protected:
  // Writes `text` as troupe.toml in the scratch dir and loads it.
  result<config, config_errors> load(const std::string& text) {
    test::write_text(file_, text);
    return load_config(file_);
  }

  // The error texts of loading `text`, which must fail.
  std::vector<std::string> errors_of(const std::string& text) {
    const auto res = load(text);
    if (res.ok()) {
      ADD_FAILURE() << "expected errors for:\n" << text;
      return {};
    }
    std::vector<std::string> out;
    for (const auto& e : res.error().items)
      out.push_back(e.text());
    return out;
  }

  // "<file>:" + `rest`, the expected text of one error.
  std::string at(const std::string& rest) const {
    return file_.string() + ":" + rest;
  }

  test::temp_dir dir_;
  fs::path file_ = dir_.path() / "troupe.toml";
};

TEST_F(config_test, valid_full_file_sets_every_key) {
  ::setenv("TROUPE_CONFIG_TEST_SECRET", "from-env", 1);
  const auto res = load(R"([node]
name = "n1"
listen = "0.0.0.0:7800"
threads = 6
scheduler = "sharing"
idle_sleep_us = 20

[paths]
models = "m"
runs = "/var/lib/troupe/runs"
cache = "state/cache.jsonl"

[cluster]
seeds = ["10.0.0.2:7700", "[::1]:7701", "peer-3.local:7702"]
secret_env = "TROUPE_CONFIG_TEST_SECRET"
heartbeat_ms = 250

[limits]
max_concurrent_steps = 8
queue_capacity = 32
http_max_bytes = 1024
http_timeout_ms = 1500
plan_max_steps = 10
plan_max_depth = 2

[engine]
threads = 3
kv_memory_mb = 512
device = "cpu"

[tools.shell]
enabled = true
allow = ["echo", "wc"]
timeout_ms = 2000
max_output_bytes = 4096

[cache]
enabled = false
capacity = 50
simhash_distance = 2

[models.zeta]
backend = "gguf"
path = "stories260K.gguf"

[models.alpha]
backend = "gguf"
path = "other.gguf"
)");
  ::unsetenv("TROUPE_CONFIG_TEST_SECRET");
  ASSERT_TRUE(res.ok()) << res.error().text();
  const config& c = res.value();
  EXPECT_EQ(c.file, file_);
  EXPECT_EQ(c.node.name, "n1");
  EXPECT_EQ(c.node.listen.host, "0.0.0.0");
  EXPECT_EQ(c.node.listen.port, 7800);
  EXPECT_EQ(c.node.threads, 6);
  EXPECT_EQ(c.node.scheduler, "sharing");
  EXPECT_EQ(c.node.idle_sleep_us, 20);
  EXPECT_EQ(c.paths.models, dir_.path() / "m");
  EXPECT_EQ(c.paths.runs, fs::path{"/var/lib/troupe/runs"});
  EXPECT_EQ(c.paths.cache, dir_.path() / "state" / "cache.jsonl");
  ASSERT_EQ(c.cluster.seeds.size(), 3u);
  EXPECT_EQ(c.cluster.seeds[1].host, "::1");
  EXPECT_EQ(c.cluster.seeds[1].text(), "[::1]:7701");
  EXPECT_EQ(c.cluster.seeds[2].text(), "peer-3.local:7702");
  EXPECT_EQ(c.cluster.secret, "from-env");
  EXPECT_EQ(c.cluster.secret_env, "TROUPE_CONFIG_TEST_SECRET");
  EXPECT_EQ(c.cluster.heartbeat_ms, 250);
  EXPECT_EQ(c.limits.max_concurrent_steps, 8u);
  EXPECT_EQ(c.limits.queue_capacity, 32u);
  EXPECT_EQ(c.limits.http_max_bytes, 1024u);
  EXPECT_EQ(c.limits.http_timeout_ms, 1500);
  EXPECT_EQ(c.limits.plan_max_steps, 10u);
  EXPECT_EQ(c.limits.plan_max_depth, 2);
  EXPECT_EQ(c.engine.threads, 3);
  EXPECT_EQ(c.engine.kv_memory_mb, 512u);
  EXPECT_EQ(c.engine.device, engine_device::cpu);
  EXPECT_TRUE(c.shell.enabled);
  EXPECT_EQ(c.shell.allow, (std::vector<std::string>{"echo", "wc"}));
  EXPECT_EQ(c.shell.timeout_ms, 2000);
  EXPECT_EQ(c.shell.max_output_bytes, 4096u);
  EXPECT_FALSE(c.cache.enabled);
  EXPECT_EQ(c.cache.capacity, 50u);
  EXPECT_EQ(c.cache.simhash_distance, 2);
  EXPECT_EQ(c.models.registry_file, file_);
  EXPECT_EQ(c.models.names, (std::vector<std::string>{"zeta", "alpha"}));
}

TEST_F(config_test, empty_file_gives_the_defaults) {
  const auto res = load("# nothing set\n");
  ASSERT_TRUE(res.ok()) << res.error().text();
  const config& c = res.value();
  const config d = default_config();
  EXPECT_FALSE(c.node.name.empty());
  EXPECT_EQ(c.node.name, d.node.name);
  EXPECT_EQ(c.node.listen.text(), "127.0.0.1:7700");
  EXPECT_GE(c.node.threads, 1);
  EXPECT_EQ(c.node.scheduler, "stealing");
  EXPECT_EQ(c.node.idle_sleep_us, 0);
  EXPECT_FALSE(c.paths.models);
  EXPECT_EQ(c.paths.runs, fs::path{".troupe/runs"});
  EXPECT_EQ(c.paths.cache, fs::path{".troupe/cache.jsonl"});
  EXPECT_TRUE(c.cluster.seeds.empty());
  EXPECT_EQ(c.cluster.heartbeat_ms, 500);
  EXPECT_EQ(c.limits.http_max_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c.limits.http_timeout_ms, 30000);
  EXPECT_EQ(c.limits.plan_max_depth, 4);
  EXPECT_EQ(c.engine.kv_memory_mb, 256u);
  EXPECT_EQ(c.engine.device, engine_device::automatic);
  EXPECT_FALSE(c.shell.enabled);
  EXPECT_TRUE(c.cache.enabled);
  EXPECT_EQ(c.cache.capacity, 10000u);
  EXPECT_EQ(c.cache.simhash_distance, 3);
  EXPECT_TRUE(c.models.registry_file.empty());
  EXPECT_TRUE(d.file.empty());
}

TEST_F(config_test, unknown_key_has_position_and_hint) {
  EXPECT_EQ(errors_of("[node]\nname = \"n1\"\nthread = 4\n"),
            std::vector<std::string>{at(
              "3:1: unknown key 'thread' in [node]; did you mean 'threads'?")});
}

TEST_F(config_test, unknown_section_has_position_and_hint) {
  EXPECT_EQ(errors_of("\n[nodes]\nname = \"x\"\n"),
            std::vector<std::string>{
              at("2:2: unknown section [nodes]; did you mean 'node'?")});
  EXPECT_EQ(errors_of("[tools.shel]\nenabled = true\n"),
            std::vector<std::string>{
              at("1:8: unknown key 'shel' in [tools]; did you mean 'shell'?")});
  EXPECT_EQ(errors_of("threads = 4\n"),
            std::vector<std::string>{at(
              "1:1: unknown top-level key 'threads' (keys belong in sections)")});
}

TEST_F(config_test, wrong_type_says_expected_and_found) {
  EXPECT_EQ(errors_of("[limits]\nqueue_capacity = \"big\"\n"),
            std::vector<std::string>{at(
              "2:18: limits.queue_capacity: expected an integer, found a string")});
  EXPECT_EQ(errors_of("[cluster]\nheartbeat_ms = 1.5\n"),
            std::vector<std::string>{at("2:16: cluster.heartbeat_ms: expected "
                                        "an integer, found a floating-point "
                                        "number")});
  EXPECT_EQ(errors_of("[cache]\nenabled = \"yes\"\n"),
            std::vector<std::string>{
              at("2:11: cache.enabled: expected a boolean, found a string")});
  EXPECT_EQ(errors_of("paths = 3\n"),
            std::vector<std::string>{
              at("1:9: paths: expected a table, found an integer")});
  EXPECT_EQ(errors_of("[tools.shell]\nallow = [\"echo\", 7]\n"),
            std::vector<std::string>{at("2:18: tools.shell.allow[1]: expected "
                                        "a string, found an integer")});
}

TEST_F(config_test, bad_host_port_values_are_errors) {
  EXPECT_EQ(errors_of("[node]\nlisten = \"localhost\"\n"),
            std::vector<std::string>{at(
              "2:10: node.listen: 'localhost' is not HOST:PORT (no ':PORT')")});
  EXPECT_EQ(errors_of("[cluster]\nseeds = [\"a:1\", \"b:70000\"]\n"),
            std::vector<std::string>{at("2:17: cluster.seeds[1]: 'b:70000' has "
                                        "an invalid port (expected 1 to "
                                        "65535)")});
  struct bad_case {
    const char* text;
    const char* says;
  };
  for (const auto& c : {bad_case{"::1:80", "IPv6 host in brackets"},
                        bad_case{"[zz]:80", "invalid IPv6"},
                        bad_case{"a b:80", "invalid host"},
                        bad_case{":80", "invalid host"},
                        bad_case{"h:", "invalid port"},
                        bad_case{"h:0", "invalid port"},
                        bad_case{"h:8x", "invalid port"}}) {
    const auto res = parse_host_port(c.text);
    ASSERT_FALSE(res.ok()) << c.text;
    EXPECT_NE(res.error().find(c.says), std::string::npos) << res.error();
  }
  EXPECT_TRUE(parse_host_port("h:0", true).ok());
}

TEST_F(config_test, the_scheduler_is_stealing_or_sharing) {
  EXPECT_EQ(errors_of("[node]\nscheduler = \"shareing\"\n"),
            std::vector<std::string>{at("2:13: node.scheduler: 'shareing' is not one of "
                                        "\"stealing\", \"sharing\"; did you mean 'sharing'?")});
  EXPECT_EQ(errors_of("[node]\nidle_sleep_us = -1\n"),
            std::vector<std::string>{at("2:17: node.idle_sleep_us: -1 is out of range "
                                        "(expected 0 to 1000000)")});
}

TEST_F(config_test, numbers_out_of_range_are_errors) {
  EXPECT_EQ(errors_of("[node]\nthreads = 0\n"),
            std::vector<std::string>{at(
              "2:11: node.threads: 0 is out of range (expected 1 to 4096)")});
  EXPECT_EQ(errors_of("[cache]\nsimhash_distance = 9\n"),
            std::vector<std::string>{at("2:20: cache.simhash_distance: 9 is "
                                        "out of range (expected 0 to 3)")});
}

TEST_F(config_test, every_error_is_reported_in_file_order) {
  const auto errors = errors_of(R"([node]
listen = "127.0.0.1:99999"
threads = -2

[engine]
device = "cudda"

[limits]
plan_max_depht = 3

[cluster]
secret = "a"
secret_env = "B"

[models]
tiny = 1
)");
  EXPECT_EQ(errors,
            (std::vector<std::string>{
              at("2:10: node.listen: '127.0.0.1:99999' has an invalid port "
                 "(expected 0 to 65535)"),
              at("3:11: node.threads: -2 is out of range (expected 1 to "
                 "4096)"),
              at("6:10: engine.device: 'cudda' is not one of \"auto\", "
                 "\"cpu\", \"cuda\"; did you mean 'cuda'?"),
              at("9:1: unknown key 'plan_max_depht' in [limits]; did you "
                 "mean 'plan_max_depth'?"),
              at("13:14: cluster.secret_env: set either cluster.secret or "
                 "cluster.secret_env, not both"),
              at("16:8: models.tiny: expected a table ([models.tiny]), found "
                 "an integer"),
            }));
}

TEST_F(config_test, secret_env_must_name_a_set_variable) {
  ::unsetenv("TROUPE_CONFIG_TEST_UNSET");
  EXPECT_EQ(errors_of("[cluster]\nsecret_env = \"TROUPE_CONFIG_TEST_UNSET\"\n"),
            std::vector<std::string>{
              at("2:14: cluster.secret_env: environment variable "
                 "TROUPE_CONFIG_TEST_UNSET is not set or is empty")});
  EXPECT_EQ(errors_of("[cluster]\nsecret_env = \"NOT-A-NAME\"\n"),
            std::vector<std::string>{at("2:14: cluster.secret_env: "
                                        "'NOT-A-NAME' is not an environment "
                                        "variable name")});
  const auto given = load("[cluster]\nsecret = \"inline\"\n");
  ASSERT_TRUE(given.ok()) << given.error().text();
  EXPECT_EQ(given.value().cluster.secret, "inline");
  EXPECT_TRUE(given.value().cluster.secret_env.empty());
}

TEST_F(config_test, shell_allow_takes_program_names_only) {
  EXPECT_EQ(errors_of("[tools.shell]\nallow = [\"/bin/sh\"]\n"),
            std::vector<std::string>{
              at("2:10: tools.shell.allow[0]: '/bin/sh' is not a program name "
                 "(no '/', no spaces; programs are looked up on PATH)")});
}

TEST_F(config_test, syntax_error_has_its_position) {
  const auto errors = errors_of("[node]\nname = \n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind(at("2:8: "), 0), 0u) << errors[0];
}

TEST_F(config_test, missing_explicit_file_is_an_error) {
  const fs::path missing = dir_.path() / "absent.toml";
  const auto res = load_config(missing);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().text(),
            missing.string()
              + ": cannot read config file: No such file or directory\n");
  EXPECT_FALSE(load_config_or_default(missing).ok());
}

TEST_F(config_test, troupe_toml_in_the_current_dir_is_found) {
  const fs::path saved = fs::current_path();
  fs::current_path(dir_.path());
  const auto none = load_config_or_default();
  test::write_text(file_, "[paths]\nruns = \"r\"\n");
  const auto found = load_config_or_default();
  fs::current_path(saved);
  ASSERT_TRUE(none.ok()) << none.error().text();
  EXPECT_TRUE(none.value().file.empty());
  ASSERT_TRUE(found.ok()) << found.error().text();
  EXPECT_EQ(found.value().file, fs::path{"troupe.toml"});
  EXPECT_EQ(found.value().paths.runs, dir_.path() / "r");
}

} // namespace
} // namespace troupe::runtime
