#include "federated/aggregator_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cstring>
#include <memory>

#include "crypto/bytes.h"
#include "federated/client_sampler.h"
#include "federated/job.h"
#include "federated/masked_rounds.h"
#include "federated/peer_attestation.h"
#include "federated/protocol.h"
#include "split/wire.h"
#include "tee/attestation.h"
#include "tee/enclave_runtime.h"
#include "train/compute_threads.h"

namespace sg::federated {
namespace {

using nlohmann::json;
constexpr const char* kSnapshot = "federated.aggregator";

// A client is its enclave's attested identity key (peer_attestation.h): the same across its sessions.
std::string client_name(const tee::Caller& caller) { return crypto::to_hex(caller.peer); }

class AggregatorService {
 public:
  AggregatorService(ServerJob job, const tee::EnclaveRuntime& runtime, tee::TrustedState& state)
      : sampler_(job.clients > 0 ? job.clients : job.rounds.clients_per_round, job.rounds.clients_per_round,
                 job.rounds.round_timeout),
        runtime_(runtime), state_(state) {
    if (job.secure_aggregation) {
      masked_ = std::make_unique<MaskedRounds>(job.rounds);
      rounds_ = masked_.get();
    } else {
      plain_ = std::make_unique<RoundAggregator>(job.rounds);
      rounds_ = plain_.get();
    }
  }

  crypto::Envelope handle(const tee::Caller& caller, const std::string& op, const json& control,
                          const crypto::Envelope& request) {
    restore_if_unsealed();
    const auto now = Clock::now();
    const auto client = client_name(caller);
    // A client that finishes its local steps after its round closed (timeout) goes on with the next round.
    if ((op == op::kSubmit || op == op::kJoin) && control.at("round").get<int>() < rounds_->open_round())
      return split::json_reply({{"accepted", false}, {"joined", false}, {"late", true}});
    if (op == op::kSelected) {
      const auto chosen = sampler_.selected(client, control.at("round").get<int>(), now);
      return split::json_reply({{"decided", chosen.has_value()}, {"selected", chosen.value_or(false)}});
    }
    if ((op == op::kSubmit || op == op::kJoin) && sampler_.selected(client, control.at("round").get<int>(), now) != true)
      throw std::invalid_argument("this client was not drawn for round " + std::to_string(control.at("round").get<int>()));
    if (op == op::kSubmit) return masked_ ? submit_masked(client, request, control, now) : submit(client, request, control, now);
    if (op == op::kFetch) return fetch(control.at("round").get<int>(), now);
    if (op == op::kStatus) {
      sampler_.register_client(client, now);
      close_if_due(now);
      return split::json_reply({{"open_round", rounds_->open_round()}, {"rounds", rounds_->options().rounds},
                                {"finished", rounds_->finished()}, {"secure_aggregation", masked_ != nullptr},
                                {"state_generation", runtime_.state_generation()}});
    }
    if (masked_ && op == op::kJoin) return join(caller, control, now);
    if (masked_ && op == op::kPeers) return peers(control.at("round").get<int>(), now);
    throw std::invalid_argument("unknown op '" + op + "'" + (masked_ ? "" : " (secure aggregation is off)"));
  }

 private:
  crypto::Envelope submit(const std::string& client, const crypto::Envelope& request, const json& control,
                          Clock::time_point now) {
    NamedTensors adapter;
    for (const auto& t : request.tensors)
      adapter[t.meta.name] = split::from_wire(request, t.meta.name, torch::kFloat32, int64_t(t.meta.shape.size()));
    const int round = control.at("round").get<int>();
    // A client that reconnects (after its restart or ours) and submits again is counted once: its first.
    if (round == plain_->open_round() && plain_->submitted(client))
      return split::json_reply({{"accepted", true}, {"round", round}, {"already_counted", true}});
    const auto samples = control.at("samples").get<int64_t>();
    plain_->submit(client, round, samples, std::move(adapter), now);
    spdlog::info("federated server: round {}: adapter {} received", round, client.substr(0, 8));
    close_if_due(now);
    save();
    return split::json_reply({{"accepted", true}, {"round", round}, {"samples", samples}});
  }

  // The announcement must be signed by the identity this session attested: nobody joins under another's key.
  crypto::Envelope join(const tee::Caller& caller, const json& control, Clock::time_point now) {
    const int round = control.at("round").get<int>();
    const auto announcement = announcement_from_json(control.at("announcement"));
    if (!std::equal(announcement.identity.begin(), announcement.identity.end(), caller.peer.data, caller.peer.data + caller.peer.size) ||
        !signed_by_its_identity(announcement, round))
      throw std::invalid_argument("join: the mask key is not signed by this client's attested identity for round " +
                                  std::to_string(round));
    return split::json_reply({{"joined", masked_->join(client_name(caller), round, announcement, now)}});
  }

