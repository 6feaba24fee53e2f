#include "federated/aggregator_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <memory>

#include "crypto/bytes.h"
#include "federated/job.h"
#include "federated/peer_attestation.h"
#include "federated/protocol.h"
#include "split/wire.h"
#include "tee/attestation.h"
#include "tee/enclave_runtime.h"

namespace sg::federated {
namespace {

using nlohmann::json;
constexpr const char* kSnapshot = "federated.aggregator";

std::string client_name(const crypto::SessionId& session) { return crypto::to_hex({session.data(), session.size()}); }

class AggregatorService {
 public:
  AggregatorService(ServerJob job, tee::TrustedState& state) : aggregator_(job.rounds), state_(state) {}

  crypto::Envelope handle(const crypto::SessionId& session, const std::string& op, const json& control,
                          const crypto::Envelope& request) {
    restore_if_unsealed();
    const auto now = Clock::now();
    if (op == op::kSubmit) return submit(session, request, control, now);
    if (op == op::kFetch) return fetch(control.at("round").get<int>(), now);
    if (op == op::kStatus) {
      if (aggregator_.maybe_close(now)) save();
      return split::json_reply({{"open_round", aggregator_.open_round()}, {"rounds", aggregator_.options().rounds},
                    {"finished", aggregator_.finished()}});
    }
    throw std::invalid_argument("unknown op '" + op + "'");
  }

 private:
  crypto::Envelope submit(const crypto::SessionId& session, const crypto::Envelope& request, const json& control,
                          Clock::time_point now) {
    NamedTensors adapter;
    for (const auto& t : request.tensors)
      adapter[t.meta.name] = split::from_wire(request, t.meta.name, torch::kFloat32, int64_t(t.meta.shape.size()));
    const int round = control.at("round").get<int>();
    aggregator_.submit(client_name(session), round, control.at("samples").get<int64_t>(), std::move(adapter), now);
    spdlog::info("federated server: round {}: adapter {} received", round, client_name(session).substr(0, 8));
    if (aggregator_.maybe_close(now)) announce_close();
    save();
    return split::json_reply({{"accepted", true}, {"round", round}});
  }

  crypto::Envelope fetch(int round, Clock::time_point now) {
    if (aggregator_.maybe_close(now)) {
      announce_close();
      save();
    }
    const NamedTensors* global = aggregator_.global_after(round);
    if (!global) return split::json_reply({{"closed", false}, {"open_round", aggregator_.open_round()}});
    std::vector<crypto::Tensor> tensors;
    for (const auto& [name, t] : *global) tensors.push_back(split::to_wire(name, t));
    return split::json_reply({{"closed", true}, {"round", aggregator_.open_round() - 1},
                  {"contributors", aggregator_.last_contributors().size()}},
                 std::move(tensors));
  }

  void announce_close() {
    spdlog::info("federated server: round {} closed: FedAvg over {} clients", aggregator_.open_round() - 1,
                 aggregator_.last_contributors().size());
  }

  // The host seals the trusted state after every exchange; a restarted enclave gets it back by unseal.
  void save() {
    const auto bytes = aggregator_.snapshot();
    state_[kSnapshot] = crypto::Bytes(bytes.begin(), bytes.end());
    saved_ = state_[kSnapshot];
  }

  void restore_if_unsealed() {
    auto it = state_.find(kSnapshot);
    if (it == state_.end() || it->second == saved_) return;
    aggregator_.restore(std::string(it->second.begin(), it->second.end()));
    saved_ = it->second;
    spdlog::info("federated server: restored the sealed aggregator at round {}", aggregator_.open_round());
  }

  RoundAggregator aggregator_;
  tee::TrustedState& state_;
  crypto::Bytes saved_;
};

}  // namespace

void install_aggregator_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config) {
  auto job = ServerJob::parse(config.job, config.path);
  at::set_num_threads(job.threads);
  // Mutual attestation: only client enclaves the client policy admits may open a session.
  auto client_policy = tee::Policy::parse(job.client_policy, config.path + ": job field 'client_policy'").value();
  runtime.admit_peers([client_policy, own = runtime.attestation().measurement()](
                          const crypto::KxPublicKey& peer, tee::ByteView attestation, const crypto::KxPublicKey& own_key) {
    return check_peer_attestation(attestation, client_policy, own, peer, own_key);
  });
  auto service = std::make_shared<AggregatorService>(std::move(job), runtime.state());
  split::serve_json_requests(runtime, [service](const crypto::SessionId& session, const std::string& op,
                                                 const json& control, const crypto::Envelope& request) {
    return service->handle(session, op, control, request);
  });
}

}  // namespace sg::federated
