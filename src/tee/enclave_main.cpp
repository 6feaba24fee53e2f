#include "tee/enclave_main.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "tee/attestation_sim.h"
#include "tee/enclave_runtime.h"
#include "tee/ring_channel.h"
#include "tee/socket_endpoint.h"
#include "tee/stream_channel.h"

namespace sg::tee {
namespace {

// How long an enclave keeps trying to reach a host that is not listening yet.
constexpr std::chrono::seconds kConnectTimeout{30};

Result<std::unique_ptr<BoundaryChannel>> open_channel(const EnclaveOptions& options) {
  const bool ring = options.control_fd >= 0 || options.ring_fd >= 0;
  if (ring == !options.connect.empty() || (ring && (options.control_fd < 0 || options.ring_fd < 0))) {
    return fail(Errc::config, "the enclave needs either --control-fd and --ring-fd, or --connect ENDPOINT (it is "
                              "launched by the host library, a Gramine manifest or a service unit)");
  }
  if (ring) {
    auto memory = SharedMemory::attach(options.ring_fd);
    if (!memory) return crypto::unexpected(memory.error());
    return std::unique_ptr<BoundaryChannel>(
        std::make_unique<RingChannel>(UniqueFd(options.control_fd), std::move(*memory), RingChannel::Side::enclave));
  }
  auto endpoint = parse_endpoint(options.connect);
  if (!endpoint) return crypto::unexpected(endpoint.error());
  auto socket = connect_endpoint(*endpoint, kConnectTimeout);
  if (!socket) return crypto::unexpected(socket.error());
  return std::unique_ptr<BoundaryChannel>(std::make_unique<StreamChannel>(
      std::move(*socket), options.max_payload ? options.max_payload : kDefaultStreamPayloadBytes));
}

Result<std::unique_ptr<AttestationBackend>> open_backend(const std::string& name, const EnclaveConfig& config) {
  const auto backend = parse_backend(name);
  if (!backend) return fail(Errc::config, "unknown TEE backend '" + name + "' (sim, gramine, tsm)");
  return make_attestation_backend(*backend, config);
}

}  // namespace

Status run_enclave(const EnclaveOptions& options) {
  // stdout belongs to the host; the enclave logs to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_st("enclave"));
  if (options.backend == "sim") spdlog::warn(kSimWarning);
  auto config = EnclaveConfig::load(options.config_path);
  if (!config) return crypto::unexpected(config.error());
  auto backend = open_backend(options.backend, *config);
  if (!backend) return crypto::unexpected(backend.error());
  auto channel = open_channel(options);
  if (!channel) return crypto::unexpected(channel.error());
  EnclaveRuntime runtime(std::move(*backend), *config);
  if (options.install) {
    try {
      options.install(runtime, *config);
    } catch (const std::exception& e) {
      return fail(Errc::config, options.config_path + ": job: " + e.what());
    }
  }
  return runtime.serve(**channel);
}

Result<std::string> enclave_measurement_hex(const std::string& backend, const std::string& config_path) {
  auto config = EnclaveConfig::load(config_path);
  if (!config) return crypto::unexpected(config.error());
  auto opened = open_backend(backend, *config);
  if (!opened) return crypto::unexpected(opened.error());
  return crypto::to_hex((*opened)->measurement());
}

}  // namespace sg::tee
