#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/base/result.hpp"
#include "runtime/value.hpp"

// The result cache: verified step results reused across steps and runs.
// A result is stored under (step kind, model tier, normalized prompt) and
// found again
//   1. exactly: the XXH3 hash of the whole key, confirmed by comparing the
//      full key (a hash collision is never a hit), else
//   2. nearly: an entry of the same kind and tier whose prompt's SimHash
//      (simhash.hpp) is within `max_distance` bits of the prompt's, found
//      through four tables of 16-bit SimHash bands. Two fingerprints within
//      3 bits agree on at least one of the four bands (pigeonhole), so a
//      lookup scans only the entries sharing a band, not the whole cache.
//      A one-word edit changes up to three shingles: on a prompt of a few
//      hundred words that moves the SimHash by about 0-3 bits, while on a
//      short prompt it can move it further, so short prompts mostly hit
//      only exactly (SimHash suits long, document-carrying prompts).
// Only verified results go in; each has its own time to live; the cache
// holds at most `capacity` entries and evicts the least recently used.

namespace troupe::runtime {

using base::result;

/// What a result is stored under. `prompt` may be raw: the cache
/// normalizes it (normalize_prompt()). `kind` and `tier` match exactly.
struct cache_key {
  std::string kind;   ///< The step kind: "llm", "plan", "tool:http_get"...
  std::string tier;   ///< The model (or tier) that produced the result.
  std::string prompt; ///< The rendered prompt (or tool arguments as text).
};

/// Sizing and matching. `max_distance` is the largest Hamming distance a
/// near hit may have; every entry within it is found when it is at most 3
/// (above 3, only entries that also agree on one 16-bit band are found).
struct cache_options {
  std::size_t capacity = 10000; ///< Entries; 0 admits nothing.
  int max_distance = 3;         ///< Negative: exact hits only.
};

/// Counts since construction. Each lookup() adds to exactly one of hits,
/// near_hits and misses; each admit() to admissions or refusals.
struct cache_counters {
  std::uint64_t hits = 0;        ///< Exact-key hits.
  std::uint64_t near_hits = 0;   ///< SimHash hits.
  std::uint64_t misses = 0;
  std::uint64_t admissions = 0;  ///< Results stored (new or replacing).
  std::uint64_t refusals = 0;    ///< Unverified, ttl <= 0 or capacity 0.
  std::uint64_t evictions = 0;   ///< Live entries dropped for capacity.
  std::uint64_t expirations = 0; ///< Entries dropped past their TTL.
};

/// The counters a run's journal shows: hits, near_hits, misses, admissions.
value cache_counters_json(const cache_counters& c);

/// A result served from the cache.
struct cache_hit {
  value result;
  bool exact = false;
  int distance = 0;           ///< SimHash bits apart; 0 for exact hits.
  std::string matched_prompt; ///< The stored entry's normalized prompt.
};

/// A cache file that could not be written or read; `message` names the
/// file (and line, for a corrupt entry) and the cause.
struct cache_error {
  std::filesystem::path path;
  std::string message;
};

/// Invariants: every entry in `lru_` (most recently used first) appears
/// once in `exact_` under its key hash and once in each of `bands_[b]`
/// under band_key(group hash, band b of its SimHash); no two entries have
/// the same (kind, tier, prompt); lru_.size() <= options_.capacity.
/// Thread-compatible: the cache actor that owns it serializes every call.
/// Time is passed in (`now`), so tests control it; the wall clock is used
/// because expiry times are saved and read back by later runs.
class result_cache {
public:
  using clock = std::chrono::system_clock;
  using time_point = clock::time_point;

  explicit result_cache(cache_options options = {});

  /// The live entry for `key`: an exact hit when one exists, else the
  /// nearest entry of the same kind and tier within max_distance (ties go
  /// to the most recently used). Expired entries met on the way are
  /// removed and counted, never served. A hit becomes the most recently
  /// used entry.
  std::optional<cache_hit> lookup(const cache_key& key, time_point now);

  /// Stores `result` under `key` for `ttl` from `now`, replacing an entry
  /// with the same key, and evicts least recently used entries beyond
  /// capacity. Returns false, storing nothing, when `verified` is false
  /// (only results that passed their step's verifier may be reused), when
  /// `ttl` is not positive (a step with `cache: 0s`), or when the capacity
  /// is 0.
  bool admit(const cache_key& key, value result, bool verified,
             std::chrono::milliseconds ttl, time_point now);

  /// Removes every entry expired at `now`; returns how many.
  std::size_t purge_expired(time_point now);

  std::size_t size() const {
    return lru_.size();
  }

  const cache_counters& counters() const {
    return counters_;
  }

  const cache_options& options() const {
    return options_;
  }

  /// Writes the entries live at `now` to `path` as JSONL (a header line,
  /// then one entry per line, least recently used first), atomically: a
  /// temporary file beside it is synced and renamed over `path`, so a
  /// crash leaves the old file or the new one. Creates missing parent
  /// directories. Returns the error with strerror() text on failure.
  std::optional<cache_error> save(const std::filesystem::path& path,
                                  time_point now) const;

  /// Adds the entries saved in `path` that are still live at `now`,
  /// keeping their order of use (capacity applies; loaded entries are not
  /// counted as admissions). A missing file loads nothing: no run has
  /// saved a cache yet. A corrupt file is a cache_error naming the line,
  /// and then nothing is added. Returns the number of entries added.
  result<std::size_t, cache_error> load(const std::filesystem::path& path,
                                        time_point now);

private:
  struct entry {
    std::string kind;
    std::string tier;
    std::string prompt; // normalized
    value result;
    std::int64_t expires_us = 0;
    std::uint64_t key_hash = 0;
    std::uint64_t group_hash = 0; // of (kind, tier)
    std::uint64_t simhash = 0;
    std::uint64_t last_used = 0;  // use_tick_ at the last hit or admit
  };
  using entry_it = std::list<entry>::iterator;
  using index = std::unordered_map<std::uint64_t, std::vector<entry_it>>;

  std::optional<entry_it> find_exact(const entry& probe);
  std::optional<cache_hit> find_near(const entry& probe, std::int64_t now_us);
  void insert(entry e);
  void touch(entry_it it);
  void remove(entry_it it);
  void evict_beyond_capacity();

  cache_options options_;
  cache_counters counters_;
  std::list<entry> lru_;
  index exact_;
  std::array<index, 4> bands_;
  std::uint64_t use_tick_ = 0;
};

} // namespace troupe::runtime
