// One participant's side of one secure-aggregation round (masked_rounds.h has the protocol; Bonawitz et al.,
// CCS 2017, with the consistency round of its malicious-server variant). The client enclave runs it
// (round_masking.h); the tests run several in one process against an aggregator they play themselves.
//
// Each step runs once, in order, and refuses otherwise; the secrets leave it only as shares, and the shares
// it holds leave it only in reveal, for the survivor set it signed: a participant's seed share when that
// participant survived, its mask-key share when it did not — never both.
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/hash.h"
#include "crypto/key_exchange.h"
#include "crypto/secret_key.h"
#include "crypto/signing.h"
#include "federated/secagg_messages.h"

namespace sg::federated {

class SecAggParticipant {
 public:
  // Fresh mask and share keys and self-mask seed for `round` (>= 0), announced with `min_participants`;
  // `identity` must outlive the participant.
  SecAggParticipant(const crypto::SigningKeyPair& identity, int round, int min_participants);

  int round() const { return round_; }
  // Step 1: the keys, signed by the identity.
  const MaskKeyAnnouncement& announcement() const { return mine_; }

  // Step 2: the set the aggregator fixed (checked_participants) -> this participant's shares of its seed and
  // mask key, one ciphertext per participant, and the seed's commitment.
  ShareMessage share(const std::vector<MaskKeyAnnouncement>& set);
  // Step 3a: the shares addressed to this participant by every participant that shared (the set U2: at least
  // the threshold, this participant among them, each a member of the fixed set, each share authentic).
  void receive(const std::vector<InboxEntry>& inbox);
  // Step 3b: `encoded` plus the self mask plus a pairwise mask toward every other member of U2. The mask key and
  // seed are wiped after.
  std::vector<uint32_t> mask(std::vector<uint32_t> encoded);
  // Step 4: the survivor set (whose masked updates the aggregator holds: part of U2, at least the threshold,
  // this participant among them), signed.
  crypto::Signature confirm(const std::vector<crypto::VerifyKey>& survivors);
  // Step 5: the survivors' signatures over the set this participant signed (at least the threshold) -> the
  // shares the aggregator needs, one per member of U2. The held shares are wiped after.
  std::vector<RevealedShare> reveal(const std::vector<Confirmation>& confirmations);

  int threshold() const { return threshold_; }

 private:
  enum class Step { joined, shared, received, masked, confirmed, revealed };
  struct Held {
    MaskKeyAnnouncement from;
    crypto::SecretKey seed_share{0};
    crypto::SecretKey key_share{0};
  };
  void expect(Step step, const char* what) const;
  const MaskKeyAnnouncement* member(const crypto::VerifyKey& identity) const;

  const crypto::SigningKeyPair& identity_;
  int round_;
  crypto::KxKeyPair mask_key_;
  crypto::KxKeyPair share_key_;
  crypto::SecretKey seed_;
  MaskKeyAnnouncement mine_;
  Step step_ = Step::joined;
  std::vector<MaskKeyAnnouncement> set_;   // U1, sorted by identity
  crypto::Digest32 set_digest_{};
  int threshold_ = 0;
  std::vector<Held> held_;                 // from every member of U2, sorted by identity
  std::vector<crypto::VerifyKey> survivors_;
};

// The nonce a round's masks expand under (crypto/pairwise_mask.h puts it in the ChaCha20 nonce): every mask key
// and seed is fresh per round, so the nonce only separates what a key would give in different rounds.
inline uint64_t mask_stream(int round) { return uint64_t(round) << 32; }

// The commitment to a self-mask seed; the aggregator checks the seed it rebuilds against it.
crypto::Digest32 seed_commitment(const crypto::SecretKey& seed);

// The AEAD purpose of the shares `from` sends `to` in `round` of the set `set`: a ciphertext opens only where it
// was addressed, for the set its sender saw.
crypto::Bytes share_purpose(const crypto::VerifyKey& from, const crypto::VerifyKey& to, int round,
                            const crypto::Digest32& set);

}  // namespace sg::federated
