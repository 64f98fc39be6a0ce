// The cluster join proof: HMAC-SHA256 over the nonce and the peer's name.
#include "runtime/cluster_auth.hpp"

#include <gtest/gtest.h>

namespace troupe::runtime {
namespace {

TEST(cluster_auth, nonces_are_fresh_hex) {
  auto a = cluster_nonce(), b = cluster_nonce();
  EXPECT_EQ(64u, a.size());
  EXPECT_NE(a, b);
  EXPECT_EQ(std::string::npos, a.find_first_not_of("0123456789abcdef"));
}

TEST(cluster_auth, proof_matches_an_independent_hmac) {
  // Python: hmac.new(b'key', b'abc\nnode-a', hashlib.sha256).hexdigest()
  EXPECT_EQ("724c400ac11fc7c30e4e05c2394d9e55966204e4693b00d0fb7af25702a413f2",
            cluster_proof("key", "abc", "node-a"));
}

TEST(cluster_auth, only_the_right_secret_nonce_and_name_verify) {
  auto nonce = cluster_nonce();
  auto proof = cluster_proof("s3cret", nonce, "node-b");
  EXPECT_TRUE(cluster_proof_ok("s3cret", nonce, "node-b", proof));
  EXPECT_FALSE(cluster_proof_ok("wrong", nonce, "node-b", proof));
  EXPECT_FALSE(cluster_proof_ok("s3cret", cluster_nonce(), "node-b", proof));
  EXPECT_FALSE(cluster_proof_ok("s3cret", nonce, "node-c", proof));
  EXPECT_FALSE(cluster_proof_ok("s3cret", nonce, "node-b", proof.substr(1)));
  EXPECT_FALSE(cluster_proof_ok("", nonce, "node-b", cluster_proof("", nonce, "node-b")));
}

} // namespace
} // namespace troupe::runtime
