// Envelope services inside the enclave: a protocol registers one handler, and every session's authenticated
// frames are reassembled into envelopes (crypto/envelope.h) for it; its reply envelope is sealed back to the
// same session. Each session has its own reassembly state, so interleaved clients cannot mix their tensors.
#pragma once

#include <functional>

#include "crypto/envelope.h"
#include "tee/enclave_runtime.h"

namespace sg::tee {

// Returns the reply to one request envelope of `caller`. Protocol-level failures belong in the reply (the
// peer must learn them, the host must not); an error result is reported to the host as a rejected frame.
using EnvelopeHandler = std::function<Result<crypto::Envelope>(const Caller& caller, crypto::Envelope request)>;

// What one request envelope may carry; a tensor announced larger is refused by its first chunk, before any
// memory is reserved for it.
struct EnvelopeLimits {
  uint64_t max_tensor_bytes = uint64_t(4) << 30;
  std::size_t max_tensors = 64;
};

// Installs the frame handlers for PayloadKind::tensor and PayloadKind::message on `runtime`; a session's partial
// envelope is dropped when the session closes.
void serve_envelopes(EnclaveRuntime& runtime, EnvelopeHandler handler, EnvelopeLimits limits = {});

}  // namespace sg::tee
