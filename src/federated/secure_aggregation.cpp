#include "federated/secure_aggregation.h"

#include <algorithm>
#include <array>
#include <optional>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "crypto/bytes.h"
#include "crypto/pairwise_mask.h"

namespace sg::federated {

std::vector<uint32_t> encode_weighted(const std::vector<float>& values, double weight, int participants) {
  const double scale = std::ldexp(weight, kFractionBits);
  const double bound = double(std::numeric_limits<int32_t>::max()) / double(std::max(participants, 1));
  std::vector<uint32_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = std::nearbyint(double(values[i]) * scale);
    if (!(std::fabs(v) <= bound))   // also catches NaN
      throw std::overflow_error("secure aggregation: element " + std::to_string(i) + " = " + std::to_string(values[i]) +
                                " x weight " + std::to_string(weight) + " does not fit 2^31 / " +
                                std::to_string(participants) + " participants in fixed point (2^-" +
                                std::to_string(kFractionBits) + ")");
    out[i] = uint32_t(int64_t(v));   // two's complement: the sum's wrap-around cancels
  }
  return out;
}

std::vector<uint32_t> mask_update(std::vector<uint32_t> encoded, const crypto::KxKeyPair& mine,
                                  const std::vector<crypto::KxPublicKey>& participants, uint64_t round) {
  if (std::find(participants.begin(), participants.end(), mine.public_key) == participants.end())
    throw std::invalid_argument("secure aggregation: this participant's key is not in the round's set");
  for (const auto& peer : participants) {
    if (peer == mine.public_key) continue;
    auto seed = crypto::pairwise_mask_seed(mine, peer);
    if (!seed) throw std::invalid_argument("secure aggregation: " + seed.error().message);
    crypto::apply_pairwise_mask(encoded, *seed, round, /*subtract=*/peer < mine.public_key);
  }
  return encoded;
}

std::vector<uint32_t> sum_words(const std::vector<std::vector<uint32_t>>& words) {
  if (words.empty()) throw std::invalid_argument("secure aggregation: nothing to sum");
  std::vector<uint32_t> sum(words.front().size(), 0);
  for (const auto& w : words) {
    if (w.size() != sum.size()) throw std::invalid_argument("secure aggregation: updates of different sizes");
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += w[i];
  }
  return sum;
}

std::vector<float> decode_average(const std::vector<uint32_t>& sum, double total_weight) {
  std::vector<float> out(sum.size());
  for (std::size_t i = 0; i < sum.size(); ++i)
    out[i] = float(std::ldexp(double(int32_t(sum[i])), -kFractionBits) / total_weight);
  return out;
}

std::vector<float> unmask_average(const std::vector<std::vector<uint32_t>>& masked, double total_weight) {
  return decode_average(sum_words(masked), total_weight);
}

namespace {

crypto::Bytes announced(const MaskKeyAnnouncement& a, int round) {
  crypto::Bytes min;
  crypto::ByteWriter(min).u64(uint64_t(a.min_participants));
  return round_message("sliceguard-mask-key-v3", round, {a.mask_key, a.share_key, min});
}

}  // namespace

MaskKeyAnnouncement announce_mask_key(const crypto::SigningKeyPair& identity, const crypto::KxPublicKey& mask_key,
                                      const crypto::KxPublicKey& share_key, int min_participants, int round) {
  MaskKeyAnnouncement a{identity.public_key, mask_key, share_key, min_participants, {}};
  a.signature = crypto::sign(identity, announced(a, round));
  return a;
}

bool signed_by_its_identity(const MaskKeyAnnouncement& a, int round) {
  return bool(crypto::verify_signature(a.identity, announced(a, round), a.signature));
}

std::vector<MaskKeyAnnouncement> checked_participants(const std::vector<MaskKeyAnnouncement>& set,
                                                      const MaskKeyAnnouncement& mine, int round) {
  if (int(set.size()) < mine.min_participants)
    throw std::invalid_argument("secure aggregation: the server fixed a participant set of " +
                                std::to_string(set.size()) + "; this client masks its update only among at least " +
                                std::to_string(mine.min_participants) + " (its job's min_participants)");
  if (set.size() > 255)
    throw std::invalid_argument("secure aggregation: a participant set of " + std::to_string(set.size()) +
                                " is over the 255 that secret sharing in GF(2^8) allows");
  std::vector<crypto::KxPublicKey> keys;
  bool mine_seen = false;
  for (const auto& a : set) {
    if (!signed_by_its_identity(a, round))
      throw std::invalid_argument("secure aggregation: the keys of participant " + short_id(a.identity) +
                                  " are not signed by it for round " + std::to_string(round));
    if (a.min_participants < 2 || a.min_participants > int(set.size()))
      throw std::invalid_argument("secure aggregation: participant " + short_id(a.identity) + " masks only among " +
                                  std::to_string(a.min_participants) + ", and the set has " + std::to_string(set.size()));
    keys.push_back(a.mask_key);
    keys.push_back(a.share_key);
    if (a.identity == mine.identity) {
      if (a.mask_key != mine.mask_key || a.share_key != mine.share_key || a.min_participants != mine.min_participants)
        throw std::invalid_argument("secure aggregation: the set shows this client with other keys");
      mine_seen = true;
    }
  }
  if (!mine_seen) throw std::invalid_argument("secure aggregation: this client is not in the participant set");
  auto sorted = set;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.identity < b.identity; });
  std::sort(keys.begin(), keys.end());
  const bool repeated_identity = std::adjacent_find(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
                                   return a.identity == b.identity;
                                 }) != sorted.end();
  if (repeated_identity || std::adjacent_find(keys.begin(), keys.end()) != keys.end())
    throw std::invalid_argument("secure aggregation: the participant set repeats an identity or a key");
  return sorted;
}

int recovery_threshold(int participants, int min_participants) {
  return std::max(2 * participants / 3 + 1, min_participants);
}

int set_threshold(const std::vector<MaskKeyAnnouncement>& set) {
  int min = 0;
  for (const auto& a : set) min = std::max(min, a.min_participants);
  return recovery_threshold(int(set.size()), min);
}

crypto::Digest32 set_digest(const std::vector<MaskKeyAnnouncement>& sorted_set, int round) {
  crypto::Bytes all;
  for (const auto& a : sorted_set) {
    const auto bytes = announced(a, round);
    all.insert(all.end(), a.identity.begin(), a.identity.end());
    all.insert(all.end(), bytes.begin(), bytes.end());
  }
  const auto digest = crypto::blake2b_512({crypto::ByteView("sliceguard-secagg-set-v1"), all});
  crypto::Digest32 out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

crypto::Bytes round_message(const char* label, int round, const std::vector<crypto::ByteView>& parts) {
  crypto::Bytes message;
  crypto::ByteWriter w(message);
  w.raw(crypto::ByteView(label));
  w.u64(uint64_t(round));
  for (const auto& part : parts) w.raw(part);
  return message;
}

crypto::Bytes survivors_message(const std::vector<crypto::VerifyKey>& survivors, int round, const crypto::Digest32& set) {
  std::vector<crypto::ByteView> ids{set};
  for (const auto& id : survivors) ids.emplace_back(id);
  return round_message("sliceguard-secagg-survivors-v1", round, ids);
}

}  // namespace sg::federated
