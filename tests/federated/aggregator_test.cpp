// The server enclave's round bookkeeping: sample-weighted FedAvg, closing on quorum or timeout, refusals, and
// continuing from a snapshot.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <tuple>

#include "federated/aggregator.h"
#include "federated/client_sampler.h"
#include "federated/masked_rounds.h"
#include "federated/secure_aggregation.h"

namespace sg::federated {
namespace {

using namespace std::chrono_literals;

NamedTensors adapter(float a, float b) {
  return {{"m.lora_A.weight", torch::full({2, 3}, a)}, {"m.lora_B.weight", torch::full({3, 2}, b)}};
}

RoundOptions options(int clients, int quorum) {
  RoundOptions o;
  o.rounds = 2;
  o.clients_per_round = clients;
  o.quorum = quorum;
  o.round_timeout = 10s;
  return o;
}

TEST(Aggregator, ClosesWhenEveryClientSubmittedWithTheSampleWeightedAverage) {
  RoundAggregator agg(options(2, 2));
  const auto t0 = Clock::now();
  agg.submit("a", 0, 30, adapter(1, 2), t0);
  EXPECT_FALSE(agg.maybe_close(t0));
  EXPECT_EQ(agg.global_after(0), nullptr);
  agg.submit("b", 0, 10, adapter(5, -2), t0);
  EXPECT_TRUE(agg.maybe_close(t0));
  const auto* global = agg.global_after(0);
  ASSERT_NE(global, nullptr);
  EXPECT_TRUE(torch::allclose(global->at("m.lora_A.weight"), torch::full({2, 3}, 0.75f * 1 + 0.25f * 5)));
  EXPECT_TRUE(torch::allclose(global->at("m.lora_B.weight"), torch::full({3, 2}, 0.75f * 2 + 0.25f * -2)));
  EXPECT_EQ(agg.open_round(), 1);
  EXPECT_EQ(agg.last_contributors(), (std::set<std::string>{"a", "b"}));
}

TEST(Aggregator, ADeadClientDelaysItsRoundOnlyUntilTheTimeoutAndQuorum) {
  RoundAggregator agg(options(3, 2));
  const auto t0 = Clock::now();
  agg.submit("a", 0, 1, adapter(1, 1), t0);
  EXPECT_FALSE(agg.maybe_close(t0 + 11s));   // below quorum: waits, however long
  agg.submit("b", 0, 1, adapter(3, 3), t0 + 1s);
  EXPECT_FALSE(agg.maybe_close(t0 + 9s));    // quorum, but neither full nor timed out
  EXPECT_TRUE(agg.maybe_close(t0 + 10s));
  EXPECT_TRUE(torch::allclose(agg.global_after(0)->at("m.lora_A.weight"), torch::full({2, 3}, 2.0f)));
  EXPECT_THROW(agg.submit("c", 0, 1, adapter(9, 9), t0 + 12s), std::invalid_argument);   // late: round 0 closed
}

TEST(Aggregator, RefusesWhatWouldCorruptTheAverage) {
  RoundAggregator agg(options(2, 2));
  const auto now = Clock::now();
  EXPECT_THROW(agg.submit("a", 1, 1, adapter(1, 1), now), std::invalid_argument);   // not the open round
  EXPECT_THROW(agg.submit("a", 0, 0, adapter(1, 1), now), std::invalid_argument);   // no samples
  agg.submit("a", 0, 1, adapter(1, 1), now);
  EXPECT_THROW(agg.submit("a", 0, 1, adapter(1, 1), now), std::invalid_argument);   // twice
  auto wrong = adapter(1, 1);
  wrong["m.lora_A.weight"] = torch::zeros({3, 3});
  EXPECT_THROW(agg.submit("b", 0, 1, wrong, now), std::invalid_argument);
  auto extra = adapter(1, 1);
  extra["n.lora_A.weight"] = torch::zeros({2, 3});
  EXPECT_THROW(agg.submit("b", 0, 1, extra, now), std::invalid_argument);
  EXPECT_THROW(RoundAggregator(options(2, 3)), std::invalid_argument);   // quorum above clients per round
}

TEST(Aggregator, ASnapshotContinuesTheSameRound) {
  RoundAggregator agg(options(2, 2));
  const auto now = Clock::now();
  agg.submit("a", 0, 1, adapter(1, 1), now);
  agg.submit("b", 0, 1, adapter(3, 3), now);
  ASSERT_TRUE(agg.maybe_close(now));
  agg.submit("a", 1, 2, adapter(4, 4), now);
  RoundAggregator restored(options(2, 2));
  restored.restore(agg.snapshot());
  EXPECT_EQ(restored.open_round(), 1);
  EXPECT_EQ(restored.contributors(), 2);   // who round 0 averaged survives too
  EXPECT_EQ(restored.last_contributors(), (std::set<std::string>{"a", "b"}));
  EXPECT_TRUE(torch::equal(restored.global_after(0)->at("m.lora_A.weight"), agg.global_after(0)->at("m.lora_A.weight")));
  EXPECT_THROW(restored.submit("a", 1, 1, adapter(4, 4), now), std::invalid_argument);   // its submission survived
  restored.submit("b", 1, 1, adapter(1, 1), now);
  ASSERT_TRUE(restored.maybe_close(now));
  EXPECT_TRUE(torch::allclose(restored.global_after(1)->at("m.lora_A.weight"), torch::full({2, 3}, 3.0f)));
  EXPECT_TRUE(restored.finished());
}

// Secure aggregation's rounds: clients join with signed mask keys, the set is fixed, masked updates sum to FedAvg.
struct MaskedClient {
  crypto::SigningKeyPair identity = crypto::SigningKeyPair::generate();
  crypto::KxKeyPair key = crypto::KxKeyPair::generate();
  int64_t samples;
  float value;   // every element of its update
  std::string name() const { return crypto::to_hex(identity.public_key); }
  MaskKeyAnnouncement announcement(int round) const { return announce_mask_key(identity, key.public_key, round); }
};

std::vector<MaskedClient> masked_clients(const std::vector<std::pair<int64_t, float>>& specs) {
  std::vector<MaskedClient> out;
  for (const auto& [samples, value] : specs) out.push_back({crypto::SigningKeyPair::generate(), crypto::KxKeyPair::generate(), samples, value});
  return out;
}

std::vector<TensorSlot> layout() { return {{"m.lora_A.weight", {2, 3}}, {"m.lora_B.weight", {3, 2}}}; }

std::vector<uint32_t> masked_update(const MaskedClient& c, const std::vector<MaskKeyAnnouncement>& set, int round) {
  std::vector<crypto::KxPublicKey> keys;
  for (const auto& a : set) keys.push_back(a.mask_key);
  const auto encoded = encode_weighted(std::vector<float>(12, c.value), double(c.samples), int(keys.size()));
  return mask_update(encoded, c.key, keys, uint64_t(round) << 32);
}

// Every client joins round 0 at `now`; returns the fixed set (throws when the join did not fix it).
std::vector<MaskKeyAnnouncement> join_all(MaskedRounds& rounds, const std::vector<MaskedClient>& clients, Clock::time_point now) {
  for (const auto& c : clients) EXPECT_TRUE(rounds.join(c.name(), 0, c.announcement(0), now));
  return rounds.participants(0, now).value();
}

TEST(MaskedRounds, TheSumOfMaskedUpdatesIsTheWeightedAverage) {
  MaskedRounds rounds(options(3, 3));
  const auto now = Clock::now();
  auto clients = masked_clients({{10, 1.0f}, {30, 2.0f}, {60, -1.0f}});
  const auto set = join_all(rounds, clients, now);
  EXPECT_EQ(set.size(), 3u);
  for (const auto& c : clients) rounds.submit(c.name(), 0, c.samples, masked_update(c, set, 0), layout(), now);
  const auto* global = rounds.global_after(0);
  ASSERT_NE(global, nullptr);
  const float expected = (10 * 1.0f + 30 * 2.0f + 60 * -1.0f) / 100.0f;
  EXPECT_NEAR(global->at("m.lora_A.weight")[1][2].item<float>(), expected, 1e-4);
  EXPECT_EQ(global->at("m.lora_B.weight").sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(rounds.contributors(), 3);
}

// A participant that dies after the set was fixed leaves the sum masked: after the timeout the round closes
// without an aggregate (nobody resubmits under fresh masks, whose sum the server could difference with the
// first), and the next round starts afresh.
TEST(MaskedRounds, ADropoutAfterTheSetIsFixedClosesTheRoundWithoutAnAggregate) {
  MaskedRounds rounds(options(3, 2));
  const auto t0 = Clock::now();
  auto clients = masked_clients({{1, 1.0f}, {1, 3.0f}, {1, 100.0f}});
  const auto set = join_all(rounds, clients, t0);
  for (int i = 0; i < 2; ++i) rounds.submit(clients[i].name(), 0, 1, masked_update(clients[i], set, 0), layout(), t0);
  EXPECT_FALSE(rounds.maybe_close(t0 + 5s));   // the third never submits: the sum is still masked
  EXPECT_EQ(rounds.global_after(0), nullptr);
  EXPECT_TRUE(rounds.maybe_close(t0 + 11s));   // timed out: closed, without an aggregate
  ASSERT_NE(rounds.global_after(0), nullptr);
  EXPECT_TRUE(rounds.global_after(0)->empty());
  EXPECT_EQ(rounds.contributors(), 0);
  EXPECT_EQ(rounds.open_round(), 1);
  EXPECT_THROW(rounds.join(clients[0].name(), 0, clients[0].announcement(0), t0 + 12s), std::invalid_argument);
  EXPECT_TRUE(rounds.join(clients[0].name(), 1, clients[0].announcement(1), t0 + 12s));
  EXPECT_FALSE(rounds.participants(1, t0 + 12s).has_value());   // one participant does not fix the set
}

// The open round survives a restart of the server enclave (its clients mask once per round, so it must be
// finished, not started over): the set, the masked submissions so far and their layout come back.
TEST(MaskedRounds, TheOpenRoundSurvivesARestart) {
  MaskedRounds rounds(options(3, 3));
  const auto now = Clock::now();
  auto clients = masked_clients({{10, 1.0f}, {30, 2.0f}, {60, -1.0f}});
  const auto set = join_all(rounds, clients, now);
  for (int i = 0; i < 2; ++i) rounds.submit(clients[i].name(), 0, clients[i].samples, masked_update(clients[i], set, 0), layout(), now);
  MaskedRounds restored(options(3, 3));
  restored.restore(rounds.snapshot());
  EXPECT_EQ(restored.participants(0, Clock::now())->size(), 3u);
  EXPECT_THROW(restored.submit(clients[0].name(), 0, 10, masked_update(clients[0], set, 0), layout(), Clock::now()),
               std::invalid_argument);   // its submission survived
  restored.submit(clients[2].name(), 0, 60, masked_update(clients[2], set, 0), layout(), Clock::now());
  ASSERT_NE(restored.global_after(0), nullptr);
  EXPECT_NEAR(restored.global_after(0)->at("m.lora_A.weight")[0][0].item<float>(), (10 * 1.0f + 30 * 2.0f + 60 * -1.0f) / 100.0f, 1e-4);
}

TEST(ClientSampler, DrawsPerRoundClientsOnceEveryoneRegisteredOrTheWaitPassed) {
  ClientSampler sampler(3, 2, 10s);
  const auto t0 = Clock::now();
  sampler.register_client("a", t0);
  sampler.register_client("b", t0);
  EXPECT_FALSE(sampler.selected("a", 0, t0 + 5s).has_value());   // waiting for "c"
  sampler.register_client("c", t0 + 6s);
  std::map<std::string, int> drawn;
  for (int round = 0; round < 60; ++round) {
    int in_round = 0;
    for (const char* c : {"a", "b", "c"}) {
      const auto chosen = sampler.selected(c, round, t0 + 6s);
      ASSERT_TRUE(chosen.has_value());
      EXPECT_EQ(chosen, sampler.selected(c, round, t0 + 7s));   // a round's draw is fixed
      in_round += *chosen;
      drawn[c] += *chosen;
    }
    EXPECT_EQ(in_round, 2);
  }
  for (const auto& [client, n] : drawn) EXPECT_GT(n, 20) << client;   // each drawn 40 times expected, not always
  for (const auto& [client, n] : drawn) EXPECT_LT(n, 60) << client;

  ClientSampler late(3, 2, 10s);   // one client never comes: draw among the two after the wait
  late.register_client("a", t0);
  late.register_client("b", t0);
  EXPECT_FALSE(late.selected("a", 0, t0 + 9s).has_value());
  EXPECT_EQ(late.selected("a", 0, t0 + 10s), true);
  EXPECT_EQ(late.selected("b", 0, t0 + 10s), true);
  EXPECT_EQ(ClientSampler(2, 2, 1s).selected("anyone", 0, t0), true);   // no sampling: everyone takes part
}

}  // namespace
}  // namespace sg::federated
