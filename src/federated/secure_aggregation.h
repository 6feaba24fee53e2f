// Secure aggregation's arithmetic and signatures (docs/DESIGN.md §7 step 3, the option; the rounds are in
// masked_rounds.h). Each participant encodes its weighted update n_i * x_i in fixed point (kFractionBits
// fractional bits, two's complement in Z_2^32), adds a self mask expanded from a fresh seed, and a pairwise
// mask for every other participant (crypto/pairwise_mask.h: +mask toward higher mask keys, -mask toward lower
// ones). The pairwise masks cancel in the sum over all participants; the aggregator removes the self masks and
// the masks toward participants that dropped out with secrets rebuilt from shares (secagg_recovery.h), and so
// learns only sum_i n_i x_i (to 2^-kFractionBits per participant) — never one participant's update.
//
// Overflow: a participant refuses to encode when |n_i x_i| * participants could leave the int32 range, which
// bounds the sum too.
//
// Keys travel signed: each participant signs "sliceguard-mask-key-v3" || round || mask key || share key ||
// min_participants with its identity key (the client enclave's attested Ed25519 key, federated/peer_attestation.h),
// and every participant checks the whole set before sharing anything (checked_participants), so an aggregator
// cannot swap an honest participant's keys for its own; that each identity is a client enclave at all, the
// participants check against their jobs' peer policy (round_masking.h).
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "crypto/key_exchange.h"
#include "crypto/signing.h"
#include "federated/secagg_messages.h"

namespace sg::federated {

inline constexpr int kFractionBits = 16;

// round(value * weight * 2^kFractionBits) mod 2^32; throws std::overflow_error naming the bound.
std::vector<uint32_t> encode_weighted(const std::vector<float>& values, double weight, int participants);

// The update masked for a round among `participants` (their mask public keys, this one's included).
// Throws std::invalid_argument when `mine` is not among them or a key is unusable.
std::vector<uint32_t> mask_update(std::vector<uint32_t> encoded, const crypto::KxKeyPair& mine,
                                  const std::vector<crypto::KxPublicKey>& participants, uint64_t round);

// Sums updates mod 2^32; throws for none or different sizes.
std::vector<uint32_t> sum_words(const std::vector<std::vector<uint32_t>>& words);
// The fixed-point sum decoded and divided by the total weight.
std::vector<float> decode_average(const std::vector<uint32_t>& sum, double total_weight);
// decode_average(sum_words(masked)): the average when every mask cancels in the sum.
std::vector<float> unmask_average(const std::vector<std::vector<uint32_t>>& masked, double total_weight);

MaskKeyAnnouncement announce_mask_key(const crypto::SigningKeyPair& identity, const crypto::KxPublicKey& mask_key,
                                      const crypto::KxPublicKey& share_key, int min_participants, int round);
// Whether the announcement's signature is its identity's over (round, mask key, share key, min_participants).
bool signed_by_its_identity(const MaskKeyAnnouncement& announcement, int round);

// A round's participant set as a participant must see it before sharing: every announcement signed by its
// identity for this round, identities and keys distinct, `mine` among them, at least every participant's
// announced min_participants (this one's included). Returns the set sorted by identity (a participant's
// secret-share coordinate is its place in it, from 1); throws std::invalid_argument naming what is wrong.
std::vector<MaskKeyAnnouncement> checked_participants(const std::vector<MaskKeyAnnouncement>& set,
                                                      const MaskKeyAnnouncement& mine, int round);

// How many shares rebuild a participant's secrets in a set of `participants`: more than two thirds (Bonawitz
// et al.'s bound for an active adversary), and never fewer than `min_participants`. An aggregator that showed
// two groups different survivor sets would need t signatures on each; honest participants sign one set, so
// with f colluding participants that takes 2t - f <= n, i.e. f >= 2t - n > n/3.
int recovery_threshold(int participants, int min_participants);
// The threshold of a checked set: recovery_threshold with the largest min_participants any member announced.
int set_threshold(const std::vector<MaskKeyAnnouncement>& set);

// A digest of the checked set (sorted) and round: the shares' AEAD purposes and the survivor-set signatures
// carry it, so no message made for one view of the set passes in another.
crypto::Digest32 set_digest(const std::vector<MaskKeyAnnouncement>& sorted_set, int round);

// What a round's signatures and AEAD purposes cover: label || u64 round || parts, so no message of one kind or
// round passes for another.
crypto::Bytes round_message(const char* label, int round, const std::vector<crypto::ByteView>& parts);

// The survivor set (sorted identities) as a participant signs it for `round` of the set `set_digest`.
crypto::Bytes survivors_message(const std::vector<crypto::VerifyKey>& survivors, int round, const crypto::Digest32& set);

}  // namespace sg::federated
