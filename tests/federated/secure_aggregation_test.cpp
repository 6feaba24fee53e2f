// Secure aggregation's arithmetic: pairwise masks (X25519 seeds, ChaCha20 expansion) cancel exactly in the sum,
// the decoded sum is the sample-weighted FedAvg to fixed-point precision, one masked update reveals nothing of
// its encoding, and overflow is refused.
#include <gtest/gtest.h>

#include <random>

#include "crypto/pairwise_mask.h"
#include "crypto/signing.h"
#include "federated/client_state.h"
#include "federated/secure_aggregation.h"

namespace sg::federated {
namespace {

std::vector<float> random_update(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);   // test data only; the masks come from ChaCha20
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

struct Participant {
  crypto::KxKeyPair keys = crypto::KxKeyPair::generate();
  std::vector<float> update;
  double samples;
};

TEST(SecureAggregation, PairwiseSeedsAgreeAndDifferPerPair) {
  auto a = crypto::KxKeyPair::generate(), b = crypto::KxKeyPair::generate(), c = crypto::KxKeyPair::generate();
  auto ab = crypto::pairwise_mask_seed(a, b.public_key).value();
  auto ba = crypto::pairwise_mask_seed(b, a.public_key).value();
  auto ac = crypto::pairwise_mask_seed(a, c.public_key).value();
  EXPECT_EQ(ab.view().to_bytes(), ba.view().to_bytes());
  EXPECT_NE(ab.view().to_bytes(), ac.view().to_bytes());
}

TEST(SecureAggregation, MasksCancelExactlyAndTheSumIsFedAvg) {
  const std::size_t n = 4096;
  std::vector<Participant> parties(4);
  double total = 0;
  for (std::size_t i = 0; i < parties.size(); ++i) {
    parties[i].update = random_update(n, unsigned(i));
    parties[i].samples = 100.0 * double(i + 1);
    total += parties[i].samples;
  }
  std::vector<crypto::KxPublicKey> keys;
  for (const auto& p : parties) keys.push_back(p.keys.public_key);
  std::vector<std::vector<uint32_t>> masked;
  std::vector<uint32_t> plain_sum(n, 0);
  for (const auto& p : parties) {
    const auto encoded = encode_weighted(p.update, p.samples, int(parties.size()));
    for (std::size_t i = 0; i < n; ++i) plain_sum[i] += encoded[i];
    auto m = mask_update(encoded, p.keys, keys, /*round=*/7);
    std::size_t same = 0;
    for (std::size_t i = 0; i < n; ++i) same += m[i] == encoded[i];
    EXPECT_LT(same, 8u) << "a masked update must not show its encoding";
    masked.push_back(std::move(m));
  }
  std::vector<uint32_t> masked_sum(n, 0);
  for (const auto& m : masked)
    for (std::size_t i = 0; i < n; ++i) masked_sum[i] += m[i];
  EXPECT_EQ(masked_sum, plain_sum);   // every pairwise mask cancelled, bit for bit

  const auto average = unmask_average(masked, total);
  for (std::size_t i = 0; i < n; ++i) {
    double fedavg = 0;
    for (const auto& p : parties) fedavg += p.samples * p.update[i];
    fedavg /= total;
    // Each participant rounds to 2^-16 before dividing by the total weight.
    ASSERT_NEAR(average[i], fedavg, parties.size() * std::ldexp(0.5, -kFractionBits) / total + 1e-7) << i;
  }
}

TEST(SecureAggregation, ARoundsMasksAreFreshAndAMissingParticipantBreaksTheSum) {
  Participant a, b;
  a.update = random_update(256, 1);
  const std::vector<crypto::KxPublicKey> keys = {a.keys.public_key, b.keys.public_key};
  const auto encoded = encode_weighted(a.update, 1.0, 2);
  EXPECT_NE(mask_update(encoded, a.keys, keys, 1), mask_update(encoded, a.keys, keys, 2));
  // Without b's masked update the sum stays masked: the aggregator cannot recover a's update alone.
  const auto alone = unmask_average({mask_update(encoded, a.keys, keys, 1)}, 1.0);
  std::size_t close = 0;
  for (std::size_t i = 0; i < alone.size(); ++i) close += std::fabs(alone[i] - a.update[i]) < 1e-3;
  EXPECT_LT(close, 4u);
}

TEST(SecureAggregation, RefusesOverflowAndStrangers) {
  EXPECT_THROW(encode_weighted({1.0f}, 20000.0, 3), std::overflow_error);   // 20000 * 2^16 * 3 > 2^31
  EXPECT_NO_THROW(encode_weighted({1.0f}, 10000.0, 3));
  EXPECT_THROW(encode_weighted({std::nanf("")}, 1.0, 1), std::overflow_error);
  Participant a, b, stranger;
  EXPECT_THROW(mask_update({1, 2, 3}, stranger.keys, {a.keys.public_key, b.keys.public_key}, 0), std::invalid_argument);
}

// What a participant checks of the set the server shows it before masking: every mask key signed by its identity
// for this round, its own announcement unchanged, no repeated identity, and at least its job's minimum. Each
// check refuses a way an aggregator could learn one update from a sum.
MaskKeyAnnouncement fresh_keys(const crypto::SigningKeyPair& id, int round, int min_participants = 3) {
  return announce_mask_key(id, crypto::KxKeyPair::generate().public_key, crypto::KxKeyPair::generate().public_key,
                           min_participants, round);
}

// What a participant checks of the set the server shows it before sharing: every announcement signed by its
// identity for this round, its own unchanged, no repeated identity, and at least every member's minimum. Each
// check refuses a way an aggregator could learn one update from a sum.
TEST(SecureAggregation, AParticipantChecksTheSetBeforeMasking) {
  std::vector<crypto::SigningKeyPair> ids;
  std::vector<MaskKeyAnnouncement> set;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(crypto::SigningKeyPair::generate());
    set.push_back(fresh_keys(ids.back(), 4));
  }
  const auto mine = set[0];
  auto refused = [&](std::vector<MaskKeyAnnouncement> shown, const MaskKeyAnnouncement& as, const std::string& why) {
    try {
      (void)checked_participants(shown, as, 4);
      ADD_FAILURE() << "accepted a set that " << why;
    } catch (const std::invalid_argument& e) {
      SCOPED_TRACE(why);
      EXPECT_NE(std::string(e.what()).find("secure aggregation"), std::string::npos) << e.what();
    }
  };
  EXPECT_EQ(checked_participants(set, mine, 4).size(), 3u);   // positive control
  auto wants_four = set;
  wants_four[0] = fresh_keys(ids[0], 4, /*min_participants=*/4);
  refused(wants_four, wants_four[0], "is below this client's minimum");
  auto another_wants_four = set;
  another_wants_four[2] = fresh_keys(ids[2], 4, /*min_participants=*/4);
  refused(another_wants_four, mine, "is below another member's minimum");
  refused({set[0], set[1]}, mine, "is {victim, one other} (a Sybil pair)");
  auto unsigned_key = set;
  unsigned_key[1].signature = {};
  refused(unsigned_key, mine, "carries an unsigned mask key");
  auto swapped = set;
  swapped[2].mask_key = crypto::KxKeyPair::generate().public_key;   // the aggregator's key under a client's identity
  refused(swapped, mine, "carries a key its identity did not sign");
  auto swapped_share_key = set;
  swapped_share_key[2].share_key = crypto::KxKeyPair::generate().public_key;   // the shares would go to the aggregator
  refused(swapped_share_key, mine, "carries a share key its identity did not sign");
  auto lowered = set;
  lowered[1].min_participants = 2;   // a member's minimum rewritten
  refused(lowered, mine, "carries a minimum its identity did not sign");
  auto other_round = set;
  other_round[1] = announce_mask_key(ids[1], set[1].mask_key, set[1].share_key, 3, 3);
  refused(other_round, mine, "carries a key signed for another round");
  auto mine_replaced = set;
  mine_replaced[0] = fresh_keys(ids[0], 4);
  refused(mine_replaced, mine, "shows this client with another key");
  refused({set[1], set[2], fresh_keys(ids[1], 4)}, mine, "leaves this client out");
  refused({set[0], set[1], fresh_keys(ids[1], 4)}, mine, "repeats an identity");
}

// The "masked round" marker is a high-water mark: a server that reports an older round again gets nothing.
TEST(SecureAggregation, AClientEnclaveMasksOnlyInIncreasingRounds) {
  tee::TrustedState trusted;
  ClientState state(trusted);
  EXPECT_NO_THROW(state.refuse_a_second_mask(0));
  state.mark_masked(3);
  EXPECT_THROW(state.refuse_a_second_mask(3), std::invalid_argument);
  EXPECT_THROW(state.refuse_a_second_mask(1), std::invalid_argument);
  EXPECT_THROW(state.mark_masked(2), std::invalid_argument);
  EXPECT_NO_THROW(state.refuse_a_second_mask(4));
}

// The threshold: more than two thirds of the set, never below the largest announced minimum.
TEST(SecureAggregation, TheThresholdIsOverTwoThirdsAndAtLeastEveryMinimum) {
  EXPECT_EQ(recovery_threshold(3, 3), 3);
  EXPECT_EQ(recovery_threshold(4, 3), 3);
  EXPECT_EQ(recovery_threshold(7, 3), 5);
  EXPECT_EQ(recovery_threshold(9, 2), 7);
  EXPECT_EQ(recovery_threshold(9, 8), 8);
  std::vector<MaskKeyAnnouncement> set;
  for (int min : {2, 5, 3, 2, 2}) set.push_back(fresh_keys(crypto::SigningKeyPair::generate(), 0, min));
  EXPECT_EQ(set_threshold(set), 5);
}

}  // namespace
}  // namespace sg::federated
