// The server enclave's rounds under secure aggregation (the option of docs/DESIGN.md §7 step 3; Bonawitz et al.,
// CCS 2017, with the consistency round of its malicious-server variant): the enclave learns only the sum of
// the participants' weighted updates, even when participants drop out. A round, in phases:
//
//   join     each client enclave sends fresh mask and share keys, signed by its attested identity key; the set
//            U1 is fixed when clients_per_round have joined, or after the timeout with at least quorum
//   share    each participant checks U1 (secure_aggregation.h: signatures, distinct identities, itself among
//            them, at least every member's announced min_participants, and — with a peer policy — every other
//            member an attested client enclave), splits its self-mask seed and mask key into |U1| shares
//            (threshold t = max(floor(2|U1|/3) + 1, the largest announced min_participants)) and sends each
//            participant its shares, encrypted under their share keys and bound to this set; U2 = those that shared
//   submit   each member of U2 gets the shares addressed to it and submits its fixed-point update plus its self
//            mask plus pairwise masks toward the rest of U2; U3 = those that submitted
//   confirm  each member of U3 signs U3 (with the set's digest); U4 = those that confirmed
//   reveal   each member of U4 checks at least t signatures over the U3 it signed, and reveals, for every
//            member of U2, its share of the seed (a survivor) or of the mask key (a dropout) — never both
//
// The aggregator rebuilds the survivors' seeds and the dropouts' mask keys from the revealed shares
// (secagg_recovery.h) and unmasks the sum: the global adapter is sum(n_i x_i) / sum(n_i) over U3. A phase
// ends when every member of the previous set has acted, or at the timeout with at least t; with fewer, the
// round closes without an aggregate. A client enclave masks one update per round, ever.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "federated/aggregator.h"
#include "federated/secagg_messages.h"

namespace sg::federated {

// One tensor's place in the flat update vector.
struct TensorSlot {
  std::string name;
  std::vector<int64_t> shape;
};

class MaskedRounds final : public Rounds {
 public:
  MaskedRounds(RoundOptions options, int min_participants);

  int open_round() const override { return round_; }
  bool finished() const override { return round_ >= options_.rounds; }
  const RoundOptions& options() const override { return options_; }

  // Each action returns false when its phase has passed (the round goes on without this client); each throws
  // std::invalid_argument for a request that breaks the protocol (another round, a client outside the previous
  // set, a second action, a malformed message).
  bool join(const crypto::VerifyKey& client, int round, const MaskKeyAnnouncement& announcement, Clock::time_point now);
  bool share(const crypto::VerifyKey& client, int round, ShareMessage message, Clock::time_point now);
  bool submit(const crypto::VerifyKey& client, int round, int64_t samples, std::vector<uint32_t> masked,
              std::vector<TensorSlot> layout, Clock::time_point now);
  bool confirm(const crypto::VerifyKey& client, int round, const crypto::Signature& signature, Clock::time_point now);
  bool reveal(const crypto::VerifyKey& client, int round, std::vector<RevealedShare> shares, Clock::time_point now);

  // What each phase hands the clients once it has ended, else nullopt: U1 (sorted by identity), the shares
  // addressed to `client` from U2, U3 (sorted), U4's signatures.
  std::optional<std::vector<MaskKeyAnnouncement>> participants(int round, Clock::time_point now);
  std::optional<std::vector<InboxEntry>> inbox(const crypto::VerifyKey& client, int round, Clock::time_point now);
  std::optional<std::vector<crypto::VerifyKey>> survivors(int round, Clock::time_point now);
  std::optional<std::vector<Confirmation>> confirmations(int round, Clock::time_point now);

  // Ends the phase when due; closes the round after the reveal, or without an aggregate when a phase ends with
  // fewer than the threshold (or the sum does not rebuild: last_failure says why).
  bool maybe_close(Clock::time_point now) override;

  // The global adapter after `round` closed (empty while no round has closed with an aggregate).
  const NamedTensors* global_after(int round) const override;
  int contributors() const override { return last_contributors_; }
  const std::string& last_failure() const { return last_failure_; }

  // The whole state, the open round included: a client enclave masks once per round, so a restarted server
  // must finish the round it had.
  std::string snapshot() const override;
  void restore(const std::string& snapshot) override;

 private:
  enum class Phase { join, share, submit, confirm, reveal };
  struct Participant {
    MaskKeyAnnouncement keys;
    std::optional<ShareMessage> shared;
    int64_t samples = 0;
    std::optional<std::vector<uint32_t>> masked;
    std::optional<crypto::Signature> confirmed;
    std::optional<std::vector<RevealedShare>> revealed;
  };

  static bool acted(const Participant& p, Phase phase);
  static Phase previous(Phase phase);
  std::vector<MaskKeyAnnouncement> fixed_set() const;   // U1 once fixed (sorted by identity)
  void check_round(int round) const;
  // The client's entry when it may act in `phase` now; nullptr once the phase or the round has ended.
  Participant* acting(const crypto::VerifyKey& client, int round, Phase phase, Clock::time_point now);
  bool in_phase(Phase phase) const { return phase_ == phase; }
  // Members of the set the current phase acts on, and those that have acted in it.
  int expected_in_phase() const;
  int acted_in_phase() const;
  void next_phase(Clock::time_point now);
  void close(bool with_aggregate);
  void aggregate();
  std::vector<crypto::VerifyKey> survivor_ids() const;

  RoundOptions options_;
  int min_participants_;
  int round_ = 0;
  NamedTensors global_;
  int last_contributors_ = 0;
  std::string last_failure_;
  Phase phase_ = Phase::join;
  int threshold_ = 0;
  std::vector<Participant> participants_;   // join order until U1 is fixed, then sorted by identity
  std::optional<Clock::time_point> phase_started_;   // the first join, then each phase's start
  std::vector<TensorSlot> layout_;
};

}  // namespace sg::federated
