// The server enclave's round bookkeeping: sample-weighted FedAvg, closing on quorum or timeout, refusals, and
// continuing from a snapshot.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <tuple>

#include "federated/aggregator.h"
#include "federated/client_sampler.h"
#include "round_options.h"

namespace sg::federated {
namespace {

using namespace std::chrono_literals;

NamedTensors adapter(float a, float b) {
  return {{"m.lora_A.weight", torch::full({2, 3}, a)}, {"m.lora_B.weight", torch::full({3, 2}, b)}};
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
