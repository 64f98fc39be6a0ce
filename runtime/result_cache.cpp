#include "runtime/result_cache.hpp"

#include <algorithm>
#include <utility>

#include <xxhash.h>

#include "runtime/simhash.hpp"

namespace troupe::runtime {

namespace {

std::int64_t to_us(result_cache::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           t.time_since_epoch())
    .count();
}

// Band b (0..3) of a SimHash: bits [16b, 16b + 16).
std::uint16_t band_of(std::uint64_t simhash, std::size_t b) {
  return static_cast<std::uint16_t>(simhash >> (16 * b));
}

// Where entries of one (kind, tier) group with one band value are listed.
// Mixing the group in keeps different tiers out of each other's buckets.
std::uint64_t band_key(std::uint64_t group_hash, std::uint16_t band) {
  return XXH3_64bits_withSeed(&band, sizeof band, group_hash);
}

template <class Index, class It>
void unlist(Index& index, std::uint64_t key, It it) {
  auto bucket = index.find(key);
  if (bucket == index.end())
    return;
  auto& its = bucket->second;
  its.erase(std::remove(its.begin(), its.end(), it), its.end());
  if (its.empty())
    index.erase(bucket);
}

// Sets the exact-key and group hashes of an entry from its kind, tier and
// (normalized) prompt. NUL separators keep ("ab", "c") and ("a", "bc")
// apart; a remaining collision is caught by the full comparison.
template <class Entry>
void set_key_hashes(Entry& e) {
  std::string text = e.kind;
  text.push_back('\0');
  text += e.tier;
  e.group_hash = hash64(text);
  text.push_back('\0');
  text += e.prompt;
  e.key_hash = hash64(text);
}

} // namespace

result_cache::result_cache(cache_options options)
  : options_(std::move(options)) {
}

std::optional<cache_hit> result_cache::lookup(const cache_key& key,
                                              time_point now) {
  const std::int64_t now_us = to_us(now);
  entry probe;
  probe.kind = key.kind;
  probe.tier = key.tier;
  probe.prompt = normalize_prompt(key.prompt);
  set_key_hashes(probe);
  if (auto it = find_exact(probe)) {
    if ((*it)->expires_us > now_us) {
      touch(*it);
      ++counters_.hits;
      return cache_hit{(*it)->result, true, 0, (*it)->prompt};
    }
    remove(*it);
    ++counters_.expirations;
  }
  if (options_.max_distance >= 0) {
    probe.simhash = simhash64(probe.prompt);
    if (auto hit = find_near(probe, now_us)) {
      ++counters_.near_hits;
      return hit;
    }
  }
  ++counters_.misses;
  return std::nullopt;
}

bool result_cache::admit(const cache_key& key, value result, bool verified,
                         std::chrono::milliseconds ttl, time_point now) {
  if (!verified || ttl.count() <= 0 || options_.capacity == 0) {
    ++counters_.refusals;
    return false;
  }
  entry e;
  e.kind = key.kind;
  e.tier = key.tier;
  e.prompt = normalize_prompt(key.prompt);
  e.result = std::move(result);
  e.expires_us =
    to_us(now) + std::chrono::duration_cast<std::chrono::microseconds>(ttl)
                   .count();
  insert(std::move(e));
  ++counters_.admissions;
  return true;
}

std::size_t result_cache::purge_expired(time_point now) {
  const std::int64_t now_us = to_us(now);
  std::size_t removed = 0;
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->expires_us <= now_us) {
      remove(it);
      ++removed;
    }
    it = next;
  }
  counters_.expirations += removed;
  return removed;
}

std::optional<result_cache::entry_it>
result_cache::find_exact(const entry& probe) {
  const auto bucket = exact_.find(probe.key_hash);
  if (bucket == exact_.end())
    return std::nullopt;
  for (const entry_it it : bucket->second)
    if (it->kind == probe.kind && it->tier == probe.tier
        && it->prompt == probe.prompt)
      return it;
  return std::nullopt;
}

std::optional<cache_hit> result_cache::find_near(const entry& probe,
                                                 std::int64_t now_us) {
  std::vector<entry_it> expired;
  std::optional<entry_it> best;
  int best_distance = 0;
  for (std::size_t b = 0; b < bands_.size(); ++b) {
    const auto bucket =
      bands_[b].find(band_key(probe.group_hash, band_of(probe.simhash, b)));
    if (bucket == bands_[b].end())
      continue;
    for (const entry_it it : bucket->second) {
      if (it->kind != probe.kind || it->tier != probe.tier)
        continue; // a band_key collision between groups
      const int d = hamming_distance(it->simhash, probe.simhash);
      if (d > options_.max_distance)
        continue;
      if (it->expires_us <= now_us) {
        expired.push_back(it);
        continue;
      }
      if (!best || d < best_distance
          || (d == best_distance && it->last_used > (*best)->last_used)) {
        best = it;
        best_distance = d;
      }
    }
  }
  // An entry shares up to four bands with the probe: remove it once.
  std::sort(expired.begin(), expired.end(),
            [](entry_it a, entry_it b) { return &*a < &*b; });
  expired.erase(std::unique(expired.begin(), expired.end()), expired.end());
  for (const entry_it it : expired)
    remove(it);
  counters_.expirations += expired.size();
  if (!best)
    return std::nullopt;
  touch(*best);
  return cache_hit{(*best)->result, false, best_distance, (*best)->prompt};
}

void result_cache::insert(entry e) {
  set_key_hashes(e);
  if (auto existing = find_exact(e)) {
    (*existing)->result = std::move(e.result);
    (*existing)->expires_us = e.expires_us;
    touch(*existing);
    return;
  }
  e.simhash = simhash64(e.prompt);
  e.last_used = ++use_tick_;
  lru_.push_front(std::move(e));
  const entry_it it = lru_.begin();
  exact_[it->key_hash].push_back(it);
  for (std::size_t b = 0; b < bands_.size(); ++b)
    bands_[b][band_key(it->group_hash, band_of(it->simhash, b))].push_back(it);
  evict_beyond_capacity();
}

void result_cache::touch(entry_it it) {
  it->last_used = ++use_tick_;
  lru_.splice(lru_.begin(), lru_, it);
}

void result_cache::remove(entry_it it) {
  unlist(exact_, it->key_hash, it);
  for (std::size_t b = 0; b < bands_.size(); ++b)
    unlist(bands_[b], band_key(it->group_hash, band_of(it->simhash, b)), it);
  lru_.erase(it);
}

void result_cache::evict_beyond_capacity() {
  while (lru_.size() > options_.capacity) {
    remove(std::prev(lru_.end()));
    ++counters_.evictions;
  }
}

value cache_counters_json(const cache_counters& c) {
  return value{{"hits", c.hits}, {"near_hits", c.near_hits}, {"misses", c.misses},
               {"admissions", c.admissions}};
}

} // namespace troupe::runtime
