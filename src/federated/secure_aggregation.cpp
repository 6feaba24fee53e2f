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

std::vector<float> unmask_average(const std::vector<std::vector<uint32_t>>& masked, double total_weight) {
  if (masked.empty()) throw std::invalid_argument("secure aggregation: nothing to sum");
  std::vector<uint32_t> sum(masked.front().size(), 0);
  for (const auto& m : masked) {
    if (m.size() != sum.size()) throw std::invalid_argument("secure aggregation: updates of different sizes");
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += m[i];
  }
  std::vector<float> out(sum.size());
  for (std::size_t i = 0; i < sum.size(); ++i)
    out[i] = float(std::ldexp(double(int32_t(sum[i])), -kFractionBits) / total_weight);
  return out;
}

namespace {

crypto::Bytes announced(const crypto::KxPublicKey& mask_key, int round) {
  crypto::Bytes message;
  crypto::ByteWriter w(message);
  w.raw(crypto::ByteView("sliceguard-mask-key-v1"));
  w.u64(uint64_t(round));
  w.raw(crypto::ByteView(mask_key.data(), mask_key.size()));
  return message;
}

template <std::size_t N>
std::array<uint8_t, N> fixed_hex(const nlohmann::json& j, const char* field) {
  const auto bytes = j.contains(field) && j[field].is_string() ? crypto::from_hex_array<N>(j[field].get<std::string>())
                                                                : std::nullopt;
  if (!bytes)
    throw std::invalid_argument("mask key announcement: '" + std::string(field) + "' must be " + std::to_string(N) +
                                " bytes in hex");
  return *bytes;
}

}  // namespace

MaskKeyAnnouncement announce_mask_key(const crypto::SigningKeyPair& identity, const crypto::KxPublicKey& mask_key, int round) {
  return {identity.public_key, mask_key, crypto::sign(identity, announced(mask_key, round))};
}

bool signed_by_its_identity(const MaskKeyAnnouncement& a, int round) {
  return bool(crypto::verify_signature(a.identity, announced(a.mask_key, round), a.signature));
}

std::vector<crypto::KxPublicKey> checked_participants(const std::vector<MaskKeyAnnouncement>& set,
                                                      const MaskKeyAnnouncement& mine, int round, int min_participants) {
  if (int(set.size()) < min_participants)
    throw std::invalid_argument("secure aggregation: the server fixed a participant set of " +
                                std::to_string(set.size()) + "; this client masks its update only among at least " +
                                std::to_string(min_participants) + " (its job's min_participants)");
  std::vector<crypto::KxPublicKey> keys;
  std::vector<crypto::VerifyKey> identities;
  bool mine_seen = false;
  for (const auto& a : set) {
    if (!signed_by_its_identity(a, round))
      throw std::invalid_argument("secure aggregation: the mask key of participant " + crypto::to_hex(a.identity).substr(0, 16) +
                                  " is not signed by it for round " + std::to_string(round));
    keys.push_back(a.mask_key);
    identities.push_back(a.identity);
    if (a.identity == mine.identity) {
      if (a.mask_key != mine.mask_key)
        throw std::invalid_argument("secure aggregation: the set shows this client with another mask key");
      mine_seen = true;
    }
  }
  if (!mine_seen) throw std::invalid_argument("secure aggregation: this client is not in the participant set");
  std::sort(keys.begin(), keys.end());
  std::sort(identities.begin(), identities.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end() ||
      std::adjacent_find(identities.begin(), identities.end()) != identities.end())
    throw std::invalid_argument("secure aggregation: the participant set repeats an identity or a mask key");
  return keys;
}

nlohmann::json to_json(const MaskKeyAnnouncement& a) {
  return {{"identity", crypto::to_hex(a.identity)}, {"mask_key", crypto::to_hex(a.mask_key)},
          {"signature", crypto::to_hex(a.signature)}};
}

MaskKeyAnnouncement announcement_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("mask key announcement: not a JSON object");
  return {fixed_hex<32>(j, "identity"), fixed_hex<32>(j, "mask_key"), fixed_hex<64>(j, "signature")};
}

}  // namespace sg::federated
