// Secure aggregation's arithmetic (docs/DESIGN.md §7 step 3, the option): each participant encodes its weighted update
// n_i * x_i in fixed point (kFractionBits fractional bits, two's complement in Z_2^32) and adds a pairwise mask
// for every other participant of the round (crypto/pairwise_mask.h: +mask toward higher public keys, -mask
// toward lower ones). Every mask cancels in the sum over all participants, so the aggregator learns only
// sum_i n_i x_i (to 2^-kFractionBits per participant) — never one participant's update.
//
// Overflow: a participant refuses to encode when |n_i x_i| * participants could leave the int32 range, which
// bounds the sum too.
//
// Mask keys travel signed: each participant signs "sliceguard-mask-key-v1" || round || mask key with its identity
// key (the client enclave's attested Ed25519 key, federated/peer_attestation.h), and every participant checks the
// whole set before masking (checked_participants), so an aggregator cannot swap an honest participant's key for
// its own. It can still present identities of its own making: the other participants know no list of honest
// identities, which is why each client's job sets a minimum set size. masked_rounds.h runs the rounds.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/key_exchange.h"
#include "crypto/signing.h"

namespace sg::federated {

inline constexpr int kFractionBits = 16;

// round(value * weight * 2^kFractionBits) mod 2^32; throws std::overflow_error naming the bound.
std::vector<uint32_t> encode_weighted(const std::vector<float>& values, double weight, int participants);

// The update masked for a round among `participants` (their mask public keys, this one's included).
// Throws std::invalid_argument when `mine` is not among them or a key is unusable.
std::vector<uint32_t> mask_update(std::vector<uint32_t> encoded, const crypto::KxKeyPair& mine,
                                  const std::vector<crypto::KxPublicKey>& participants, uint64_t round);

// The aggregator: sums masked updates mod 2^32 and decodes sum_i n_i x_i / total_weight.
std::vector<float> unmask_average(const std::vector<std::vector<uint32_t>>& masked, double total_weight);

// A participant's mask key for a round, signed by its identity key.
struct MaskKeyAnnouncement {
  crypto::VerifyKey identity{};
  crypto::KxPublicKey mask_key{};
  crypto::Signature signature{};
};

MaskKeyAnnouncement announce_mask_key(const crypto::SigningKeyPair& identity, const crypto::KxPublicKey& mask_key, int round);
// Whether the announcement's signature is its identity's over (round, mask key).
bool signed_by_its_identity(const MaskKeyAnnouncement& announcement, int round);

// A round's participant set as a participant must see it before masking: every announcement signed by its
// identity for this round, identities and keys distinct, `mine` among them, at least `min_participants`.
// Returns the mask keys, sorted; throws std::invalid_argument naming what is wrong.
std::vector<crypto::KxPublicKey> checked_participants(const std::vector<MaskKeyAnnouncement>& set,
                                                      const MaskKeyAnnouncement& mine, int round, int min_participants);

nlohmann::json to_json(const MaskKeyAnnouncement& announcement);
// Throws std::invalid_argument for a malformed announcement.
MaskKeyAnnouncement announcement_from_json(const nlohmann::json& j);

}  // namespace sg::federated
