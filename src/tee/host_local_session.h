// A host's own end-to-end session with the enclave it launched (the federated client host, whose enclave holds
// the adapter): attest it against the owner's policy, open an AEAD session, exchange envelopes through the
// boundary. The host learns what the enclave chooses to answer (adapter outputs, input gradients), never the
// enclave's parameters.
#pragma once

#include <functional>
#include <memory>

#include "crypto/envelope.h"
#include "tee/attested_session.h"
#include "tee/host_enclave_process.h"

namespace sg::tee {

class LocalSession {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LocalSession>> open(EnclaveProcess& enclave, const Policy& policy);

  const VerifiedEnclave& verified() const { return session_.verified; }
  // Sends one envelope, returns the enclave's reply envelope.
  [[nodiscard]] Result<crypto::Envelope> call(const crypto::Envelope& request);
  // Sees every sealed frame crossing the boundary, both ways (tests search it for plaintext). A frame is valid
  // during the tap's call only: replies are then opened in place.
  void set_tap(std::function<void(ByteView frame)> tap) { tap_ = std::move(tap); }

 private:
  LocalSession(EnclaveProcess& enclave, AttestedSession session) : enclave_(enclave), session_(std::move(session)) {}
  EnclaveProcess& enclave_;
  AttestedSession session_;
  std::function<void(ByteView)> tap_;
};

}  // namespace sg::tee