  crypto::Envelope peers(int round, Clock::time_point now) {
    const auto set = masked_->participants(round, now);
    if (!set) return split::json_reply({{"fixed", false}});
    json participants = json::array();
    for (const auto& a : *set) participants.push_back(to_json(a));
    return split::json_reply({{"fixed", true}, {"participants", participants}});
  }

  crypto::Envelope submit_masked(const std::string& client, const crypto::Envelope& request, const json& control,
                                 Clock::time_point now) {
    const int round = control.at("round").get<int>();
    auto words = split::from_wire(request, "masked", torch::kInt32, 1);
    std::vector<uint32_t> masked(std::size_t(words.numel()));
    std::memcpy(masked.data(), words.data_ptr<int32_t>(), masked.size() * sizeof(uint32_t));
    std::vector<TensorSlot> layout;
    for (const auto& slot : control.at("layout"))
      layout.push_back({slot.at(0).get<std::string>(), slot.at(1).get<std::vector<int64_t>>()});
    const auto samples = control.at("samples").get<int64_t>();
    masked_->submit(client, round, samples, std::move(masked), std::move(layout), now);
    spdlog::info("federated server: round {}: masked update {} received", round, client.substr(0, 8));
    close_if_due(now);
    save();
    return split::json_reply({{"accepted", true}, {"round", round}, {"samples", samples}});
  }

  crypto::Envelope fetch(int round, Clock::time_point now) {
    close_if_due(now);
    const NamedTensors* global = rounds_->global_after(round);
    if (!global) return split::json_reply({{"closed", false}, {"open_round", rounds_->open_round()}});
    std::vector<crypto::Tensor> tensors;
    for (const auto& [name, t] : *global) tensors.push_back(split::to_wire(name, t));
    return split::json_reply({{"closed", true}, {"round", rounds_->open_round() - 1},
                              {"contributors", rounds_->contributors()}},
                             std::move(tensors));
  }

  void close_if_due(Clock::time_point now) {
    if (!rounds_->maybe_close(now)) return;
    if (rounds_->contributors() == 0)
      spdlog::warn("federated server: round {} closed without an aggregate: a participant of its set dropped out",
                   rounds_->open_round() - 1);
    else
      spdlog::info("federated server: round {} closed: {}FedAvg over {} clients", rounds_->open_round() - 1,
                   masked_ ? "secure " : "", rounds_->contributors());
    save();
  }

  // The host seals the trusted state after every exchange; a restarted enclave gets it back by unseal.
  void save() {
    const auto bytes = rounds_->snapshot();
    state_[kSnapshot] = crypto::Bytes(bytes.begin(), bytes.end());
    saved_ = state_[kSnapshot];
  }

  void restore_if_unsealed() {
    auto it = state_.find(kSnapshot);
    if (it == state_.end() || it->second == saved_) return;
    rounds_->restore(std::string(it->second.begin(), it->second.end()));
    saved_ = it->second;
    spdlog::info("federated server: restored the sealed aggregator at round {}", rounds_->open_round());
  }

  ClientSampler sampler_;
  std::unique_ptr<RoundAggregator> plain_;
  std::unique_ptr<MaskedRounds> masked_;
  Rounds* rounds_ = nullptr;
  const tee::EnclaveRuntime& runtime_;   // for the sealed state's generation, which clients check
  tee::TrustedState& state_;
  crypto::Bytes saved_;
};

}  // namespace

void install_aggregator_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config) {
  auto job = ServerJob::parse(config.job, config.path);
  train::set_compute_threads(job.threads);
  // Mutual attestation: only client enclaves the client policy admits may open a session.
  auto client_policy = tee::Policy::parse(job.client_policy, config.path + ": job field 'client_policy'").value();
  runtime.admit_peers([client_policy, own = runtime.attestation().measurement()](
                          const crypto::KxPublicKey& peer, tee::ByteView attestation,
                          const crypto::KxPublicKey& own_key) -> tee::Result<crypto::Bytes> {
    auto identity = check_peer_attestation(attestation, client_policy, own, peer, own_key);
    if (!identity) return crypto::unexpected(identity.error());
    return crypto::Bytes(identity->begin(), identity->end());   // submissions are counted by it
  });
  auto service = std::make_shared<AggregatorService>(std::move(job), runtime, runtime.state());
  split::serve_json_requests(runtime, [service](const tee::Caller& caller, const std::string& op,
                                                 const json& control, const crypto::Envelope& request) {
    return service->handle(caller, op, control, request);
  });
}

}  // namespace sg::federated
