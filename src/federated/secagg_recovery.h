// The aggregator's last step of a secure-aggregation round (masked_rounds.h): from the survivors' masked updates
// and the shares they revealed, rebuild each survivor's self-mask seed and each dropped participant's mask key,
// and remove their masks from the sum. What is left is sum_i n_i x_i over the survivors.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "crypto/hash.h"
#include "crypto/signing.h"
#include "federated/secagg_messages.h"

namespace sg::federated {

struct RoundRecovery {
  int round = 0;
  std::vector<MaskKeyAnnouncement> set;                          // U1, sorted by identity (share coordinates)
  std::map<crypto::VerifyKey, crypto::Digest32> commitments;     // of every participant that shared (U2)
  std::vector<crypto::VerifyKey> survivors;                      // whose masked updates are in the sum (U3)
  std::vector<uint32_t> masked_sum;
  std::vector<std::pair<crypto::VerifyKey, std::vector<RevealedShare>>> reveals;   // by revealer
};

// The unmasked sum. Throws std::runtime_error naming the participant whose seed or key does not rebuild (too few
// shares, or a share that is not what was dealt): the round then has no aggregate.
std::vector<uint32_t> recover_sum(const RoundRecovery& recovery);

}  // namespace sg::federated
