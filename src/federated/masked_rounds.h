// The server enclave's rounds under secure aggregation (the option of DESIGN §7 step 3): the enclave learns only
// the sum of the participants' weighted updates. A round runs in attempts:
//
//   join     each client enclave sends a fresh X25519 mask key; the attempt's participant set is fixed when
//            clients_per_round have joined, or after the timeout with at least quorum
//   peers    every participant gets the set's keys and masks its fixed-point update against each of them
//            (secure_aggregation.h)
//   submit   when every participant of the set has submitted, the masks cancel in the sum: the global adapter
//            is sum(n_i x_i) / sum(n_i), and the round closes
//
// Dropouts, a documented subset of Bonawitz et al.: a participant that dies after the set was fixed leaves the
// sum masked; once the timeout passes the attempt is abandoned and the survivors rejoin with fresh keys (each
// attempt's masks are independent, so two attempts' submissions never combine into one update). There is no
// secret sharing of mask seeds, so a dropout costs one attempt rather than being recovered within it.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crypto/key_exchange.h"
#include "federated/aggregator.h"

namespace sg::federated {

// One tensor's place in the flat update vector.
struct TensorSlot {
  std::string name;
  std::vector<int64_t> shape;
};

class MaskedRounds final : public Rounds {
 public:
  explicit MaskedRounds(RoundOptions options);

  int open_round() const override { return round_; }
  bool finished() const override { return round_ >= options_.rounds; }
  const RoundOptions& options() const override { return options_; }
  int attempt() const { return attempt_; }

  // Adds `client` to the open attempt; false when its participant set is already fixed (the round goes on
  // without this client's update).
  bool join(const std::string& client, int round, const crypto::KxPublicKey& mask_key, Clock::time_point now);
  // The attempt's participant keys once its set is fixed (sorted), else nullopt.
  std::optional<std::pair<int, std::vector<crypto::KxPublicKey>>> participants(int round, Clock::time_point now);
  void submit(const std::string& client, int round, int attempt, int64_t samples, std::vector<uint32_t> masked,
              std::vector<TensorSlot> layout, Clock::time_point now);
  // Fixes the set when due; closes the round when every participant submitted; abandons a timed-out attempt.
  bool maybe_close(Clock::time_point now) override;
  // Whether `client` must join again: it was a participant of an attempt of `round` that was abandoned.
  bool must_rejoin(const std::string& client, int round) const;

  const NamedTensors* global_after(int round) const override;
  int contributors() const override { return last_contributors_; }

  // Round and global adapter only: an open round's attempt restarts after an enclave restart.
  std::string snapshot() const override;
  void restore(const std::string& snapshot) override;

 private:
  struct Masked {
    int64_t samples = 0;
    std::vector<uint32_t> words;
  };
  void check_round(int round) const;
  void abandon_attempt();
  void start_round();

  RoundOptions options_;
  int round_ = 0;
  int attempt_ = 0;
  NamedTensors global_;
  int last_contributors_ = 0;
  std::vector<std::pair<std::string, crypto::KxPublicKey>> joined_;   // this attempt's, in join order
  bool fixed_ = false;
  std::optional<Clock::time_point> phase_started_;   // first join, then the moment the set was fixed
  std::vector<std::pair<std::string, Masked>> submitted_;
  std::vector<TensorSlot> layout_;
  std::set<std::string> abandoned_;   // participants of this round's abandoned attempts that have not rejoined
};

}  // namespace sg::federated
