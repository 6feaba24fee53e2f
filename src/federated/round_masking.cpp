#include "federated/round_masking.h"

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>

#include "rpc/tensor_wire.h"

namespace sg::federated {

nlohmann::json RoundMasking::join(int round) {
  state_.refuse_a_second_mask(round);
  key_ = std::make_unique<crypto::KxKeyPair>(crypto::KxKeyPair::generate());
  round_ = round;
  mine_ = announce_mask_key(state_.identity(), key_->public_key, round);
  return to_json(mine_);
}

void RoundMasking::accept_participants(const nlohmann::json& participants) {
  if (!key_) throw std::invalid_argument("a participant set before this client joined");
  std::vector<MaskKeyAnnouncement> set;
  for (const auto& a : participants) set.push_back(announcement_from_json(a));
  peers_ = checked_participants(set, mine_, round_, min_participants_);
}

std::pair<crypto::Tensor, nlohmann::json> RoundMasking::mask(
    const std::vector<std::pair<std::string, at::Tensor>>& held, int64_t samples, int round) {
  if (!key_ || peers_.empty()) throw std::invalid_argument("masked submit before join and peers");
  if (round != round_) throw std::invalid_argument("masked submit for another round than this client joined");
  state_.refuse_a_second_mask(round);
  state_.mark_masked(round);
  const crypto::KxKeyPair key = std::move(*std::exchange(key_, nullptr));   // consumed: masks nothing else
  std::vector<float> values;
  nlohmann::json layout = nlohmann::json::array();
  for (const auto& [name, param] : held) {
    const auto flat = param.detach().contiguous().flatten();
    values.insert(values.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
    layout.push_back({name, param.sizes().vec()});
  }
  const auto encoded = encode_weighted(values, double(samples), int(peers_.size()));
  const auto masked = mask_update(encoded, key, peers_, uint64_t(round) << 32);
  auto words = torch::empty({int64_t(masked.size())}, torch::kInt32);
  std::memcpy(words.data_ptr<int32_t>(), masked.data(), masked.size() * sizeof(uint32_t));
  return {rpc::to_wire("masked", words), std::move(layout)};
}

}  // namespace sg::federated
