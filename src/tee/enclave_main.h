// The enclave process's entry point, shared by `sliceguard enclave` and the test enclave host. The host library
// (host_enclave_process.h) launches it either with the control socket and the shared-ring memfd already open as
// fds, or with an endpoint to connect to (`--connect`: loopback TCP from the host library; a Gramine manifest's
// or a confidential VM's unit names its own).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "tee/enclave_config.h"
#include "tee/error.h"

namespace sg::tee {

class EnclaveRuntime;

// Registers a protocol's handlers (training, aggregation) on the runtime before it serves; a throw aborts start.
using ServiceInstaller = std::function<void(EnclaveRuntime& runtime, const EnclaveConfig& config)>;

struct EnclaveOptions {
  std::string backend;       // sim | gramine | tsm
  std::string config_path;   // enclave_config.h
  int control_fd = -1;       // SOCK_SEQPACKET end of the host's socketpair
  int ring_fd = -1;          // sealed memfd of the shared ring
  std::string connect;       // or a stream endpoint (socket_endpoint.h) to reach the host on
  std::size_t max_payload = 0;   // the stream's payload limit; 0: kDefaultStreamPayloadBytes
  ServiceInstaller install;  // optional
};

// Serves the host until `stop` (or until the host goes away). The sim backend prints kSimWarning first.
[[nodiscard]] Status run_enclave(const EnclaveOptions& options);

// The measurement (hex) this binary has with this backend and config: the value a verifier's policy lists.
[[nodiscard]] Result<std::string> enclave_measurement_hex(const std::string& backend, const std::string& config_path);

}  // namespace sg::tee
