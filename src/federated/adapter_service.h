// A federated client enclave: holds the LoRA pairs (created exactly as peft::Lora::attach would, from the module
// shapes its host reports) and their AdamW state, computes the adapters' contributions and gradients for the
// host's frozen model, and steps the optimiser. Protocol: protocol.h.
#pragma once

#include "tee/enclave_main.h"

namespace sg::federated {

// A tee::ServiceInstaller for configs whose job kind is "federated-client"; throws on an invalid job.
void install_client_adapter_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config);

}  // namespace sg::federated
