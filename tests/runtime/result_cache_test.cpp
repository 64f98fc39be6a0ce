#include "runtime/result_cache.hpp"

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "runtime/simhash.hpp"
#include "tests/runtime/test_files.hpp"

namespace troupe::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const result_cache::time_point t0{std::chrono::hours{24 * 365 * 50}};

// A prompt of about 300 words: long enough that changing one word moves
// only a few of its ~300 shingles, so its SimHash stays within 3 bits.
std::string sensor_log_prompt(const std::string& word_at_line_7 = "reports") {
  std::string p = "Summarize the sensor log below in three sentences and "
                  "name the machine that needs attention first.";
  for (int i = 0; i < 20; ++i)
    p += " Reading " + std::to_string(i) + ": sensor "
         + std::to_string(i * 7 % 23) + " on line " + std::to_string(i % 5)
         + " " + (i == 7 ? word_at_line_7 : "reports") + " "
         + std::to_string(40 + i * 3 % 17) + " degrees and "
         + std::to_string(i * 11 % 90) + " percent load.";
  return p;
}

cache_key llm_key(const std::string& prompt, const std::string& tier = "small") {
  return {"llm", tier, prompt};
}

TEST(simhash_test, normalization_lowercases_ascii_and_collapses_whitespace) {
  EXPECT_EQ(normalize_prompt("  Hello\t\tWORLD \n\r Ünïcode  "),
            "hello world Ünïcode");
  EXPECT_EQ(normalize_prompt(" \n\t "), "");
  EXPECT_EQ(simhash64(""), 0u);
}

TEST(simhash_test, one_word_change_in_a_long_prompt_moves_few_bits) {
  const auto a = simhash64(normalize_prompt(sensor_log_prompt()));
  const auto b = simhash64(normalize_prompt(sensor_log_prompt("shows")));
  const auto c = simhash64(normalize_prompt("Write a poem about the sea."));
  EXPECT_GE(hamming_distance(a, b), 1);
  EXPECT_LE(hamming_distance(a, b), 3);
  EXPECT_GT(hamming_distance(a, c), 10);
}

TEST(result_cache_test, exact_hit_after_normalization) {
  result_cache cache;
  ASSERT_TRUE(
    cache.admit(llm_key("What is  the capital of France?"), "Paris", true,
                1h, t0));
  const auto hit = cache.lookup(llm_key("  what is the CAPITAL of\nfrance? "),
                                t0 + 1min);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->exact);
  EXPECT_EQ(hit->distance, 0);
  EXPECT_EQ(hit->result, "Paris");
  EXPECT_EQ(cache.counters().hits, 1u);
}

TEST(result_cache_test, near_duplicate_with_one_word_changed_hits) {
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key(sensor_log_prompt()), "summary", true, 1h,
                          t0));
  const auto hit = cache.lookup(llm_key(sensor_log_prompt("shows")), t0);
  ASSERT_TRUE(hit);
  EXPECT_FALSE(hit->exact);
  EXPECT_GE(hit->distance, 1);
  EXPECT_LE(hit->distance, 3);
  EXPECT_EQ(hit->result, "summary");
  EXPECT_EQ(hit->matched_prompt, normalize_prompt(sensor_log_prompt()));
  EXPECT_EQ(cache.counters().near_hits, 1u);
  EXPECT_EQ(cache.counters().hits, 0u);
}

TEST(result_cache_test, near_lookup_respects_the_distance_threshold) {
  result_cache cache{cache_options{100, 0}};
  ASSERT_TRUE(cache.admit(llm_key(sensor_log_prompt()), "summary", true, 1h,
                          t0));
  EXPECT_FALSE(cache.lookup(llm_key(sensor_log_prompt("shows")), t0));
  EXPECT_EQ(cache.counters().misses, 1u);
}

TEST(result_cache_test, different_prompt_misses) {
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key(sensor_log_prompt()), "summary", true, 1h,
                          t0));
  EXPECT_FALSE(cache.lookup(
    llm_key("Translate the maintenance manual's safety chapter into French."),
    t0));
  EXPECT_EQ(cache.counters().misses, 1u);
}

