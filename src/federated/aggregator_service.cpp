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

std::string client_name(const crypto::SessionId& session) { return crypto::to_hex({session.data(), session.size()}); }

class AggregatorService {
 public:
  AggregatorService(ServerJob job, tee::TrustedState& state)
      : sampler_(job.clients > 0 ? job.clients : job.rounds.clients_per_round, job.rounds.clients_per_round,
                 job.rounds.round_timeout),
        state_(state) {
    if (job.secure_aggregation) {
      masked_ = std::make_unique<MaskedRounds>(job.rounds);
      rounds_ = masked_.get();
    } else {
      plain_ = std::make_unique<RoundAggregator>(job.rounds);
      rounds_ = plain_.get();
    }
  }

  crypto::Envelope handle(const crypto::SessionId& session, const std::string& op, const json& control,
                          const crypto::Envelope& request) {
    restore_if_unsealed();
    const auto now = Clock::now();
    const auto client = client_name(session);
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
    if (op == op::kFetch) return fetch(client, control.at("round").get<int>(), now);
    if (op == op::kStatus) {
      sampler_.register_client(client, now);
      close_if_due(now);
      return split::json_reply({{"open_round", rounds_->open_round()}, {"rounds", rounds_->options().rounds},
                                {"finished", rounds_->finished()}, {"secure_aggregation", masked_ != nullptr}});
    }
    if (masked_ && op == op::kJoin) return join(client, control, now);
    if (masked_ && op == op::kPeers) return peers(client, control.at("round").get<int>(), now);
    throw std::invalid_argument("unknown op '" + op + "'" + (masked_ ? "" : " (secure aggregation is off)"));
  }

 private:
  crypto::Envelope submit(const std::string& client, const crypto::Envelope& request, const json& control,
                          Clock::time_point now) {
    NamedTensors adapter;
    for (const auto& t : request.tensors)
      adapter[t.meta.name] = split::from_wire(request, t.meta.name, torch::kFloat32, int64_t(t.meta.shape.size()));
    const int round = control.at("round").get<int>();
    plain_->submit(client, round, control.at("samples").get<int64_t>(), std::move(adapter), now);
    spdlog::info("federated server: round {}: adapter {} received", round, client.substr(0, 8));
    close_if_due(now);
    save();
    return split::json_reply({{"accepted", true}, {"round", round}});
  }

  crypto::Envelope join(const std::string& client, const json& control, Clock::time_point now) {
    const auto key_bytes = crypto::from_hex(control.at("mask_key").get<std::string>());
    crypto::KxPublicKey key{};
    if (!key_bytes || key_bytes->size() != key.size()) throw std::invalid_argument("join needs a 32-byte hex mask_key");
    std::copy(key_bytes->begin(), key_bytes->end(), key.begin());
    return split::json_reply({{"joined", masked_->join(client, control.at("round").get<int>(), key, now)}});
  }

  crypto::Envelope peers(const std::string& client, int round, Clock::time_point now) {
    const auto set = masked_->participants(round, now);
    if (masked_->must_rejoin(client, round)) return split::json_reply({{"fixed", false}, {"rejoin", true}});
    if (!set) return split::json_reply({{"fixed", false}});
    json keys = json::array();
    for (const auto& k : set->second) keys.push_back(crypto::to_hex(crypto::ByteView(k.data(), k.size())));
    return split::json_reply({{"fixed", true}, {"attempt", set->first}, {"keys", keys}});
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
    masked_->submit(client, round, control.at("attempt").get<int>(), control.at("samples").get<int64_t>(),
                    std::move(masked), std::move(layout), now);
    spdlog::info("federated server: round {}: masked update {} received", round, client.substr(0, 8));
    close_if_due(now);
    save();
    return split::json_reply({{"accepted", true}, {"round", round}});
  }

  crypto::Envelope fetch(const std::string& client, int round, Clock::time_point now) {
    close_if_due(now);
    const NamedTensors* global = rounds_->global_after(round);
    if (!global) {
      json reply = {{"closed", false}, {"open_round", rounds_->open_round()}};
      if (masked_ && masked_->must_rejoin(client, round)) reply["rejoin"] = true;
      return split::json_reply(reply);
    }
    std::vector<crypto::Tensor> tensors;
    for (const auto& [name, t] : *global) tensors.push_back(split::to_wire(name, t));
    return split::json_reply({{"closed", true}, {"round", rounds_->open_round() - 1},
                              {"contributors", rounds_->contributors()}},
                             std::move(tensors));
  }

  void close_if_due(Clock::time_point now) {
    if (!rounds_->maybe_close(now)) return;
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
    if (auto admitted = check_peer_attestation(attestation, client_policy, own, peer, own_key); !admitted)
      return crypto::unexpected(admitted.error());
    return crypto::Bytes{};   // client enclaves are told apart by session for now
  });
  auto service = std::make_shared<AggregatorService>(std::move(job), runtime.state());
  split::serve_json_requests(runtime, [service](const tee::Caller& caller, const std::string& op,
                                                 const json& control, const crypto::Envelope& request) {
    return service->handle(caller.session, op, control, request);
  });
}

}  // namespace sg::federated
