// A client enclave's part of secure aggregation (secure_aggregation.h, masked_rounds.h): a fresh mask key per
// round signed by its identity, the participant set checked before anything is masked, and one masked update
// per round, ever (the key is consumed by it and the round marked in the sealed state).
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crypto/envelope.h"
#include "crypto/key_exchange.h"
#include "federated/client_state.h"
#include "federated/secure_aggregation.h"

namespace sg::federated {

class RoundMasking {
 public:
  RoundMasking(ClientState& state, int min_participants) : state_(state), min_participants_(min_participants) {}

  // The announcement of a fresh mask key for `round`, signed by this enclave's identity.
  nlohmann::json join(int round);

  // The round's participant set as the server enclave sent it; throws unless this enclave joined and the set
  // passes checked_participants.
  void accept_participants(const nlohmann::json& participants);

  // The update samples * held, in fixed point, masked against every participant: the tensor "masked" (I32
  // words) and its layout [[name, shape]...]. Throws before join and peers, or for another round.
  std::pair<crypto::Tensor, nlohmann::json> mask(const std::vector<std::pair<std::string, at::Tensor>>& held,
                                                 int64_t samples, int round);

 private:
  ClientState& state_;
  int min_participants_;
  std::unique_ptr<crypto::KxKeyPair> key_;   // this round's mask key ...
  MaskKeyAnnouncement mine_;                 // ... as announced
  int round_ = -1;
  std::vector<crypto::KxPublicKey> peers_;   // every participant's, this one's included
};

}  // namespace sg::federated
