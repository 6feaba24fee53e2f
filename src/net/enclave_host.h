// A server's untrusted host in one object: writes the enclave config (with the job the enclave will serve),
// launches the enclave binary as its own process, and relays clients to it over gRPC. `sliceguard server`,
// the split tests and the benchmarks all stand up servers through it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/relay_server.h"

namespace sg::tee {
class EnclaveProcess;
}

namespace sg::net {

struct HostOptions {
  std::string enclave_binary;   // `sliceguard` (run as `sliceguard enclave ...`)
  std::string backend = "sim";  // sim | gramine | tsm
  // How host and enclave talk (tee/host_enclave_process.h): ring | tcp | auto (tcp under Gramine, whose enclaves
  // share no memory with their host; the shared ring otherwise).
  std::string enclave_transport = "auto";
  std::string enclave_listen = "tcp:127.0.0.1:0";   // tcp: where the host waits for its enclave (port 0: any)
  // What runs the enclave, before its arguments: empty runs enclave_binary itself; a Gramine deployment names
  // {"gramine-sgx", "/path/sliceguard-enclave"} (its manifest fixes the enclave's arguments).
  std::vector<std::string> enclave_launcher;
  std::string state_dir;        // enclave.json, and for sim the platform key and a client policy
  std::string job_json;         // the "job" object the enclave serves (e.g. split::SplitJob::to_json())
  // sim: the platform key file (default <state_dir>/sim_platform.key). Enclaves that share one key model
  // enclaves on one platform — how a federated server and its clients run on one development machine.
  std::string sim_platform_key;
  RelayOptions relay;
  std::chrono::milliseconds ready_timeout{300000};   // the enclave loads its model slice before it is ready
};

class EnclaveHost {
 public:
  // Throws std::runtime_error when the enclave cannot start or the address cannot be bound.
  static std::unique_ptr<EnclaveHost> start(const HostOptions& options);
  ~EnclaveHost();   // stops the relay, then the enclave

  int port() const;
  std::string address() const;   // 127.0.0.1:<port>
  const std::string& measurement_hex() const;
  // sim only: a client policy admitting exactly this enclave (its measurement and platform key), for
  // development and CI; empty for other backends, whose policies the operator writes.
  const std::string& sim_client_policy() const;
  tee::EnclaveProcess& enclave();
  RelayServer& relay();

 private:
  struct Impl;
  explicit EnclaveHost(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// EnclaveHost's enclave half, without the relay: writes the config, launches the enclave, restores the sealed
// state at options.relay.seal_path when there is one, and for sim writes the development policy admitting it.
// A federated client host launches its own enclave this way. Throws std::runtime_error.
struct LaunchedEnclave {
  std::unique_ptr<tee::EnclaveProcess> process;
  std::string measurement;   // hex, as the enclave reports it
  std::string sim_policy;    // path; sim only
};
LaunchedEnclave launch_enclave(const HostOptions& options);

// Seals the enclave's trusted state and writes it to `path` atomically (a temporary file, then rename), where
// launch_enclave finds it after a restart. Throws std::runtime_error naming the path.
void persist_sealed_state(tee::EnclaveProcess& enclave, const std::string& path);

// sim: a policy (JSON text) admitting peer enclaves that run this enclave binary, with any config the verifier
// inspects (allowed_code), on the sim platforms whose public keys are given (hex) — the client machines; never
// this host's own platform, whose private key the operator alone holds. What a development federated server
// lists as its client policy. Throws std::runtime_error (no platform given, a malformed key).
std::string sim_peer_policy(const HostOptions& options, const std::vector<std::string>& peer_platform_keys);

// Writes the enclave config for `options` into its state dir; returns the path.
std::string write_enclave_config(const HostOptions& options);

}  // namespace sg::net
