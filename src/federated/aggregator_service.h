// A federated server enclave (job kind "federated-server"): receives the client enclaves' adapters over their
// AEAD sessions, aggregates them round by round (aggregator.h) and returns the global adapter sealed to each
// client enclave. Its state is written to the trusted state after every change, so the host seals it after
// every exchange and a restarted enclave continues the same round. Ops: server_protocol.h.
#pragma once

#include "tee/enclave_main.h"

namespace sg::federated {

// A tee::ServiceInstaller for configs whose job kind is "federated-server"; throws on an invalid job.
void install_aggregator_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config);

}  // namespace sg::federated
