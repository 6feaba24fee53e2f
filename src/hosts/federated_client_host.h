// A federated data owner's host, put together once for the CLI, the tests and the bench: it launches
// the client enclave with its job, opens the host's own attested session with it, attaches the remote adapter to
// the frozen model, and links the client enclave to the server enclave through the server's host.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "crypto/envelope.h"
#include "federated/federation.h"
#include "federated/remote_adapter.h"
#include "net/enclave_host.h"
#include "net/remote_enclave.h"
#include "rpc/call.h"

namespace sg::tee {
class LocalSession;
}

namespace sg::hosts {

struct FederatedClientOptions {
  // The client enclave: binary, backend, state dir, job, sim platform key, and `relay.seal_path`, where its
  // sealed state is restored from at launch and written to by seal_state().
  net::HostOptions enclave;
  // Sees every sealed frame crossing the host<->enclave boundary (tests record them).
  std::function<void(crypto::ByteView frame)> tap;
  // Runs around each call to the client enclave (the bench times them); `next` delivers the request.
  std::function<crypto::Envelope(const crypto::Envelope& request, const rpc::Transport& next)> around_call;
};

class FederatedClientHost {
 public:
  // Launches the client enclave and opens the host's attested session with it. Throws std::runtime_error naming
  // what failed (the launch, the sealed state, the enclave's own attestation).
  explicit FederatedClientHost(FederatedClientOptions options);
  ~FederatedClientHost();

  // Has the enclave create the adapter and attaches it to `model`, which must outlive this host.
  federated::RemoteAdapter& attach(model::Transformer& model);

  // Connects to the server's host (no attestation yet); a second call replaces the connection (a restarted
  // server). Throws when the server is unreachable.
  void open_server(const net::ConnectOptions& server);
  // open_server, then the client enclave attests the server enclave and opens its session (mutual attestation).
  void connect(const net::ConnectOptions& server);

  federated::RemoteAdapter& adapter();        // throws std::logic_error before attach
  const federated::ServerLink& link() const;   // throws std::logic_error before open_server
  tee::EnclaveProcess& enclave() { return *enclave_.process; }

  // Seals the client enclave's state to the seal path (what a restarted client continues from).
  void seal_state();
  // Federation options that seal the client enclave's state whenever it changed (after every round and every
  // masked submission), as `sliceguard client` does.
  federated::FederationOptions sealing_state_changes();

 private:
  FederatedClientOptions options_;
  net::LaunchedEnclave enclave_;
  std::unique_ptr<tee::LocalSession> session_;
  std::unique_ptr<federated::RemoteAdapter> adapter_;
  std::unique_ptr<net::ServerConnection> server_;
  federated::ServerLink link_;
};

}  // namespace sg::hosts
