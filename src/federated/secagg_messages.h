// Secure aggregation's messages (the protocol is in masked_rounds.h) and their JSON form: binary fields in hex,
// each checked for its length, and a clear std::invalid_argument naming the field otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/bytes.h"
#include "crypto/hash.h"
#include "crypto/key_exchange.h"
#include "crypto/signing.h"

namespace sg::federated {

// The bytes of one secret share (of a 32-byte seed or X25519 key).
inline constexpr std::size_t kSecretShareBytes = 32;

// Step 1, join: a participant's two fresh X25519 keys for a round — the mask key its pairwise masks come from,
// the share key its secret shares travel under — and the smallest set it masks among (its job's
// min_participants, which enters everyone's threshold), signed by its attested identity key.
struct MaskKeyAnnouncement {
  crypto::VerifyKey identity{};
  crypto::KxPublicKey mask_key{};
  crypto::KxPublicKey share_key{};
  int min_participants = 0;
  crypto::Signature signature{};
};

// Step 2, share: the participant's shares of its self-mask seed and mask key, one ciphertext per participant
// (itself included), and a commitment to the seed the aggregator checks what it rebuilds against.
struct EncryptedShares {
  crypto::VerifyKey to{};
  crypto::Bytes ciphertext;
};
struct ShareMessage {
  crypto::Digest32 seed_commitment{};
  std::vector<EncryptedShares> shares;
};

// Step 3's input: the shares addressed to one participant, one per participant that shared (the set U2).
struct InboxEntry {
  crypto::VerifyKey from{};
  crypto::Bytes ciphertext;
};

// Step 4, confirm: a survivor's signature over the set of participants whose masked update the aggregator holds.
struct Confirmation {
  crypto::VerifyKey identity{};
  crypto::Signature signature{};
};

// Step 5, reveal: a survivor's share of one participant's secret — its self-mask seed when that participant
// survived, its mask key when it dropped out; never both.
struct RevealedShare {
  crypto::VerifyKey of{};
  crypto::Bytes share;
};

void to_json(nlohmann::json& j, const MaskKeyAnnouncement& m);
void from_json(const nlohmann::json& j, MaskKeyAnnouncement& m);
void to_json(nlohmann::json& j, const EncryptedShares& m);
void from_json(const nlohmann::json& j, EncryptedShares& m);
void to_json(nlohmann::json& j, const ShareMessage& m);
void from_json(const nlohmann::json& j, ShareMessage& m);
void to_json(nlohmann::json& j, const InboxEntry& m);
void from_json(const nlohmann::json& j, InboxEntry& m);
void to_json(nlohmann::json& j, const Confirmation& m);
void from_json(const nlohmann::json& j, Confirmation& m);
void to_json(nlohmann::json& j, const RevealedShare& m);
void from_json(const nlohmann::json& j, RevealedShare& m);

// The first 16 hex digits of an identity, for messages.
std::string short_id(const crypto::VerifyKey& identity);

// Identities as hex strings, and back (throws for a malformed one).
nlohmann::json identities_to_json(const std::vector<crypto::VerifyKey>& identities);
std::vector<crypto::VerifyKey> identities_from_json(const nlohmann::json& j, const char* what);

}  // namespace sg::federated
