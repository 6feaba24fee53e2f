#include "federated/aggregator_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cstring>
#include <map>
#include <memory>

#include "crypto/bytes.h"
#include "federated/client_sampler.h"
#include "federated/job.h"
#include "federated/masked_rounds.h"
#include "federated/peer_attestation.h"
#include "federated/secure_aggregation.h"
#include "federated/server_protocol.h"
#include "rpc/serve.h"
#include "rpc/tensor_wire.h"
#include "tee/attestation.h"
#include "tee/enclave_runtime.h"
#include "runtime/compute_threads.h"

namespace sg::federated {
namespace {

using nlohmann::json;
constexpr const char* kSnapshot = "federated.aggregator";

// A client is its enclave's attested identity key (peer_attestation.h): the same across its sessions.
std::string client_name(const tee::Caller& caller) { return crypto::to_hex(caller.peer); }

crypto::VerifyKey identity_of(const tee::Caller& caller) {
  crypto::VerifyKey id{};
  if (caller.peer.size != id.size()) throw std::invalid_argument("the session has no attested client identity");
  std::copy(caller.peer.data, caller.peer.data + id.size(), id.begin());
  return id;
}

// The client enclaves admitted in this run, by identity: their attestations go to the other participants.
using AdmittedClients = std::map<crypto::VerifyKey, AdmittedClient>;

class AggregatorService {
 public:
  AggregatorService(ServerJob job, const tee::EnclaveRuntime& runtime, tee::TrustedState& state,
                    std::shared_ptr<const AdmittedClients> admitted)
      : admitted_(std::move(admitted)), sampler_(job.clients > 0 ? job.clients : job.rounds.clients_per_round, job.rounds.clients_per_round,
                 job.rounds.round_timeout),
        runtime_(runtime), state_(state) {
    if (job.secure_aggregation) {
      masked_ = std::make_unique<MaskedRounds>(job.rounds, job.min_participants);
      rounds_ = masked_.get();
    } else {
      plain_ = std::make_unique<RoundAggregator>(job.rounds);
      rounds_ = plain_.get();
    }
  }

  std::shared_ptr<const rpc::OpTable> ops(const std::shared_ptr<AggregatorService>& self) {
    auto table = std::make_shared<rpc::OpTable>();
    using E = crypto::Envelope;
    table->on<ops::Status>([self](const tee::Caller& caller, const rpc::Empty&, const E&) {
      return self->status(client_name(caller), self->prepare());
    });
    table->on<ops::Selected>([self](const tee::Caller& caller, const ops::RoundRequest& r, const E&) {
      const auto chosen = self->sampler_.selected(client_name(caller), r.round, self->prepare());
      return rpc::reply(ops::Selected::Reply{chosen.has_value(), chosen.value_or(false)});
    });
    table->on<ops::Fetch>([self](const tee::Caller&, const ops::RoundRequest& r, const E&) {
      return self->fetch(r.round, self->prepare());
    });
    table->on<ops::Submit>([self](const tee::Caller& caller, const ops::Submit::Request& r, const E& e) {
      const auto now = self->prepare();
      if (self->late(r.round)) return rpc::reply(ops::Submit::Reply{.accepted = false, .late = true});
      self->require_drawn(client_name(caller), r.round, now);
      return self->masked_ ? self->submit_masked(identity_of(caller), r, e, now)
                           : self->submit(client_name(caller), r, e, now);
    });
    if (!masked_) {
      table->set_unknown_note(" (secure aggregation is off)");
      return table;
    }
    table->on<ops::Join>([self](const tee::Caller& caller, const ops::Join::Request& r, const E&) {
      const auto now = self->prepare();
      return self->step(r.round, now, [&] {
        self->require_drawn(client_name(caller), r.round, now);
        return self->join(caller, r, now);
      });
    });
    table->on<ops::Share>([self](const tee::Caller& caller, const ops::Share::Request& r, const E&) {
      const auto now = self->prepare();
      return self->step(r.round, now, [&] {
        return self->masked_->share(identity_of(caller), r.round, r.message.get<ShareMessage>(), now);
      });
    });
    table->on<ops::Confirm>([self](const tee::Caller& caller, const ops::Confirm::Request& r, const E&) {
      const auto now = self->prepare();
      const auto signature = crypto::from_hex_array<64>(r.signature);
      if (!signature) throw std::invalid_argument("confirm: field 'signature' must be 64 bytes in hex");
      return self->step(r.round, now, [&] { return self->masked_->confirm(identity_of(caller), r.round, *signature, now); });
    });
    table->on<ops::Reveal>([self](const tee::Caller& caller, const ops::Reveal::Request& r, const E&) {
      const auto now = self->prepare();
      return self->step(r.round, now, [&] {
        return self->masked_->reveal(identity_of(caller), r.round, r.shares.get<std::vector<RevealedShare>>(), now);
      });
    });
    table->on<ops::Peers>([self](const tee::Caller&, const ops::RoundRequest& r, const E&) {
      return self->phase(r.round, [&](Clock::time_point now) { return self->attested_set(r.round, now); });
    });
    table->on<ops::Inbox>([self](const tee::Caller& caller, const ops::RoundRequest& r, const E&) {
      return self->phase(r.round, [&](Clock::time_point now) { return self->masked_->inbox(identity_of(caller), r.round, now); });
    });
    table->on<ops::Survivors>([self](const tee::Caller&, const ops::RoundRequest& r, const E&) {
      return self->phase(r.round, [&](Clock::time_point now) {
        const auto ids = self->masked_->survivors(r.round, now);
        return ids ? std::optional<json>(identities_to_json(*ids)) : std::nullopt;
      });
    });
    table->on<ops::Confirmations>([self](const tee::Caller&, const ops::RoundRequest& r, const E&) {
      return self->phase(r.round, [&](Clock::time_point now) { return self->masked_->confirmations(r.round, now); });
    });
    return table;
  }