TEST(result_cache_test, other_tier_or_kind_misses_even_for_the_same_prompt) {
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key(sensor_log_prompt(), "small"), "cheap",
                          true, 1h, t0));
  EXPECT_FALSE(cache.lookup(llm_key(sensor_log_prompt(), "large"), t0));
  EXPECT_FALSE(cache.lookup(llm_key(sensor_log_prompt("shows"), "large"), t0));
  EXPECT_FALSE(cache.lookup({"plan", "small", sensor_log_prompt()}, t0));
  EXPECT_EQ(cache.counters().misses, 3u);
  EXPECT_TRUE(cache.lookup(llm_key(sensor_log_prompt(), "small"), t0));
}

TEST(result_cache_test, expired_entries_miss_and_are_removed) {
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key("short lived"), 1, true, 10s, t0));
  ASSERT_TRUE(cache.admit(llm_key(sensor_log_prompt()), 2, true, 10s, t0));
  EXPECT_TRUE(cache.lookup(llm_key("short lived"), t0 + 9s));
  EXPECT_FALSE(cache.lookup(llm_key("short lived"), t0 + 10s));
  // The near-duplicate path must not serve an expired entry either.
  EXPECT_FALSE(cache.lookup(llm_key(sensor_log_prompt("shows")), t0 + 11s));
  EXPECT_EQ(cache.counters().expirations, 2u);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(result_cache_test, readmitting_a_key_replaces_and_extends_it) {
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key("q"), "old", true, 10s, t0));
  ASSERT_TRUE(cache.admit(llm_key("Q"), "new", true, 1h, t0 + 5s));
  EXPECT_EQ(cache.size(), 1u);
  const auto hit = cache.lookup(llm_key("q"), t0 + 30s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->result, "new");
}

TEST(result_cache_test, purge_removes_only_expired_entries) {
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key("a"), 1, true, 10s, t0));
  ASSERT_TRUE(cache.admit(llm_key("b"), 2, true, 1h, t0));
  EXPECT_EQ(cache.purge_expired(t0 + 1min), 1u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.lookup(llm_key("b"), t0 + 1min));
}

TEST(result_cache_test, least_recently_used_entry_is_evicted_first) {
  result_cache cache{cache_options{3, 3}};
  for (const char* p : {"alpha", "beta", "gamma"})
    ASSERT_TRUE(cache.admit(llm_key(p), p, true, 1h, t0));
  ASSERT_TRUE(cache.lookup(llm_key("alpha"), t0)); // beta is now oldest
  ASSERT_TRUE(cache.admit(llm_key("delta"), "delta", true, 1h, t0));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.counters().evictions, 1u);
  EXPECT_FALSE(cache.lookup(llm_key("beta"), t0));
  ASSERT_TRUE(cache.admit(llm_key("epsilon"), "epsilon", true, 1h, t0));
  EXPECT_FALSE(cache.lookup(llm_key("gamma"), t0));
  for (const char* p : {"alpha", "delta", "epsilon"})
    EXPECT_TRUE(cache.lookup(llm_key(p), t0)) << p;
  EXPECT_EQ(cache.counters().evictions, 2u);
}

TEST(result_cache_test, unverified_results_and_zero_ttl_are_refused) {
  result_cache cache;
  EXPECT_FALSE(cache.admit(llm_key("q"), "unchecked", false, 1h, t0));
  EXPECT_FALSE(cache.admit(llm_key("q"), "no ttl", true, 0s, t0));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.lookup(llm_key("q"), t0));
  EXPECT_EQ(cache.counters().refusals, 2u);
  EXPECT_EQ(cache.counters().admissions, 0u);
  result_cache none{cache_options{0, 3}};
  EXPECT_FALSE(none.admit(llm_key("q"), "x", true, 1h, t0));
}

TEST(result_cache_test, counters_add_up) {
  result_cache cache{cache_options{2, 3}};
  cache.admit(llm_key(sensor_log_prompt()), "s", true, 1h, t0); // admission
  cache.admit(llm_key("b"), "b", false, 1h, t0);                 // refusal
  cache.admit(llm_key("c"), "c", true, 1min, t0);                // admission
  cache.lookup(llm_key(sensor_log_prompt()), t0);                // hit
  cache.lookup(llm_key(sensor_log_prompt("shows")), t0);         // near hit
  cache.lookup(llm_key("c"), t0 + 2min);                         // expired
  cache.admit(llm_key("d"), "d", true, 1h, t0);                  // admission
  cache.admit(llm_key("e"), "e", true, 1h, t0);                  // evicts
  const auto& c = cache.counters();
  EXPECT_EQ(c.hits, 1u);
  EXPECT_EQ(c.near_hits, 1u);
  EXPECT_EQ(c.misses, 1u);
  EXPECT_EQ(c.admissions, 4u);
  EXPECT_EQ(c.refusals, 1u);
  EXPECT_EQ(c.evictions, 1u);
  EXPECT_EQ(c.expirations, 1u);
}

