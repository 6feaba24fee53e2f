#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/secret_sharing.h"

namespace {

using namespace sg::crypto;

Bytes bytes_of(const SecretKey& key) { return Bytes(key.data(), key.data() + key.size()); }

std::vector<SecretShare> pick(const std::vector<SecretShare>& shares, const std::vector<int>& which) {
  std::vector<SecretShare> out;
  for (int i : which) out.push_back({shares[std::size_t(i)].x, SecretKey::copy_of(shares[std::size_t(i)].y.view())});
  return out;
}

TEST(SecretSharing, EveryThresholdSubsetRebuildsTheSecret) {
  const auto secret = SecretKey::random(32);
  const auto shares = split_secret(secret, 5, 3);
  ASSERT_EQ(shares.size(), 5u);
  for (int a = 0; a < 5; ++a)
    for (int b = a + 1; b < 5; ++b)
      for (int c = b + 1; c < 5; ++c) {
        auto rebuilt = combine_shares(pick(shares, {c, a, b}));
        ASSERT_TRUE(rebuilt) << rebuilt.error().message;
        EXPECT_EQ(bytes_of(*rebuilt), bytes_of(secret)) << a << b << c;
      }
  auto all = combine_shares(pick(shares, {0, 1, 2, 3, 4}));   // more than the threshold is fine too
  ASSERT_TRUE(all);
  EXPECT_EQ(bytes_of(*all), bytes_of(secret));
}

TEST(SecretSharing, FewerThanTheThresholdGiveAnotherSecret) {
  const auto secret = SecretKey::random(32);
  const auto shares = split_secret(secret, 4, 3);
  auto rebuilt = combine_shares(pick(shares, {0, 3}));
  ASSERT_TRUE(rebuilt);
  EXPECT_NE(bytes_of(*rebuilt), bytes_of(secret));
}

TEST(SecretSharing, SharesAreFreshPerSplit) {
  const auto secret = SecretKey::random(32);
  const auto first = split_secret(secret, 3, 2), second = split_secret(secret, 3, 2);
  EXPECT_NE(bytes_of(first[0].y), bytes_of(second[0].y));   // random coefficients, 2^-256 to collide
}

// Known answer in the AES field: 0x53 * 0xCA = 0x01. The line f(x) = s + 0xCA x passes through (1, s ^ 0xCA) and
// (0x53, s ^ 0x01), and its value at 0 is s.
TEST(SecretSharing, CombinesAKnownLine) {
  const Bytes s = {0x00, 0x7f, 0xff};
  std::vector<SecretShare> shares;
  Bytes at_one = s, at_53 = s;
  for (auto& b : at_one) b ^= 0xca;
  for (auto& b : at_53) b ^= 0x01;
  shares.push_back({1, SecretKey::take(at_one)});
  shares.push_back({0x53, SecretKey::take(at_53)});
  auto rebuilt = combine_shares(shares);
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(bytes_of(*rebuilt), s);
}

TEST(SecretSharing, MalformedSharesAndBoundsAreRefused) {
  EXPECT_THROW((void)split_secret(SecretKey::random(32), 3, 4), std::invalid_argument);
  EXPECT_THROW((void)split_secret(SecretKey::random(32), 256, 2), std::invalid_argument);
  EXPECT_THROW((void)split_secret(SecretKey::random(32), 3, 0), std::invalid_argument);
  EXPECT_FALSE(combine_shares({}));
  const auto shares = split_secret(SecretKey::random(32), 3, 2);
  EXPECT_FALSE(combine_shares(pick(shares, {1, 1})));
  std::vector<SecretShare> zero;
  zero.push_back({0, SecretKey::random(32)});
  zero.push_back({1, SecretKey::random(32)});
  EXPECT_FALSE(combine_shares(zero));
  std::vector<SecretShare> uneven;
  uneven.push_back({1, SecretKey::random(32)});
  uneven.push_back({2, SecretKey::random(16)});
  EXPECT_FALSE(combine_shares(uneven));
}

}  // namespace
