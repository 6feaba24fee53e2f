// A client enclave's part of secure aggregation (masked_rounds.h has the protocol): one SecAggParticipant per
// round, fed with what the server enclave's replies carry and asked for what the requests carry, and one masked
// update per round, ever (the round is marked in the sealed state). The host sees none of it. Its job must name
// a peer policy: every other participant must be a client enclave that policy admits (peer_attestation.h:
// check_fellow_client), so an aggregator cannot fill the set with identities of its own making.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/envelope.h"
#include "crypto/signing.h"
#include "federated/client_state.h"
#include "federated/secagg_participant.h"
#include "tee/policy.h"

namespace sg::federated {

class RoundMasking {
 public:
  // `peer_policy`: the job's policy JSON for fellow client enclaves (empty: join refuses).
  RoundMasking(ClientState& state, int min_participants, const std::string& peer_policy);

  // Requests: the announcement of fresh keys for `round`; the shares for the participant set; the update
  // samples * held in fixed point, masked (the tensor "masked", I32 words, and its layout [[name, shape]...]);
  // the signature over the survivor set; the shares to reveal. Each throws out of order or for another round.
  nlohmann::json join(int round);
  nlohmann::json share(int round);
  std::pair<crypto::Tensor, nlohmann::json> mask(const std::vector<std::pair<std::string, at::Tensor>>& held,
                                                 int64_t samples, int round);
  std::string confirm(int round);
  nlohmann::json reveal(int round);

  // Replies: what the poll `op` (peers, inbox, survivors, confirmations) of `round` brought, once ready;
  // `server_measurement` is the attested server enclave's, which fellow clients' jobs must admit too.
  void accept(const std::string& op, int round, const nlohmann::json& data, const tee::Bytes& server_measurement);

 private:
  SecAggParticipant& current(int round, const char* what);
  void check_fellows(const nlohmann::json& set, const tee::Bytes& server_measurement) const;

  ClientState& state_;
  int min_participants_;
  std::optional<tee::Policy> peer_policy_;
  std::optional<crypto::SigningKeyPair> identity_;
  std::unique_ptr<SecAggParticipant> participant_;
  std::optional<std::vector<MaskKeyAnnouncement>> set_;
  std::optional<std::vector<crypto::VerifyKey>> survivors_;
  std::optional<std::vector<Confirmation>> confirmations_;
};

}  // namespace sg::federated
