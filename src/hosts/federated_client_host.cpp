#include "hosts/federated_client_host.h"

#include <stdexcept>

#include "tee/host_local_session.h"
#include "tee/policy.h"

namespace sg::hosts {

FederatedClientHost::FederatedClientHost(FederatedClientOptions options) : options_(std::move(options)) {
  enclave_ = net::launch_enclave(options_.enclave);
  if (enclave_.sim_policy.empty())
    throw std::runtime_error("--tee " + options_.enclave.backend +
                             ": the client's own policy for its enclave is only generated for sim");
  auto own_policy = tee::Policy::load(enclave_.sim_policy);
  if (!own_policy) throw std::runtime_error(own_policy.error().message);
  auto session = tee::LocalSession::open(*enclave_.process, *own_policy);
  if (!session) throw std::runtime_error("client enclave: " + session.error().message);
  session_ = std::move(*session);
  if (options_.tap) session_->set_tap(options_.tap);
}

federated::RemoteAdapter& FederatedClientHost::attach(model::Transformer& model) {
  rpc::Transport direct = [this](const crypto::Envelope& request) {
    auto reply = session_->call(request);
    if (!reply) throw std::runtime_error("client enclave: " + reply.error().message);
    return std::move(*reply);
  };
  rpc::Transport transport = direct;
  if (options_.around_call)
    transport = [this, direct](const crypto::Envelope& request) { return options_.around_call(request, direct); };
  adapter_ = federated::RemoteAdapter::attach(model, std::move(transport));
  return *adapter_;
}

federated::RemoteAdapter& FederatedClientHost::adapter() {
  if (!adapter_) throw std::logic_error("FederatedClientHost::adapter before attach");
  return *adapter_;
}

// Members go in reverse order: the link and the adapter before the session, the session before its enclave.
FederatedClientHost::~FederatedClientHost() = default;

void FederatedClientHost::open_server(const net::ConnectOptions& server) {
  server_ = net::ServerConnection::open(server);
  link_ = federated::link_over(*server_);
}

void FederatedClientHost::connect(const net::ConnectOptions& server) {
  open_server(server);
  federated::connect_to_server(adapter(), link_);
}

const federated::ServerLink& FederatedClientHost::link() const {
  if (!server_) throw std::logic_error("FederatedClientHost::link before open_server");
  return link_;
}

void FederatedClientHost::seal_state() { net::persist_sealed_state(*enclave_.process, options_.enclave.relay.seal_path); }

federated::FederationOptions FederatedClientHost::sealing_state_changes() {
  federated::FederationOptions o;
  o.persist_state = [this](int) { seal_state(); };
  return o;
}

}  // namespace sg::hosts