 private:
  // Before every request: the state the host unsealed, if it changed; the time the request is handled at.
  Clock::time_point prepare() {
    restore_if_unsealed();
    return Clock::now();
  }

  // A client that finishes its local steps after its round closed (timeout) goes on with the next round.
  bool late(int round) const { return round < rounds_->open_round(); }

  void require_drawn(const std::string& client, int round, Clock::time_point now) {
    if (sampler_.selected(client, round, now) != true)
      throw std::invalid_argument("this client was not drawn for round " + std::to_string(round));
  }

  crypto::Envelope status(const std::string& client, Clock::time_point now) {
    sampler_.register_client(client, now);
    close_if_due(now);
    return rpc::reply(ops::Status::Reply{rounds_->open_round(), rounds_->options().rounds, rounds_->finished(),
                                         masked_ != nullptr, runtime_.state_generation()});
  }

  crypto::Envelope submit(const std::string& client, const ops::Submit::Request& r, const crypto::Envelope& request,
                          Clock::time_point now) {
    NamedTensors adapter;
    for (const auto& t : request.tensors)
      adapter[t.meta.name] = rpc::from_wire(request, t.meta.name, torch::kFloat32, int64_t(t.meta.shape.size()));
    const int round = r.round;
    // A client that reconnects (after its restart or ours) and submits again is counted once: its first.
    if (round == plain_->open_round() && plain_->submitted(client))
      return rpc::reply(ops::Submit::Reply{.accepted = true, .already_counted = true, .round = round});
    const auto samples = r.samples;
    plain_->submit(client, round, samples, std::move(adapter), now);
    spdlog::info("federated server: round {}: adapter {} received", round, client.substr(0, 8));
    close_if_due(now);
    save();
    return rpc::reply(ops::Submit::Reply{.accepted = true, .round = round, .samples = samples});
  }

  // The announcement must be signed by the identity this session attested: nobody joins under another's keys.
  bool join(const tee::Caller& caller, const ops::Join::Request& r, Clock::time_point now) {
    const auto announcement = r.announcement.get<MaskKeyAnnouncement>();
    if (announcement.identity != identity_of(caller) || !signed_by_its_identity(announcement, r.round))
      throw std::invalid_argument("join: the keys are not signed by this client's attested identity for round " +
                                  std::to_string(r.round));
    return masked_->join(identity_of(caller), r.round, announcement, now);
  }

  // The participant set, each announcement with its client enclave's attestation for the others to check; not
  // ready while a participant has not connected to this enclave run (after a restart).
  std::optional<json> attested_set(int round, Clock::time_point now) {
    const auto set = masked_->participants(round, now);
    if (!set) return std::nullopt;
    json out = json::array();
    for (const auto& a : *set) {
      const auto it = admitted_->find(a.identity);
      if (it == admitted_->end()) return std::nullopt;
      json entry = a;
      entry["attestation"] = it->second;
      out.push_back(std::move(entry));
    }
    return out;
  }

