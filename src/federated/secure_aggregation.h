// Secure aggregation's arithmetic (DESIGN §7 step 3, the option): each participant encodes its weighted update
// n_i * x_i in fixed point (kFractionBits fractional bits, two's complement in Z_2^32) and adds a pairwise mask
// for every other participant of the round (crypto/pairwise_mask.h: +mask toward higher public keys, -mask
// toward lower ones). Every mask cancels in the sum over all participants, so the aggregator learns only
// sum_i n_i x_i (to 2^-kFractionBits per participant) — never one participant's update.
//
// Overflow: a participant refuses to encode when |n_i x_i| * participants could leave the int32 range, which
// bounds the sum too. This is the arithmetic and its tests; the round protocol does not use it yet (participant
// set agreement and Bonawitz-style dropout recovery are not built).
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/key_exchange.h"

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

}  // namespace sg::federated