TEST(result_cache_test, save_and_load_round_trip_keeps_live_entries) {
  test::temp_dir dir;
  const fs::path file = dir.path() / "sub" / "cache.jsonl";
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key(sensor_log_prompt()), value{{"n", 1}},
                          true, 2h, t0));
  ASSERT_TRUE(cache.admit(llm_key("brief"), "soon gone", true, 1min, t0));
  ASSERT_TRUE(cache.admit({"tool:http_get", "-", "https://x"}, "body", true,
                          2h, t0));
  ASSERT_FALSE(cache.save(file, t0));
  // Only the file itself is left: the temporary was renamed over it.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(file.parent_path())) {
    ++files;
    EXPECT_EQ(e.path(), file);
  }
  EXPECT_EQ(files, 1u);

  result_cache later;
  const auto loaded = later.load(file, t0 + 1h);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded.value(), 2u); // "brief" expired meanwhile
  const auto hit = later.lookup(llm_key(sensor_log_prompt("shows")), t0 + 1h);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->result, (value{{"n", 1}}));
  EXPECT_TRUE(later.lookup({"tool:http_get", "-", "https://x"}, t0 + 1h));
  EXPECT_FALSE(later.lookup(llm_key("brief"), t0 + 1h));
}

TEST(result_cache_test, load_keeps_the_order_of_use) {
  test::temp_dir dir;
  const fs::path file = dir.path() / "cache.jsonl";
  result_cache cache;
  for (const char* p : {"one", "two", "three"})
    ASSERT_TRUE(cache.admit(llm_key(p), p, true, 1h, t0));
  ASSERT_TRUE(cache.lookup(llm_key("one"), t0)); // "two" is least recent
  ASSERT_FALSE(cache.save(file, t0));
  result_cache small{cache_options{2, 3}};
  const auto loaded = small.load(file, t0);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_FALSE(small.lookup(llm_key("two"), t0));
  EXPECT_TRUE(small.lookup(llm_key("one"), t0));
  EXPECT_TRUE(small.lookup(llm_key("three"), t0));
}

TEST(result_cache_test, missing_file_loads_nothing) {
  test::temp_dir dir;
  result_cache cache;
  const auto loaded = cache.load(dir.path() / "none.jsonl", t0);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded.value(), 0u);
}

TEST(result_cache_test, corrupt_file_is_an_error_naming_the_line) {
  test::temp_dir dir;
  const fs::path file = dir.path() / "cache.jsonl";
  const std::string header =
    "{\"format\":\"troupe-result-cache\",\"version\":1}\n";
  const std::string good =
    "{\"kind\":\"llm\",\"tier\":\"s\",\"prompt\":\"p\",\"result\":1,"
    "\"expires_us\":9000000000000000}\n";
  struct bad_case {
    std::string text;
    std::string expected;
  };
  const bad_case cases[] = {
    {header + good + "{\"kind\":\n", ":3: invalid JSON"},
    {header + "{\"kind\":\"llm\",\"tier\":\"s\",\"result\":1,"
              "\"expires_us\":1}\n",
     ":2: entry has no string \"prompt\""},
    {header + good.substr(0, good.size() - 1), ":2: truncated line"},
    {"{\"format\":\"other\"}\n" + good, ":1: not a cache file"},
    {"", ":1: empty file"},
  };
  for (const auto& c : cases) {
    test::write_text(file, c.text);
    result_cache cache;
    const auto loaded = cache.load(file, t0);
    ASSERT_FALSE(loaded.ok()) << c.text;
    EXPECT_NE(loaded.error().message.find(file.string() + c.expected),
              std::string::npos)
      << loaded.error().message;
    EXPECT_EQ(cache.size(), 0u);
  }
}

TEST(result_cache_test, save_into_an_unwritable_place_is_an_error) {
  test::temp_dir dir;
  test::write_text(dir.path() / "plain", "x");
  result_cache cache;
  ASSERT_TRUE(cache.admit(llm_key("q"), 1, true, 1h, t0));
  const auto err = cache.save(dir.path() / "plain" / "cache.jsonl", t0);
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("plain"), std::string::npos) << err->message;
}

} // namespace
} // namespace troupe::runtime
