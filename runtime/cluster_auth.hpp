#pragma once

#include <string>
#include <string_view>

/// Joining a cluster: a node hands out a fresh nonce to whoever connects,
/// and gives its executors only to a peer that answers with
/// HMAC-SHA256(secret, nonce || "\n" || peer name). The secret itself never
/// crosses the wire, and a nonce is good for one join. (The transport is
/// not encrypted: run clusters on networks you trust, or over a VPN.)
namespace troupe::runtime {

/// 32 random bytes as 64 hex digits (OpenSSL RAND_bytes). Thread-safe.
std::string cluster_nonce();

/// The proof a peer named `name` sends for `nonce`, as 64 hex digits.
std::string cluster_proof(std::string_view secret, std::string_view nonce,
                          std::string_view name);

/// Whether `proof` is cluster_proof(secret, nonce, name); compares in
/// constant time. An empty secret never verifies.
bool cluster_proof_ok(std::string_view secret, std::string_view nonce, std::string_view name,
                      std::string_view proof);

} // namespace troupe::runtime
