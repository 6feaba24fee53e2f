#include "federated/adapter_service.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <utility>

#include "federated/client_adapter.h"
#include "federated/client_protocol.h"
#include "federated/client_state.h"
#include "federated/job.h"
#include "federated/round_masking.h"
#include "federated/server_protocol.h"
#include "federated/server_session.h"
#include "rpc/call.h"
#include "rpc/serve.h"
#include "rpc/tensor_wire.h"
#include "runtime/compute_threads.h"

namespace sg::federated {
namespace {

using nlohmann::json;

// The client enclave: its adapter (client_adapter.h), its session with the server enclave (server_session.h),
// its part of secure aggregation (round_masking.h) and what it keeps sealed (client_state.h), wired to the ops
// of client_protocol.h.
class AdapterService {
 public:
  AdapterService(ClientJob job, tee::AttestationBackend& attestation, tee::Bytes own_config, tee::TrustedState& state)
      : job_(std::move(job)), adapter_(job_), state_(state), server_(job_.server_policy, attestation, std::move(own_config)),
        masking_(state_, job_.min_participants, job_.peer_policy) {}

  std::shared_ptr<const rpc::OpTable> ops(const std::shared_ptr<AdapterService>& self) {
    auto table = std::make_shared<rpc::OpTable>();
    table->on<ops::Init>([self](const tee::Caller&, const ops::Init::Request& r, const crypto::Envelope&) {
      return rpc::reply(self->adapter_.init(r));
    });
    using E = crypto::Envelope;
    on<ops::Begin>(*table, self, [](AdapterService& s, const auto& r, const E&) {
      return rpc::reply(ops::Begin::Reply{s.adapter_.begin(r.total_steps, [&s] { s.restore_if_sealed(); })});
    });
    on<ops::Micro>(*table, self, [](AdapterService& s, const auto& r, const E&) {
      s.adapter_.micro(r);
      return rpc::reply(rpc::Empty{});
    });
    on<ops::Forward>(*table, self, [](AdapterService& s, const auto& r, const E& e) { return s.adapter_.forward(r, e); });
    on<ops::Backward>(*table, self, [](AdapterService& s, const auto& r, const E& e) { return s.adapter_.backward(r, e); });
    on<ops::Step>(*table, self, [](AdapterService& s, const auto& r, const E&) { return rpc::reply(s.adapter_.step(r.loss)); });
    on<ops::PrefixForward>(*table, self, [](AdapterService& s, const auto& r, const E& e) {
      return s.adapter_.prefix_forward(r.layer, e);
    });
    on<ops::PrefixBackward>(*table, self, [](AdapterService& s, const auto& r, const E& e) {
      return s.adapter_.prefix_backward(r.layer, e);
    });
    on<ops::ServerHello>(*table, self, [](AdapterService& s, const auto&, const E&) {
      return rpc::reply(ops::ServerHello::Reply{s.server_.hello()});
    });
    on<ops::ServerConnect>(*table, self, [](AdapterService& s, const auto& r, const E&) {
      s.pending_ = {};   // a new session: nothing awaits a reply
      return rpc::reply(s.server_.connect(r, s.state_.identity().public_key));
    });
    on<ops::ToServer>(*table, self, [](AdapterService& s, const auto& r, const E&) { return s.to_server(r.request); });
    on<ops::FromServer>(*table, self, [](AdapterService& s, const auto&, const E& e) { return s.from_server(e); });
    return table;
  }

 private:
  // Registers Op for this service: every op but init needs the adapter.
  template <class Op, class F>
  static void on(rpc::OpTable& table, const std::shared_ptr<AdapterService>& self, F handler) {
    table.on<Op>([self, handler](const tee::Caller&, const typename Op::Request& r, const crypto::Envelope& e) {
      if (!self->adapter_.ready()) throw std::invalid_argument(std::string("'") + Op::kName + "' before init");
      return handler(*self, r, e);
    });
  }

