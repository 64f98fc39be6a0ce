#include "runtime/cluster_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace troupe::runtime {

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

} // namespace

std::string cluster_nonce() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed"); // No entropy: nothing safe to do.
  return hex(bytes, sizeof bytes);
}

std::string cluster_proof(std::string_view secret, std::string_view nonce,
                          std::string_view name) {
  std::string msg;
  msg.reserve(nonce.size() + 1 + name.size());
  msg.append(nonce).append("\n").append(name);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), int(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  return hex(mac, len);
}

bool cluster_proof_ok(std::string_view secret, std::string_view nonce, std::string_view name,
                      std::string_view proof) {
  if (secret.empty() || nonce.empty())
    return false;
  auto expected = cluster_proof(secret, nonce, name);
  return proof.size() == expected.size()
         && CRYPTO_memcmp(proof.data(), expected.data(), expected.size()) == 0;
}

} // namespace troupe::runtime
