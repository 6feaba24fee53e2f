// Envelope services inside the enclave: a protocol registers one handler, and every session's authenticated
// frames are reassembled into envelopes (crypto/envelope.h) for it; its reply envelope is sealed back to the
// same session. Each session has its own reassembly state, so interleaved clients cannot mix their tensors.
#pragma once

#include <functional>

#include "crypto/envelope.h"
#include "tee/enclave_runtime.h"

namespace sg::tee {

// Returns the reply to one request envelope of `session`. Protocol-level failures belong in the reply (the
// peer must learn them, the host must not); an error result is reported to the host as a rejected frame.
using EnvelopeHandler = std::function<Result<crypto::Envelope>(const crypto::SessionId& session, crypto::Envelope request)>;

// Installs the frame handlers for PayloadKind::tensor and PayloadKind::message on `runtime`.
void serve_envelopes(EnclaveRuntime& runtime, EnvelopeHandler handler);

}  // namespace sg::tee
