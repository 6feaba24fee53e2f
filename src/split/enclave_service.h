// The server enclave's side of split training: builds a SliceTrainer from the enclave config's job and answers
// the protocol of protocol.h on every client session. Clients share the one trainer (`sequential`: vanilla
// split learning); the enclave serves one request at a time, so their steps interleave.
#pragma once

#include "tee/enclave_main.h"

namespace sg::split {

// A tee::ServiceInstaller: does nothing when the config has no job, throws when its job is not a valid split job.
void install_split_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config);

}  // namespace sg::split
