#include "federated/secure_aggregation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

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

}  // namespace sg::federated
