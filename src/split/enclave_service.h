// The server enclave's side of split training: builds the trainers of the enclave config's job (trainer_pool.h:
// one shared, or one per client in parallel mode) and answers the protocol of protocol.h on every client
// session. The enclave serves one request at a time, so concurrent clients' steps interleave.
#pragma once

#include "tee/enclave_main.h"

namespace sg::split {

// A tee::ServiceInstaller: does nothing when the config has no job, throws when its job is not a valid split job.
void install_split_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config);

}  // namespace sg::split
