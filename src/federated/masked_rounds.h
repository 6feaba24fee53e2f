// The server enclave's rounds under secure aggregation (the option of docs/DESIGN.md §7 step 3): the enclave learns only
// the sum of the participants' weighted updates. A round:
//
//   join     each client enclave sends a fresh X25519 mask key, signed by its attested identity key; the
//            participant set is fixed when clients_per_round have joined, or after the timeout with at least
//            quorum
//   peers    every participant gets the set (identity, mask key, signature each), checks it (secure_aggregation.h:
//            signatures, distinct identities, itself included, at least its job's min_participants) and masks its
//            fixed-point update against each of the others
//   submit   when every participant of the set has submitted, the masks cancel in the sum: the global adapter
//            is sum(n_i x_i) / sum(n_i), and the round closes
//
// Dropouts: a participant that dies after the set was fixed leaves the sum masked; once the timeout passes the
// round closes without an aggregate (the global adapter stays as it was) and the clients go on with the next
// round. A client enclave masks one update per round, ever: were the survivors to submit again under fresh
// masks, the difference of two sums would be the missing client's update (the attack an aggregator that
// declares a false dropout would play). Recovering a dropout within the round needs Bonawitz et al.'s
// secret-shared seeds, which this does not build.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/key_exchange.h"
#include "federated/aggregator.h"
#include "federated/secure_aggregation.h"

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

  // Adds `client` (its identity, hex) to the open round with its mask key and the identity's signature over it
  // (relayed as is; the service checks it); false when the participant set is already fixed (the round goes on
  // without this client's update).
  bool join(const std::string& client, int round, const MaskKeyAnnouncement& announcement, Clock::time_point now);
  // The round's participants once its set is fixed (sorted by mask key), else nullopt.
  std::optional<std::vector<MaskKeyAnnouncement>> participants(int round, Clock::time_point now);
  void submit(const std::string& client, int round, int64_t samples, std::vector<uint32_t> masked,
              std::vector<TensorSlot> layout, Clock::time_point now);
  // Fixes the set when due; closes the round when every participant submitted, or without an aggregate once
  // the timeout passes after the set was fixed.
  bool maybe_close(Clock::time_point now) override;

  // The global adapter after `round` closed (empty while no round has closed with an aggregate).
  const NamedTensors* global_after(int round) const override;
  int contributors() const override { return last_contributors_; }

  // Round and global adapter only: an open round starts over after an enclave restart (the clients that had
  // masked their update for it then skip it).
  std::string snapshot() const override;
  void restore(const std::string& snapshot) override;

 private:
  struct Masked {
    int64_t samples = 0;
    std::vector<uint32_t> words;
  };
  void check_round(int round) const;
  void start_round();

  RoundOptions options_;
  int round_ = 0;
  NamedTensors global_;
  int last_contributors_ = 0;
  std::vector<std::pair<std::string, MaskKeyAnnouncement>> joined_;   // this round's, in join order
  bool fixed_ = false;
  std::optional<Clock::time_point> phase_started_;   // first join, then the moment the set was fixed
  std::vector<std::pair<std::string, Masked>> submitted_;
  std::vector<TensorSlot> layout_;
};

}  // namespace sg::federated
