#include "tee/enclave_main.h"

#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "tee/attestation_sim.h"
#include "tee/enclave_runtime.h"

namespace sg::tee {
namespace {

// Buffers up to 32 MiB (glibc's ceiling for this setting) come from the heap, and up to 128 MiB of freed heap
// is kept for the next request (see run_enclave).
constexpr int kHeapBufferBytes = 32 << 20;
constexpr int kKeptFreeBytes = 128 << 20;

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
  // Every request allocates frame- and tensor-sized buffers. glibc serves them by mmap, or trims the heap after
  // they are freed, so each request faulted fresh zeroed pages in again (a perf profile of the federated bench's
  // client enclave, d512 model: ~30% of its time in the kernel's page faults). Keep freed memory for the next
  // request; this does not raise the peak, which is one request's working set either way.
  if (::mallopt(M_MMAP_THRESHOLD, kHeapBufferBytes) != 1 || ::mallopt(M_TRIM_THRESHOLD, kKeptFreeBytes) != 1)
    spdlog::warn("the allocator refused its settings: requests will fault fresh pages in (slower, not wrong)");
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
