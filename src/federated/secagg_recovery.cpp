#include "federated/secagg_recovery.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "crypto/bytes.h"
#include "crypto/key_exchange.h"
#include "crypto/pairwise_mask.h"
#include "crypto/secret_sharing.h"
#include "federated/secagg_participant.h"

namespace sg::federated {
namespace {

const MaskKeyAnnouncement& announcement_of(const RoundRecovery& r, const crypto::VerifyKey& id) {
  const auto it = std::find_if(r.set.begin(), r.set.end(), [&](const auto& a) { return a.identity == id; });
  if (it == r.set.end()) throw std::runtime_error("secure aggregation: " + short_id(id) + " is not a participant");
  return *it;
}

// Every revealed share of `whose` secret, at its revealer's coordinate.
crypto::SecretKey rebuild(const RoundRecovery& r, const crypto::VerifyKey& whose, const char* what) {
  std::vector<crypto::SecretShare> shares;
  for (const auto& [revealer, revealed] : r.reveals) {
    const auto& who = revealer;   // (clang before 16 cannot capture a structured binding)
    const auto at = std::find_if(r.set.begin(), r.set.end(), [&](const auto& a) { return a.identity == who; });
    for (const auto& share : revealed)
      if (share.of == whose && at != r.set.end())
        shares.push_back({uint8_t(at - r.set.begin() + 1), crypto::SecretKey::copy_of(share.share)});
  }
  auto secret = crypto::combine_shares(shares);
  if (!secret)
    throw std::runtime_error("secure aggregation: the " + std::string(what) + " of " + short_id(whose) +
                             " does not rebuild: " + secret.error().message);
  return std::move(*secret);
}

}  // namespace

std::vector<uint32_t> recover_sum(const RoundRecovery& r) {
  auto sum = r.masked_sum;
  const auto stream = mask_stream(r.round);
  for (const auto& [whose, commitment] : r.commitments) {
    if (std::binary_search(r.survivors.begin(), r.survivors.end(), whose)) {
      const auto seed = rebuild(r, whose, "self-mask seed");
      if (seed_commitment(seed) != commitment)
        throw std::runtime_error("secure aggregation: the self-mask seed rebuilt for " + short_id(whose) +
                                 " does not match its commitment (too few or altered shares)");
      crypto::apply_pairwise_mask(sum, seed, stream, /*subtract=*/true);
      continue;
    }
    // A participant that shared but whose update is missing: remove the masks each survivor added toward it.
    const auto& dropped = announcement_of(r, whose);
    const auto key = crypto::KxKeyPair::from_secret(rebuild(r, whose, "mask key"));
    if (key.public_key != dropped.mask_key)
      throw std::runtime_error("secure aggregation: the mask key rebuilt for " + short_id(whose) +
                               " is not the one it announced (too few or altered shares)");
    for (const auto& survivor : r.survivors) {
      const auto& peer = announcement_of(r, survivor).mask_key;
      auto seed = crypto::pairwise_mask_seed(key, peer);
      if (!seed) throw std::runtime_error("secure aggregation: " + seed.error().message);
      // The survivor subtracted the mask when the dropped key sorts below its own, and added it otherwise.
      crypto::apply_pairwise_mask(sum, *seed, stream, /*subtract=*/peer < dropped.mask_key);
    }
  }
  return sum;
}

}  // namespace sg::federated
