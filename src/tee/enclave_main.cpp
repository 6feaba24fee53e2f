#include "tee/enclave_main.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "tee/attestation_sim.h"
#include "tee/enclave_runtime.h"

namespace sg::tee {
namespace {

Result<std::unique_ptr<AttestationBackend>> open_backend(const std::string& name, const EnclaveConfig& config) {
  const auto backend = parse_backend(name);
  if (!backend) return fail(Errc::config, "unknown TEE backend '" + name + "' (sim, gramine, tsm)");
  return make_attestation_backend(*backend, config);
}

}  // namespace

Status run_enclave(const EnclaveOptions& options) {
  // stdout belongs to the host; the enclave logs to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_st("enclave"));
  if (options.control_fd < 0 || options.ring_fd < 0) {
    return fail(Errc::config, "the enclave needs --control-fd and --ring-fd (it is launched by the host library)");
  }
  if (options.backend == "sim") spdlog::warn(kSimWarning);
  auto config = EnclaveConfig::load(options.config_path);
  if (!config) return crypto::unexpected(config.error());
  auto backend = open_backend(options.backend, *config);
  if (!backend) return crypto::unexpected(backend.error());
  auto memory = SharedMemory::attach(options.ring_fd);
  if (!memory) return crypto::unexpected(memory.error());
  HostChannel channel(UniqueFd(options.control_fd), std::move(*memory), HostChannel::Side::enclave);
  EnclaveRuntime runtime(std::move(*backend));
  if (options.install) {
    try {
      options.install(runtime, *config);
    } catch (const std::exception& e) {
      return fail(Errc::config, options.config_path + ": job: " + e.what());
    }
  }
  return runtime.serve(channel);
}

Result<std::string> enclave_measurement_hex(const std::string& backend, const std::string& config_path) {
  auto config = EnclaveConfig::load(config_path);
  if (!config) return crypto::unexpected(config.error());
  auto opened = open_backend(backend, *config);
  if (!opened) return crypto::unexpected(opened.error());
  return crypto::to_hex((*opened)->measurement());
}

}  // namespace sg::tee