  // A secure-aggregation action: late once the round has closed, else what `act` says; saved either way.
  template <class Act>
  crypto::Envelope step(int round, Clock::time_point now, Act act) {
    close_if_due(now);
    if (late(round)) return rpc::reply(ops::StepReply{.accepted = false, .late = true});
    const bool accepted = act();
    close_if_due(now);
    save();
    return rpc::reply(ops::StepReply{.accepted = accepted, .late = !accepted});
  }

  // A secure-aggregation poll: ended once the round has closed, ready with what `get` returns once its phase
  // has ended.
  template <class Get>
  crypto::Envelope phase(int round, Get get) {
    const auto now = prepare();
    close_if_due(now);
    if (late(round)) return rpc::reply(ops::PhaseReply{.ended = true});
    const auto data = get(now);
    if (late(round)) {   // the poll itself found the round's timeout
      close_if_due(now);
      return rpc::reply(ops::PhaseReply{.ended = true});
    }
    if (!data) return rpc::reply(ops::PhaseReply{});
    return rpc::reply(ops::PhaseReply{.ready = true, .data = json(*data)});
  }

  crypto::Envelope submit_masked(const crypto::VerifyKey& client, const ops::Submit::Request& r,
                                 const crypto::Envelope& request, Clock::time_point now) {
    const int round = r.round;
    if (!r.masked) throw std::invalid_argument("submit without masked: this server runs secure aggregation");
    auto words = rpc::from_wire(request, "masked", torch::kInt32, 1);
    std::vector<uint32_t> masked(std::size_t(words.numel()));
    std::memcpy(masked.data(), words.data_ptr<int32_t>(), masked.size() * sizeof(uint32_t));
    std::vector<TensorSlot> layout;
    for (const auto& slot : r.layout)
      layout.push_back({slot.at(0).get<std::string>(), slot.at(1).get<std::vector<int64_t>>()});
    const auto samples = r.samples;
    if (!masked_->submit(client, round, samples, std::move(masked), std::move(layout), now)) {
      save();
      return rpc::reply(ops::Submit::Reply{.accepted = false, .late = true, .round = round});
    }
    spdlog::info("federated server: round {}: masked update {} received", round, short_id(client));
    close_if_due(now);
    save();
    return rpc::reply(ops::Submit::Reply{.accepted = true, .round = round, .samples = samples});
  }

  crypto::Envelope fetch(int round, Clock::time_point now) {
    close_if_due(now);
    const NamedTensors* global = rounds_->global_after(round);
    if (!global) return rpc::reply(ops::Fetch::Reply{.closed = false, .open_round = rounds_->open_round()});
    std::vector<crypto::Tensor> tensors;
    for (const auto& [name, t] : *global) tensors.push_back(rpc::to_wire(name, t));
    return rpc::reply(ops::Fetch::Reply{.closed = true, .round = rounds_->open_round() - 1,
                                        .contributors = rounds_->contributors(), .open_round = rounds_->open_round()},
                      std::move(tensors));
  }

  void close_if_due(Clock::time_point now) {
    if (!rounds_->maybe_close(now)) return;
    if (rounds_->contributors() == 0)
      spdlog::warn("federated server: round {} closed without an aggregate: {}", rounds_->open_round() - 1,
                   masked_ ? masked_->last_failure() : "no client submitted");
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

  std::shared_ptr<const AdmittedClients> admitted_;
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
  runtime::set_compute_threads(job.threads);
  // Mutual attestation: only client enclaves the client policy admits may open a session.
  auto client_policy = tee::Policy::parse(job.client_policy, config.path + ": job field 'client_policy'").value();
  auto admitted = std::make_shared<AdmittedClients>();
  runtime.admit_peers([client_policy, own = runtime.attestation().measurement(), admitted](
                          const crypto::KxPublicKey& peer, tee::ByteView attestation,
                          const crypto::KxPublicKey& own_key) -> tee::Result<crypto::Bytes> {
    auto identity = check_peer_attestation(attestation, client_policy, own, peer, own_key);
    if (!identity) return crypto::unexpected(identity.error());
    (*admitted)[*identity] = {std::string(reinterpret_cast<const char*>(attestation.data), attestation.size), peer, own_key};
    return crypto::Bytes(identity->begin(), identity->end());   // submissions are counted by it
  });
  auto service = std::make_shared<AggregatorService>(std::move(job), runtime, runtime.state(), admitted);
  rpc::serve(runtime, service->ops(service));
}

}  // namespace sg::federated
