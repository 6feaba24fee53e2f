// A federated client enclave: holds the adapter — LoRA pairs (created exactly as peft::Lora::attach would, from the
// module shapes its host reports) or P-tuning v2's prefix — and its AdamW state, computes the adapter's
// contributions and gradients for the host's frozen model, and steps the optimiser; it is also the end point of
// the session with the server enclave. Ops: client_protocol.h (host) and server_protocol.h (server enclave).
#pragma once

#include "tee/enclave_main.h"

namespace sg::federated {

// A tee::ServiceInstaller for configs whose job kind is "federated-client"; throws on an invalid job.
void install_client_adapter_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config);

}  // namespace sg::federated
