#include "federated/round_masking.h"

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>

#include "federated/peer_attestation.h"
#include "federated/secure_aggregation.h"
#include "federated/server_protocol.h"
#include "rpc/tensor_wire.h"

namespace sg::federated {
namespace {

template <class T>
const T& received(const std::optional<T>& value, const char* what) {
  if (!value) throw std::invalid_argument(std::string("secure aggregation: '") + what + "' before its phase's reply");
  return *value;
}

}  // namespace

RoundMasking::RoundMasking(ClientState& state, int min_participants, const std::string& peer_policy)
    : state_(state), min_participants_(min_participants) {
  if (!peer_policy.empty()) peer_policy_ = tee::Policy::parse(peer_policy, "the job's peer_policy").value();
}

SecAggParticipant& RoundMasking::current(int round, const char* what) {
  if (!participant_ || participant_->round() != round)
    throw std::invalid_argument(std::string("secure aggregation: '") + what + "' for round " + std::to_string(round) +
                                ", which this client did not join");
  return *participant_;
}

nlohmann::json RoundMasking::join(int round) {
  if (!peer_policy_)
    throw std::invalid_argument("secure aggregation needs this client's job to name the client enclaves it masks "
                                "among (peer_policy: client --peer-policy, or with sim --sim-peer-platform); without "
                                "it the server could fill the set with identities of its own making");
  state_.refuse_a_second_mask(round);
  if (!identity_) identity_.emplace(state_.identity());
  participant_ = std::make_unique<SecAggParticipant>(*identity_, round, min_participants_);
  set_.reset();
  survivors_.reset();
  confirmations_.reset();
  return participant_->announcement();
}

nlohmann::json RoundMasking::share(int round) {
  return current(round, ops::Share::kName).share(received(set_, ops::Share::kName));
}

std::pair<crypto::Tensor, nlohmann::json> RoundMasking::mask(
    const std::vector<std::pair<std::string, at::Tensor>>& held, int64_t samples, int round) {
  auto& participant = current(round, "masked submit");
  std::vector<float> values;
  nlohmann::json layout = nlohmann::json::array();
  for (const auto& [name, param] : held) {
    const auto flat = param.detach().contiguous().flatten();
    values.insert(values.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
    layout.push_back({name, param.sizes().vec()});
  }
  const auto encoded = encode_weighted(values, double(samples), int(received(set_, "masked submit").size()));
  state_.mark_masked(round);
  const auto masked = participant.mask(encoded);
  auto words = torch::empty({int64_t(masked.size())}, torch::kInt32);
  std::memcpy(words.data_ptr<int32_t>(), masked.data(), masked.size() * sizeof(uint32_t));
  return {rpc::to_wire("masked", words), std::move(layout)};
}

std::string RoundMasking::confirm(int round) {
  return crypto::to_hex(current(round, ops::Confirm::kName).confirm(received(survivors_, ops::Confirm::kName)));
}

nlohmann::json RoundMasking::reveal(int round) {
  return current(round, ops::Reveal::kName).reveal(received(confirmations_, ops::Reveal::kName));
}

void RoundMasking::check_fellows(const nlohmann::json& set, const tee::Bytes& server_measurement) const {
  const auto& me = participant_->announcement().identity;
  for (const auto& entry : set) {
    const auto announced = entry.get<MaskKeyAnnouncement>();
    if (announced.identity == me) continue;
    const auto who = short_id(announced.identity);
    if (!entry.contains("attestation"))
      throw std::invalid_argument("secure aggregation: participant " + who + " comes without its attestation");
    auto identity = check_fellow_client(entry["attestation"], *peer_policy_, server_measurement);
    if (!identity)
      throw std::invalid_argument("secure aggregation: participant " + who + " is not a client enclave this job's "
                                  "peer_policy admits: " + identity.error().message);
    if (*identity != announced.identity)
      throw std::invalid_argument("secure aggregation: participant " + who + " shows another enclave's attestation");
  }
}

void RoundMasking::accept(const std::string& op, int round, const nlohmann::json& data,
                          const tee::Bytes& server_measurement) {
  if (op == ops::Peers::kName) {
    current(round, op.c_str());
    check_fellows(data, server_measurement);
    set_ = data.get<std::vector<MaskKeyAnnouncement>>();
  } else if (op == ops::Inbox::kName) {
    current(round, op.c_str()).receive(data.get<std::vector<InboxEntry>>());
  } else if (op == ops::Survivors::kName) {
    current(round, op.c_str());
    survivors_ = identities_from_json(data, "the survivor set");
  } else if (op == ops::Confirmations::kName) {
    current(round, op.c_str());
    confirmations_ = data.get<std::vector<Confirmation>>();
  }
}

}  // namespace sg::federated
