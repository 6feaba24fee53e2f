// `sliceguard enclave`: the enclave process. The host library (src/tee/host_enclave_process.h) launches it with the
// control socket and shared ring as fds, or with a loopback endpoint to connect to; `--measure` prints the measurement a verifier's policy should allow.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "cli/commands.h"
#include "tee/enclave_main.h"

namespace sg::cli {

void add_enclave_command(CLI::App& app, tee::ServiceInstaller install) {
  auto* cmd = app.add_subcommand("enclave", "Run the enclave process (launched by the host library, not by hand)");
  auto options = std::make_shared<tee::EnclaveOptions>();
  options->install = std::move(install);
  auto measure = std::make_shared<bool>(false);
  cmd->add_option("--backend", options->backend, "TEE backend")
      ->required()
      ->check(CLI::IsMember({"sim", "gramine", "tsm"}));
  cmd->add_option("--config", options->config_path, "enclave config (JSON)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--control-fd", options->control_fd, "control socket fd (set by the host library)");
  cmd->add_option("--ring-fd", options->ring_fd, "shared ring memfd (set by the host library)");
  cmd->add_option("--connect", options->connect,
                  "reach the host over a stream instead: tcp:ADDRESS:PORT or vsock:CID:PORT (the host listens)");
  cmd->add_option("--max-payload", options->max_payload, "the stream's largest message payload in bytes")
      ->check(CLI::Range(std::size_t(1) << 16, std::size_t(UINT32_MAX)));
  cmd->add_flag("--measure", *measure, "print this enclave's measurement (hex) for a verifier policy and exit");
  cmd->callback([options, measure] {
    if (*measure) {
      std::cout << tee::enclave_measurement_hex(options->backend, options->config_path).value() << "\n";
      return;
    }
    if (auto served = tee::run_enclave(*options); !served) throw std::runtime_error(served.error().message);
  });
}

}  // namespace sg::cli
