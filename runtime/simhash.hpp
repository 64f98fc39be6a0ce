#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Text fingerprints for the result cache (result_cache.hpp): a normalized
// prompt, its exact 64-bit hash, and its 64-bit SimHash, whose Hamming
// distance to another prompt's SimHash is small when the two prompts share
// most of their word sequences.

namespace troupe::runtime {

/// `text` with ASCII letters lower-cased, every run of ASCII whitespace
/// (space, \t, \n, \v, \f, \r) collapsed to one space, and leading and
/// trailing whitespace removed. Bytes >= 0x80 are kept as they are, so
/// UTF-8 passes through unchanged (and non-ASCII letters keep their case).
std::string normalize_prompt(std::string_view text);

/// xxHash XXH3 (64 bits, seed 0) of `bytes`.
std::uint64_t hash64(std::string_view bytes);

/// 64-bit SimHash of `normalized` (the output of normalize_prompt()). The
/// features are word 3-shingles (three consecutive space-separated words),
/// each hashed with hash64() and weighted by how often it occurs; a text
/// of fewer than three words is one feature, and "" hashes to 0. Bit i of
/// the result is set when the features with bit i set outweigh the others.
std::uint64_t simhash64(std::string_view normalized);

/// Number of differing bits between `a` and `b` (0..64).
int hamming_distance(std::uint64_t a, std::uint64_t b);

} // namespace troupe::runtime