  // Seals a request for the server enclave; a "submit" carries this enclave's adapter (or its masked update),
  // the secure-aggregation steps what round_masking.h makes for them. Samples are what this enclave trained on,
  // not what the host says. The host gets only frames.
  crypto::Envelope to_server(json request) {
    server_.check_connected(ops::ToServer::kName);
    // One request at a time: a reply is read as the answer to the pending op, so a host that sent a second
    // request first could otherwise have one poll's data taken for another's.
    if (!pending_.first.empty())
      throw std::invalid_argument("'" + pending_.first + "' still awaits the server enclave's reply; reconnect first");
    std::vector<crypto::Tensor> tensors;
    const auto what = request.at("op").get<std::string>();
    const int round = request.value("round", -1);
    if (what == ops::Join::kName) {
      request["announcement"] = masking_.join(round);
    } else if (what == ops::Share::kName) {
      request["message"] = masking_.share(round);
    } else if (what == ops::Confirm::kName) {
      request["signature"] = masking_.confirm(round);
    } else if (what == ops::Reveal::kName) {
      request["shares"] = masking_.reveal(round);
    } else if (what == ops::Submit::kName) {
      auto submit = rpc::parse_as<ops::Submit::Request>(request, "the host's submit");
      submit.samples = adapter_.round_examples();
      if (submit.masked) {
        auto [masked, layout] = masking_.mask(adapter_.held_tensors(), submit.samples, submit.round);
        tensors.push_back(std::move(masked));
        submit.layout = std::move(layout);
      } else if (job_.secure_aggregation) {
        throw std::invalid_argument("this client's job requires secure aggregation: the server asked for its adapter "
                                    "in plaintext, which it does not send");
      } else {
        for (const auto& [name, tensor] : adapter_.held_tensors()) tensors.push_back(rpc::to_wire(name, tensor));
      }
      request = rpc::control_of<ops::Submit>(submit);
    }
    pending_ = {what, round};
    return rpc::reply(json::object(), server_.seal({request.dump(), std::move(tensors)}));
  }

  // Opens the server enclave's reply to the pending request; a reply with the global adapter replaces this
  // enclave's adapter, a secure-aggregation poll's data goes to round_masking.h (the host sees only ready).
  crypto::Envelope from_server(const crypto::Envelope& frames) {
    const auto reply = server_.open(frames);
    const auto [op, round] = std::exchange(pending_, {});
    auto control = json::parse(reply.control, nullptr, /*allow_exceptions=*/false);
    if (!control.is_object()) throw std::invalid_argument("the server enclave sent a malformed reply");
    if (control.contains("error")) {   // the server's refusal, told apart from this enclave's own errors
      control["server_error"] = control["error"];
      control.erase("error");
    }
    if (!reply.tensors.empty()) {
      adapter_.install(reply);
      installed_global_ = true;
      // A round ended here: what a restarted client continues from. Before `begin` (a client joining with the
      // global adapter) there is no optimiser yet, and the sealed snapshot it will restore must stay.
      if (auto snapshot = adapter_.snapshot(); !snapshot.empty()) state_.save_snapshot(snapshot);
    }
    if (control.contains("data")) {
      if (control.value("ready", false)) masking_.accept(op, round, control["data"], server_.server_measurement());
      control.erase("data");
    }
    if (control.value("closed", false)) adapter_.round_closed();   // with or without this client
    if (control.contains("state_generation")) state_.check_server_generation(control.at("state_generation").get<uint64_t>());
    return rpc::reply(control);
  }

  void restore_if_sealed() {
    const auto snapshot = state_.snapshot();
    if (snapshot.empty()) return;
    // A snapshot is written only once a round has closed, so a client that joined without fetching a global
    // adapter (at round 0) holds a state from another federation.
    if (!installed_global_)
      throw std::invalid_argument("a sealed client state exists but this federation has not closed a round yet: it "
                                  "is another federation's; move the sealed state away to start fresh");
    adapter_.restore(snapshot);
  }

  ClientJob job_;
  ClientAdapter adapter_;
  ClientState state_;
  ServerSession server_;
  RoundMasking masking_;
  bool installed_global_ = false;
  std::pair<std::string, int> pending_;   // the op and round of the request awaiting the server's reply
};

}  // namespace

void install_client_adapter_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config) {
  auto job = ClientJob::parse(config.job, config.path);
  runtime::set_compute_threads(job.threads);
  auto service = std::make_shared<AdapterService>(std::move(job), runtime.attestation(), config.bytes, runtime.state());
  rpc::serve(runtime, service->ops(service));
}

}  // namespace sg::federated
