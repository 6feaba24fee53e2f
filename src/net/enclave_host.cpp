#include "net/enclave_host.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "crypto/secret_key.h"
#include "tee/attestation_sim.h"
#include "tee/enclave_config.h"
#include "tee/host_enclave_process.h"
#include "tee/evidence.h"

namespace sg::net {
namespace {

namespace fs = std::filesystem;

std::string sim_key_path(const HostOptions& o) {
  return fs::absolute(o.sim_platform_key.empty() ? fs::path(o.state_dir) / "sim_platform.key" : fs::path(o.sim_platform_key))
      .string();
}

std::string sim_platform_public_key(const HostOptions& o) {
  const auto pub = sim_key_path(o) + ".pub";
  std::ifstream in(pub);
  std::string key_hex;
  if (!(in >> key_hex)) throw std::runtime_error(pub + ": cannot read the sim platform public key");
  return key_hex;
}

// The measurement as the enclave reports it in evidence over a throwaway nonce, for the operator's log only:
// verifiers never take it from here (a production policy lists the measurement the operator computed with
// `sliceguard server --measure` on a trusted machine; the sim development policy the one computed below).
std::string reported_measurement(tee::EnclaveProcess& enclave) {
  const auto nonce = crypto::SecretKey::random(tee::kEvidenceNonceBytes);
  auto reply = enclave.get_evidence(crypto::ByteView(nonce.data(), nonce.size()));
  if (!reply) throw std::runtime_error("enclave evidence: " + reply.error().message);
  auto evidence = tee::parse_evidence(reply->evidence);
  if (!evidence) throw std::runtime_error("enclave evidence: " + evidence.error().message);
  return crypto::to_hex(evidence->measurement);
}

std::string write_sim_policy(const HostOptions& o, const std::string& measurement) {
  const nlohmann::json policy = {{"allowed_backends", {"sim"}},
                                 {"allowed_measurements", {measurement}},
                                 {"allow_sim", true},
                                 {"sim_platform_keys", {sim_platform_public_key(o)}}};
  const auto path = (fs::path(o.state_dir) / "client-policy.json").string();
  std::ofstream(path) << policy.dump(2) << "\n";
  return path;
}

// sim: the measurement computed here from the binary and the config, as a verifier would: the development
// policy names it, so even a host's own enclave is verified against what it should be, not what it reports.
std::string expected_sim_measurement(const HostOptions& options, const std::string& config_path) {
  std::ifstream in(config_path, std::ios::binary);
  const crypto::Bytes config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto measurement = tee::sim_measurement(options.enclave_binary, config);
  if (!measurement) throw std::runtime_error(measurement.error().message);
  return crypto::to_hex(*measurement);
}

}  // namespace

std::string sim_peer_policy(const HostOptions& options, const std::vector<std::string>& peer_platform_keys) {
  if (peer_platform_keys.empty())
    throw std::runtime_error("a sim client policy needs the client platforms' public keys (--sim-client-platform)");
  auto code = tee::sim_code_digest(options.enclave_binary);
  if (!code) throw std::runtime_error(code.error().message);
  return nlohmann::json{{"allowed_backends", {"sim"}},
                        {"allowed_code", {crypto::to_hex(crypto::ByteView(code->data(), code->size()))}},
                        {"allow_sim", true},
                        {"sim_platform_keys", peer_platform_keys}}
      .dump();
}

std::string write_enclave_config(const HostOptions& options) {
  fs::create_directories(options.state_dir);
  const auto path = (fs::path(options.state_dir) / "enclave.json").string();
  tee::EnclaveConfigFields fields;
  fields.job = options.job_json;
  if (options.backend == "sim") fields.sim_platform_key = sim_key_path(options);
  if (auto written = tee::write_enclave_config(path, fields); !written) throw std::runtime_error(written.error().message);
  return path;
}

struct EnclaveHost::Impl {
  std::unique_ptr<tee::EnclaveProcess> enclave;
  std::unique_ptr<RelayServer> relay;
  std::string measurement, policy;
};

EnclaveHost::EnclaveHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EnclaveHost::~EnclaveHost() {
  impl_->relay.reset();
  if (impl_->enclave) (void)impl_->enclave->stop();
}

tee::BoundaryTransport enclave_transport(const HostOptions& options) {
  if (options.enclave_transport == "auto")
    return options.backend == "gramine" ? tee::BoundaryTransport::tcp : tee::BoundaryTransport::ring;
  const auto transport = tee::parse_boundary_transport(options.enclave_transport);
  if (!transport) throw std::runtime_error("unknown enclave transport '" + options.enclave_transport + "' (auto, ring, tcp)");
  return *transport;
}

LaunchedEnclave launch_enclave(const HostOptions& options) {
  LaunchedEnclave out;
  tee::EnclaveLaunch launch;
  launch.transport = enclave_transport(options);
  const auto config_path = write_enclave_config(options);
  launch.listen = options.enclave_listen;
  launch.executable = options.enclave_launcher.empty() ? options.enclave_binary : options.enclave_launcher.front();
  if (!options.enclave_launcher.empty())
    launch.args.assign(options.enclave_launcher.begin() + 1, options.enclave_launcher.end());
  launch.args.insert(launch.args.end(), {"enclave", "--backend", options.backend, "--config", config_path});
  launch.ready_timeout = options.ready_timeout;
  auto enclave = tee::EnclaveProcess::start(launch);
  if (!enclave) throw std::runtime_error("cannot start the enclave: " + enclave.error().message);
  out.process = std::move(*enclave);
  out.measurement = reported_measurement(*out.process);
  // A sealed state from an earlier run: only an enclave with the same measurement opens it.
  if (!options.relay.seal_path.empty() && fs::exists(options.relay.seal_path)) {
    std::ifstream in(options.relay.seal_path, std::ios::binary);
    const crypto::Bytes blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (auto restored = out.process->unseal_state(blob); !restored)
      throw std::runtime_error(options.relay.seal_path + ": the enclave refused the sealed state (" +
                               restored.error().message + "); a changed binary, job or platform key cannot open "
                               "it — move the file away to start fresh");
  }
  if (options.backend == "sim") out.sim_policy = write_sim_policy(options, expected_sim_measurement(options, config_path));
  return out;
}

void persist_sealed_state(tee::EnclaveProcess& enclave, const std::string& path) {
  auto blob = enclave.seal_state();
  if (!blob) throw std::runtime_error("sealing the enclave state for " + path + ": " + blob.error().message);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(blob->data()), std::streamsize(blob->size()));
    if (!out.flush()) throw std::runtime_error(tmp + ": cannot write the sealed state");
  }
  fs::rename(tmp, path);
}

std::unique_ptr<EnclaveHost> EnclaveHost::start(const HostOptions& options) {
  auto impl = std::make_unique<Impl>();
  auto launched = launch_enclave(options);
  impl->enclave = std::move(launched.process);
  impl->measurement = std::move(launched.measurement);
  impl->policy = std::move(launched.sim_policy);
  impl->relay = std::make_unique<RelayServer>(*impl->enclave, options.relay);
  return std::unique_ptr<EnclaveHost>(new EnclaveHost(std::move(impl)));
}

int EnclaveHost::port() const { return impl_->relay->port(); }
std::string EnclaveHost::address() const { return "127.0.0.1:" + std::to_string(port()); }
const std::string& EnclaveHost::measurement_hex() const { return impl_->measurement; }
const std::string& EnclaveHost::sim_client_policy() const { return impl_->policy; }
tee::EnclaveProcess& EnclaveHost::enclave() { return *impl_->enclave; }
RelayServer& EnclaveHost::relay() { return *impl_->relay; }

}  // namespace sg::net
