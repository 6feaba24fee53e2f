// Secure aggregation's rounds (masked_rounds.h) with real participants (secagg_participant.h) in one process:
// the sum is the weighted average over the survivors whether nobody, a sharer or a submitter drops out; too few
// survivors close the round without an aggregate; the open round survives a restart; and an aggregator played
// by the test, free to show each participant what it likes, rebuilds no single update.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "crypto/pairwise_mask.h"
#include "crypto/secret_sharing.h"
#include "federated/masked_rounds.h"
#include "federated/secagg_participant.h"
#include "federated/secagg_recovery.h"
#include "federated/secure_aggregation.h"
#include "round_options.h"

namespace sg::federated {
namespace {

using namespace std::chrono_literals;
constexpr std::size_t kWords = 12;   // the layout's 2x3 + 3x2

std::vector<TensorSlot> layout() { return {{"m.lora_A.weight", {2, 3}}, {"m.lora_B.weight", {3, 2}}}; }

struct Client {
  crypto::SigningKeyPair identity = crypto::SigningKeyPair::generate();
  int64_t samples = 1;
  float value = 0;   // every element of its update
  std::unique_ptr<SecAggParticipant> p;
  const crypto::VerifyKey& id() const { return identity.public_key; }
  std::vector<uint32_t> encoded(int participants) const {
    return encode_weighted(std::vector<float>(kWords, value), double(samples), participants);
  }
};

std::vector<Client> make_clients(const std::vector<std::pair<int64_t, float>>& specs, int round, int min_participants) {
  std::vector<Client> out(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    out[i].samples = specs[i].first;
    out[i].value = specs[i].second;
    out[i].p = std::make_unique<SecAggParticipant>(out[i].identity, round, min_participants);
  }
  return out;
}

// Which clients take part in which step: the rest drop out before it.
struct Plan {
  std::vector<int> share, submit, confirm, reveal;
};

// Plays round 0 against `rounds`: every step at `now`, each phase ended by the timeout where someone dropped.
Clock::time_point play_round(MaskedRounds& rounds, std::vector<Client>& clients, const Plan& plan, Clock::time_point now) {
  for (auto& c : clients) EXPECT_TRUE(rounds.join(c.id(), 0, c.p->announcement(), now));
  const auto set = rounds.participants(0, now).value();
  // Ends the phase by its timeout; true when that closed the round.
  auto after_timeout = [&] {
    now += 11s;
    return rounds.maybe_close(now);
  };
  for (int i : plan.share) EXPECT_TRUE(rounds.share(clients[i].id(), 0, clients[i].p->share(set), now));
  if (plan.share.size() < clients.size() && after_timeout()) return now;
  for (int i : plan.submit) {
    clients[i].p->receive(rounds.inbox(clients[i].id(), 0, now).value());
    EXPECT_TRUE(rounds.submit(clients[i].id(), 0, clients[i].samples, clients[i].p->mask(clients[i].encoded(int(set.size()))),
                              layout(), now));
  }
  if (plan.submit.size() < plan.share.size() && after_timeout()) return now;
  const auto survivors = rounds.survivors(0, now).value();
  for (int i : plan.confirm) EXPECT_TRUE(rounds.confirm(clients[i].id(), 0, clients[i].p->confirm(survivors), now));
  if (plan.confirm.size() < plan.submit.size() && after_timeout()) return now;
  const auto confirmations = rounds.confirmations(0, now).value();
  for (int i : plan.reveal) EXPECT_TRUE(rounds.reveal(clients[i].id(), 0, clients[i].p->reveal(confirmations), now));
  if (plan.reveal.size() < plan.confirm.size()) after_timeout();
  return now;
}

// The shares addressed to client i, as an honest aggregator relays them.
std::vector<InboxEntry> inbox_of(const std::vector<Client>& clients, const std::vector<ShareMessage>& sent, std::size_t i) {
  std::vector<InboxEntry> inbox;
  for (std::size_t j = 0; j < clients.size(); ++j)
    for (const auto& s : sent[j].shares)
      if (s.to == clients[i].id()) inbox.push_back({clients[j].id(), s.ciphertext});
  return inbox;
}

// An aggregator (played by the test) that relays honestly up to the masked updates: every client shares among
// all of them and masks. Returns the set (sorted by identity), what each client sent and its masked update.
struct Relayed {
  std::vector<MaskKeyAnnouncement> set;
  std::vector<ShareMessage> sent;
  std::vector<std::vector<uint32_t>> masked;
};
Relayed share_and_mask(std::vector<Client>& clients) {
  Relayed r;
  for (auto& c : clients) r.set.push_back(c.p->announcement());
  for (auto& c : clients) r.sent.push_back(c.p->share(r.set));
  for (std::size_t i = 0; i < clients.size(); ++i) {
    clients[i].p->receive(inbox_of(clients, r.sent, i));
    r.masked.push_back(clients[i].p->mask(clients[i].encoded(int(clients.size()))));
  }
  std::sort(r.set.begin(), r.set.end(), [](const auto& a, const auto& b) { return a.identity < b.identity; });
  return r;
}

float weighted_average(const std::vector<Client>& clients, const std::vector<int>& which) {
  double sum = 0, weight = 0;
  for (int i : which) {
    sum += double(clients[i].samples) * clients[i].value;
    weight += double(clients[i].samples);
  }
  return float(sum / weight);
}

void expect_global(const MaskedRounds& rounds, float expected, int contributors) {
  const auto* global = rounds.global_after(0);
  ASSERT_NE(global, nullptr);
  ASSERT_FALSE(global->empty()) << rounds.last_failure();
  EXPECT_NEAR(global->at("m.lora_A.weight")[1][2].item<float>(), expected, 1e-4);
  EXPECT_NEAR(global->at("m.lora_B.weight")[2][1].item<float>(), expected, 1e-4);
  EXPECT_EQ(global->at("m.lora_B.weight").sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(rounds.contributors(), contributors);
  EXPECT_EQ(rounds.open_round(), 1);
}

const std::vector<std::pair<int64_t, float>> kFour = {{10, 1.0f}, {30, 2.0f}, {60, -1.0f}, {20, 0.5f}};

TEST(SecAggRounds, TheSumOfMaskedUpdatesIsTheWeightedAverage) {
  MaskedRounds rounds(options(4, 4), 3);
  auto clients = make_clients(kFour, 0, 3);
  play_round(rounds, clients, {{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}}, Clock::now());
  expect_global(rounds, weighted_average(clients, {0, 1, 2, 3}), 4);
}

// Client 3 shares, then dies before submitting: its masks toward the others are removed with its mask key, rebuilt
// from the survivors' shares, and the round closes with the survivors' average.
TEST(SecAggRounds, ADropoutAfterSharingIsRecoveredFromShares) {
  MaskedRounds rounds(options(4, 3), 3);
  auto clients = make_clients(kFour, 0, 3);
  play_round(rounds, clients, {{0, 1, 2, 3}, {0, 1, 2}, {0, 1, 2}, {0, 1, 2}}, Clock::now());
  expect_global(rounds, weighted_average(clients, {0, 1, 2}), 3);
}

// Client 3 submits, then dies: its self-mask seed is rebuilt from the others' shares and its update counts.
TEST(SecAggRounds, ADropoutAfterSubmittingIsRecoveredFromShares) {
  MaskedRounds rounds(options(4, 3), 3);
  auto clients = make_clients(kFour, 0, 3);
  play_round(rounds, clients, {{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2}, {0, 1, 2}}, Clock::now());
  expect_global(rounds, weighted_average(clients, {0, 1, 2, 3}), 4);
}

// Three participants with a minimum of three: one dropout leaves fewer than the threshold, and the round closes
// without an aggregate (the sum of two would be too close to one update).
TEST(SecAggRounds, TooFewSurvivorsCloseTheRoundWithoutAnAggregate) {
  MaskedRounds rounds(options(3, 3), 3);
  auto clients = make_clients({{1, 1.0f}, {1, 3.0f}, {1, 100.0f}}, 0, 3);
  play_round(rounds, clients, {{0, 1, 2}, {0, 1}, {0, 1}, {0, 1}}, Clock::now());
  ASSERT_NE(rounds.global_after(0), nullptr);
  EXPECT_TRUE(rounds.global_after(0)->empty());
  EXPECT_EQ(rounds.contributors(), 0);
  EXPECT_NE(rounds.last_failure().find("fewer than the threshold of 3"), std::string::npos) << rounds.last_failure();
  EXPECT_EQ(rounds.open_round(), 1);
}

// The open round survives a restart of the server enclave (its clients mask once per round, so it must be
// finished, not started over): the set, the shares, the masked submissions and their layout come back.
TEST(SecAggRounds, TheOpenRoundSurvivesARestart) {
  MaskedRounds rounds(options(3, 3), 3);
  auto clients = make_clients({{10, 1.0f}, {30, 2.0f}, {60, -1.0f}}, 0, 3);
  const auto now = Clock::now();
  for (auto& c : clients) rounds.join(c.id(), 0, c.p->announcement(), now);
  const auto set = rounds.participants(0, now).value();
  for (auto& c : clients) rounds.share(c.id(), 0, c.p->share(set), now);
  for (int i = 0; i < 2; ++i) {
    clients[i].p->receive(rounds.inbox(clients[i].id(), 0, now).value());
    rounds.submit(clients[i].id(), 0, clients[i].samples, clients[i].p->mask(clients[i].encoded(3)), layout(), now);
  }
  MaskedRounds restored(options(3, 3), 3);
  restored.restore(rounds.snapshot());
  EXPECT_THROW(restored.submit(clients[0].id(), 0, 10, clients[0].encoded(3), layout(), Clock::now()),
               std::invalid_argument);   // its submission survived
  clients[2].p->receive(restored.inbox(clients[2].id(), 0, Clock::now()).value());
  restored.submit(clients[2].id(), 0, 60, clients[2].p->mask(clients[2].encoded(3)), layout(), Clock::now());
  const auto survivors = restored.survivors(0, Clock::now()).value();
  for (auto& c : clients) restored.confirm(c.id(), 0, c.p->confirm(survivors), Clock::now());
  const auto confirmations = restored.confirmations(0, Clock::now()).value();
  for (auto& c : clients) restored.reveal(c.id(), 0, c.p->reveal(confirmations), Clock::now());
  expect_global(restored, weighted_average(clients, {0, 1, 2}), 3);
}

// The aggregator played by the test wants client 0's update x_0. It has y_0 = x_0 + PRG(b_0) + pairwise masks.
// Declaring 0 a dropout to everyone (the old replay attack) gets 0's mask key from the others' shares, but
// nobody then holds a survivor set with 0 in it, so b_0 is never revealed; showing different survivor sets to
// different participants fails because each signs one set and reveals only with a threshold of signatures on it.
TEST(SecAggRounds, AnAggregatorThatLiesAboutDropoutsRebuildsNoSingleUpdate) {
  auto clients = make_clients({{1, 0.25f}, {1, 0.5f}, {1, 0.75f}, {1, 1.0f}, {1, 1.25f}}, 0, 3);
  const auto relayed = share_and_mask(clients);
  ASSERT_EQ(clients[0].p->threshold(), 4);   // floor(2 * 5 / 3) + 1

  // A false dropout: everyone but 0 is shown {1, 2, 3, 4}; client 0 refuses a set without itself.
  std::vector<crypto::VerifyKey> without_0;
  for (int i : {1, 2, 3, 4}) without_0.push_back(clients[i].id());
  std::sort(without_0.begin(), without_0.end());
  EXPECT_THROW(clients[0].p->confirm(without_0), std::invalid_argument);
  std::vector<Confirmation> confirmations;
  for (int i : {1, 2, 3, 4}) confirmations.push_back({clients[i].id(), clients[i].p->confirm(without_0)});
  RoundRecovery recovery{0, relayed.set, {}, without_0, sum_words({relayed.masked.begin() + 1, relayed.masked.end()}), {}};
  for (std::size_t i = 0; i < clients.size(); ++i) recovery.commitments[clients[i].id()] = relayed.sent[i].seed_commitment;
  for (int i : {1, 2, 3, 4}) recovery.reveals.emplace_back(clients[i].id(), clients[i].p->reveal(confirmations));

  // Positive control: what the reveals give is exactly what the protocol allows, the sum of 1..4.
  std::vector<std::vector<uint32_t>> others;
  for (int i : {1, 2, 3, 4}) others.push_back(clients[i].encoded(5));
  EXPECT_EQ(recover_sum(recovery), sum_words(others));

  // Every revealed share of client 0's secrets is of its mask key, none of its seed: with the key rebuilt, every
  // pairwise mask of y_0 comes off, and x_0 + PRG(b_0) is left — the self mask hides x_0.
  std::vector<crypto::SecretShare> key_shares_of_0;
  for (const auto& [revealer, shares] : recovery.reveals) {
    const auto at = std::find_if(relayed.set.begin(), relayed.set.end(), [&](const auto& a) { return a.identity == revealer; });
    for (const auto& r : shares)
      if (r.of == clients[0].id()) key_shares_of_0.push_back({uint8_t(at - relayed.set.begin() + 1), crypto::SecretKey::copy_of(r.share)});
  }
  const auto key = crypto::KxKeyPair::from_secret(crypto::combine_shares(key_shares_of_0).value());
  ASSERT_EQ(key.public_key, clients[0].p->announcement().mask_key);   // the attack got the key
  auto stripped = relayed.masked[0];
  for (int i : {1, 2, 3, 4}) {
    const auto& peer = clients[i].p->announcement().mask_key;
    crypto::apply_pairwise_mask(stripped, crypto::pairwise_mask_seed(key, peer).value(), mask_stream(0),
                                /*subtract=*/peer > key.public_key);
  }
  const auto x0 = clients[0].encoded(5);
  std::size_t same = 0;
  for (std::size_t w = 0; w < kWords; ++w) same += stripped[w] == x0[w];
  EXPECT_LT(same, 2u) << "after removing every pairwise mask, x_0 must still be hidden by its self mask";
}

// Split views with a fake: seven participants (victim D = 0, honest 1..5, and F = 6, whose identity key the
// aggregator holds and signs anything with), threshold floor(14/3) + 1 = 5. Under a majority threshold (4) the
// views {D, 1, 2, F} and {3, 4, 5, F} would each gather 4 signatures, and D's seed and key shares would both be
// revealed; here a survivor set of 4 is refused. With views of 5, D, 1, 2, 3 are shown S_A = {D, 1, 2, 3, F}
// and reveal D's seed share; a set without D then has only 4, 5 and F to sign it: 3 signatures, so they reveal
// nothing.
TEST(SecAggRounds, SplitViewsWithAFakeParticipantRevealNoKeyShare) {
  auto clients = make_clients({{1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 6}, {1, 7}}, 0, 3);
  const auto relayed = share_and_mask(clients);
  EXPECT_EQ(clients[0].p->threshold(), 5);
  const auto digest = set_digest(relayed.set, 0);
  auto view = [&](std::initializer_list<int> members) {
    std::vector<crypto::VerifyKey> ids;
    for (int i : members) ids.push_back(clients[std::size_t(i)].id());
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  auto fake_signature = [&](const std::vector<crypto::VerifyKey>& set) {
    return Confirmation{clients[6].id(), crypto::sign(clients[6].identity, survivors_message(set, 0, digest))};
  };
  for (int i : {0, 1, 2}) EXPECT_THROW(clients[i].p->confirm(view({0, 1, 2, 6})), std::invalid_argument);
  for (int i : {3, 4, 5}) EXPECT_THROW(clients[i].p->confirm(view({3, 4, 5, 6})), std::invalid_argument);
  const auto view_a = view({0, 1, 2, 3, 6}), view_b = view({2, 3, 4, 5, 6});
  std::vector<Confirmation> signed_a{fake_signature(view_a)}, signed_b{fake_signature(view_b)};
  for (int i : {0, 1, 2, 3}) signed_a.push_back({clients[i].id(), clients[i].p->confirm(view_a)});
  for (int i : {4, 5}) signed_b.push_back({clients[i].id(), clients[i].p->confirm(view_b)});
  EXPECT_THROW(clients[2].p->confirm(view_b), std::invalid_argument);   // one set per participant per round
  for (int i : {0, 1, 2, 3}) EXPECT_NO_THROW(clients[i].p->reveal(signed_a));   // 5 signatures: D's seed shares
  auto padded_b = signed_b;
  padded_b.push_back(signed_a[1]);   // an honest signature, but over the other set
  for (int i : {4, 5}) {
    EXPECT_THROW(clients[i].p->reveal(padded_b), std::invalid_argument) << "a signature over another set";
    EXPECT_THROW(clients[i].p->reveal(signed_b), std::invalid_argument) << "3 signatures are below the threshold";
  }
}

// Shares are bound to the set their sender saw: an aggregator that shows client 1 a smaller set than the others
// (both pass every check) gets shares that open for nobody who saw the other set.
TEST(SecAggRounds, SharesMadeForAnotherViewOfTheSetDoNotOpen) {
  auto clients = make_clients({{1, 1.0f}, {1, 2.0f}, {1, 3.0f}, {1, 4.0f}}, 0, 3);
  std::vector<MaskKeyAnnouncement> all, without_3;
  for (auto& c : clients) all.push_back(c.p->announcement());
  without_3 = {all[0], all[1], all[2]};
  std::vector<ShareMessage> sent;
  for (int i : {0, 1, 2, 3}) sent.push_back(clients[i].p->share(i == 1 ? without_3 : all));
  std::vector<InboxEntry> inbox_of_0;
  for (int j : {0, 1, 2, 3})
    for (const auto& s : sent[j].shares)
      if (s.to == clients[0].id()) inbox_of_0.push_back({clients[j].id(), s.ciphertext});
  try {
    clients[0].p->receive(inbox_of_0);
    FAIL() << "client 0 opened shares made for another view of the set";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("do not open for this client"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(short_id(clients[1].id())), std::string::npos) << e.what();
  }
}

// A member that masks only among more than a round can hold is refused at join; one that masks only among more
// than joined is left out of the set, which the others can then agree to.
TEST(SecAggRounds, AMemberAskingForMoreThanTheSetHoldsIsLeftOut) {
  MaskedRounds rounds(options(5, 3), 3);
  auto clients = make_clients({{1, 1.0f}, {1, 2.0f}, {1, 3.0f}}, 0, 3);
  auto demanding = make_clients({{1, 4.0f}}, 0, 5);
  auto impossible = make_clients({{1, 5.0f}}, 0, 6);
  const auto t0 = Clock::now();
  for (auto& c : clients) EXPECT_TRUE(rounds.join(c.id(), 0, c.p->announcement(), t0));
  EXPECT_TRUE(rounds.join(demanding[0].id(), 0, demanding[0].p->announcement(), t0));
  EXPECT_THROW(rounds.join(impossible[0].id(), 0, impossible[0].p->announcement(), t0), std::invalid_argument);
  EXPECT_FALSE(rounds.participants(0, t0 + 5s).has_value());
  const auto set = rounds.participants(0, t0 + 11s).value();   // at the timeout: 4 joined, one wants 5
  ASSERT_EQ(set.size(), 3u);
  for (const auto& a : set) EXPECT_NE(a.identity, demanding[0].id());
  for (auto& c : clients) EXPECT_NO_THROW(c.p->share(set));
}

// A participant refuses what an aggregator could use against it: shares it cannot open, an inbox without
// itself or below the threshold, steps out of order or repeated.
TEST(SecAggRounds, AParticipantRefusesTamperedSharesAndStepsOutOfOrder) {
  auto clients = make_clients({{1, 1.0f}, {1, 2.0f}, {1, 3.0f}}, 0, 3);
  std::vector<MaskKeyAnnouncement> set;
  for (auto& c : clients) set.push_back(c.p->announcement());
  EXPECT_THROW(clients[0].p->mask({1, 2, 3}), std::invalid_argument);   // before its shares
  std::vector<ShareMessage> sent;
  for (auto& c : clients) sent.push_back(c.p->share(set));
  EXPECT_THROW(clients[0].p->share(set), std::invalid_argument);   // once
  auto inbox = [&](std::size_t i) { return inbox_of(clients, sent, i); };
  auto tampered = inbox(0);
  tampered[1].ciphertext[10] ^= 1;
  EXPECT_THROW(clients[0].p->receive(tampered), std::invalid_argument);
  auto misaddressed = inbox(0);
  misaddressed[1] = inbox(2)[1];   // a share meant for client 2
  EXPECT_THROW(clients[0].p->receive(misaddressed), std::invalid_argument);
  auto short_inbox = inbox(0);
  short_inbox.pop_back();
  EXPECT_THROW(clients[0].p->receive(short_inbox), std::invalid_argument);   // 2 < threshold 3
  clients[0].p->receive(inbox(0));
  (void)clients[0].p->mask(clients[0].encoded(3));
  EXPECT_THROW(clients[0].p->mask(clients[0].encoded(3)), std::invalid_argument);   // one masked update per round
  EXPECT_THROW(clients[0].p->confirm({clients[0].id(), clients[1].id()}), std::invalid_argument);   // below threshold
}

}  // namespace
}  // namespace sg::federated
