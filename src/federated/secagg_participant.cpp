#include "federated/secagg_participant.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "crypto/bytes.h"
#include "crypto/pairwise_mask.h"
#include "crypto/sealing.h"
#include "crypto/secret_sharing.h"
#include "federated/secure_aggregation.h"

namespace sg::federated {
namespace {

constexpr std::size_t kSecretBytes = kSecretShareBytes;
const crypto::ByteView kShareKeyLabel("sliceguard-secagg-share-key-v1");

crypto::SecretKey share_key_with(const crypto::KxKeyPair& mine, const crypto::KxPublicKey& peer) {
  auto key = crypto::pairwise_secret(mine, peer, kShareKeyLabel);
  if (!key) throw std::invalid_argument("secure aggregation: " + key.error().message);
  return std::move(*key);
}

bool contains(const std::vector<crypto::VerifyKey>& sorted, const crypto::VerifyKey& id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

// Sorted, and refused when an identity repeats.
std::vector<crypto::VerifyKey> sorted_distinct(std::vector<crypto::VerifyKey> ids, const char* what) {
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
    throw std::invalid_argument(std::string("secure aggregation: the ") + what + " repeats a participant");
  return ids;
}

}  // namespace

crypto::Digest32 seed_commitment(const crypto::SecretKey& seed) {
  const auto digest = crypto::blake2b_512({crypto::ByteView("sliceguard-secagg-seed-v1"), seed.view()});
  crypto::Digest32 out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

crypto::Bytes share_purpose(const crypto::VerifyKey& from, const crypto::VerifyKey& to, int round,
                            const crypto::Digest32& set) {
  return round_message("sliceguard-secagg-share-v2", round, {set, from, to});
}

SecAggParticipant::SecAggParticipant(const crypto::SigningKeyPair& identity, int round, int min_participants)
    : identity_(identity), round_(round), mask_key_(crypto::KxKeyPair::generate()),
      share_key_(crypto::KxKeyPair::generate()), seed_(crypto::SecretKey::random(kSecretBytes)),
      mine_(announce_mask_key(identity, mask_key_.public_key, share_key_.public_key, min_participants, round)) {
  if (round < 0) throw std::invalid_argument("secure aggregation: round " + std::to_string(round) + " is negative");
}

void SecAggParticipant::expect(Step step, const char* what) const {
  if (step_ != step)
    throw std::invalid_argument(std::string("secure aggregation: '") + what + "' out of order for round " +
                                std::to_string(round_) + " (each step runs once, in order)");
}

const MaskKeyAnnouncement* SecAggParticipant::member(const crypto::VerifyKey& identity) const {
  const auto it = std::lower_bound(set_.begin(), set_.end(), identity,
                                   [](const MaskKeyAnnouncement& a, const crypto::VerifyKey& id) { return a.identity < id; });
  return it != set_.end() && it->identity == identity ? &*it : nullptr;
}

ShareMessage SecAggParticipant::share(const std::vector<MaskKeyAnnouncement>& set) {
  expect(Step::joined, "share");
  set_ = checked_participants(set, mine_, round_);
  set_digest_ = set_digest(set_, round_);
  threshold_ = set_threshold(set_);
  const auto seed_shares = crypto::split_secret(seed_, int(set_.size()), threshold_);
  const auto key_shares = crypto::split_secret(mask_key_.secret_key, int(set_.size()), threshold_);
  ShareMessage out{seed_commitment(seed_), {}};
  // crypto::seal is XChaCha20-Poly1305 under a random nonce with the purpose as associated data — the box enclave
  // sealing uses, here under the share key this participant and `to` derive.
  for (std::size_t i = 0; i < set_.size(); ++i) {
    const auto& to = set_[i];
    crypto::SecretKey plaintext(2 * kSecretBytes);
    std::copy_n(seed_shares[i].y.data(), kSecretBytes, plaintext.data());
    std::copy_n(key_shares[i].y.data(), kSecretBytes, plaintext.data() + kSecretBytes);
    out.shares.push_back({to.identity, crypto::seal(share_key_with(share_key_, to.share_key), plaintext.view(),
                                                    share_purpose(mine_.identity, to.identity, round_, set_digest_))});
  }
  step_ = Step::shared;
  return out;
}

void SecAggParticipant::receive(const std::vector<InboxEntry>& inbox) {
  expect(Step::shared, "receive");
  std::vector<crypto::VerifyKey> senders;
  for (const auto& entry : inbox) senders.push_back(entry.from);
  senders = sorted_distinct(std::move(senders), "set of participants that shared");
  if (!contains(senders, mine_.identity))
    throw std::invalid_argument("secure aggregation: the participants that shared do not include this client");
  if (int(senders.size()) < threshold_)
    throw std::invalid_argument("secure aggregation: " + std::to_string(senders.size()) +
                                " participants shared, fewer than the threshold of " + std::to_string(threshold_));
  std::vector<Held> held;
  for (const auto& entry : inbox) {
    const auto* from = member(entry.from);
    if (!from)
      throw std::invalid_argument("secure aggregation: shares from " + short_id(entry.from) + ", not a participant");
    auto plaintext = crypto::unseal(share_key_with(share_key_, from->share_key), entry.ciphertext,
                                    share_purpose(from->identity, mine_.identity, round_, set_digest_));
    if (!plaintext)
      throw std::invalid_argument("secure aggregation: the shares from " + short_id(entry.from) +
                                  " do not open for this client in round " + std::to_string(round_) + " of this set");
    auto secret = crypto::SecretKey::take(*plaintext);   // wiped when it goes, whatever its size
    if (secret.size() != 2 * kSecretBytes)
      throw std::invalid_argument("secure aggregation: the shares from " + short_id(entry.from) + " are malformed");
    Held h{*from, crypto::SecretKey::copy_of(secret.view().subview(0, kSecretBytes)),
           crypto::SecretKey::copy_of(secret.view().subview(kSecretBytes, kSecretBytes))};
    held.push_back(std::move(h));
  }
  std::sort(held.begin(), held.end(), [](const Held& a, const Held& b) { return a.from.identity < b.from.identity; });
  held_ = std::move(held);
  step_ = Step::received;
}

std::vector<uint32_t> SecAggParticipant::mask(std::vector<uint32_t> encoded) {
  expect(Step::received, "mask");
  std::vector<crypto::KxPublicKey> peers;
  for (const auto& h : held_) peers.push_back(h.from.mask_key);
  crypto::apply_pairwise_mask(encoded, seed_, mask_stream(round_), /*subtract=*/false);   // the self mask
  encoded = mask_update(std::move(encoded), mask_key_, peers, mask_stream(round_));
  mask_key_.secret_key = crypto::SecretKey(kSecretBytes);   // wiped: only the shares can rebuild them now
  seed_ = crypto::SecretKey(kSecretBytes);
  step_ = Step::masked;
  return encoded;
}

crypto::Signature SecAggParticipant::confirm(const std::vector<crypto::VerifyKey>& survivors) {
  expect(Step::masked, "confirm");
  auto sorted = sorted_distinct(survivors, "survivor set");
  for (const auto& id : sorted)
    if (std::none_of(held_.begin(), held_.end(), [&](const Held& h) { return h.from.identity == id; }))
      throw std::invalid_argument("secure aggregation: survivor " + short_id(id) + " did not share in this round");
  if (!contains(sorted, mine_.identity))
    throw std::invalid_argument("secure aggregation: the survivor set leaves out this client, which submitted");
  if (int(sorted.size()) < threshold_)
    throw std::invalid_argument("secure aggregation: " + std::to_string(sorted.size()) +
                                " survivors, fewer than the threshold of " + std::to_string(threshold_));
  survivors_ = std::move(sorted);
  step_ = Step::confirmed;
  return crypto::sign(identity_, survivors_message(survivors_, round_, set_digest_));
}

std::vector<RevealedShare> SecAggParticipant::reveal(const std::vector<Confirmation>& confirmations) {
  expect(Step::confirmed, "reveal");
  std::vector<crypto::VerifyKey> signers;
  const auto message = survivors_message(survivors_, round_, set_digest_);
  for (const auto& c : confirmations) {
    if (!contains(survivors_, c.identity))
      throw std::invalid_argument("secure aggregation: a confirmation from " + short_id(c.identity) + ", not a survivor");
    if (!crypto::verify_signature(c.identity, message, c.signature))
      throw std::invalid_argument("secure aggregation: survivor " + short_id(c.identity) +
                                  " did not sign the survivor set this client signed");
    signers.push_back(c.identity);
  }
  signers = sorted_distinct(std::move(signers), "confirmations");
  if (int(signers.size()) < threshold_)
    throw std::invalid_argument("secure aggregation: " + std::to_string(signers.size()) +
                                " survivors confirmed the set, fewer than the threshold of " + std::to_string(threshold_));
  std::vector<RevealedShare> out;
  for (const auto& h : held_) {
    const auto& share = contains(survivors_, h.from.identity) ? h.seed_share : h.key_share;
    out.push_back({h.from.identity, share.view().to_bytes()});
  }
  held_.clear();
  share_key_.secret_key = crypto::SecretKey(kSecretBytes);   // the shares it opened are gone too
  step_ = Step::revealed;
  return out;
}

}  // namespace sg::federated
