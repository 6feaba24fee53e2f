// Attest, then open (docs/DESIGN.md §6 steps 1-2), for any way of reaching an enclave: evidence over a fresh nonce is
// verified against the caller's policy before anything else is sent; session keys are derived with the key
// the evidence binds, and the enclave must open exactly the session the handshake derives. Used over gRPC by
// remote clients (net/remote_enclave.h) and directly by a host talking to its own enclave (host_local_session.h).
#pragma once

#include <functional>
#include <memory>

#include "crypto/aead_channel.h"
#include "crypto/signing.h"
#include "tee/messages.h"
#include "tee/policy.h"
#include "tee/verifier.h"

namespace sg::tee {

struct EnclaveDoor {
  std::function<Result<EvidenceReply>(ByteView nonce)> get_evidence;
  // `proof`: what the enclave's admission checks (an enrolled client's identity proof), or empty.
  std::function<Result<crypto::SessionId>(const crypto::KxPublicKey& our_key, ByteView proof)> open_session;
};

struct AttestedSession {
  VerifiedEnclave verified;
  std::unique_ptr<crypto::AeadChannel> channel;
};

// Errc::evidence / policy / unsupported when the enclave is refused; the door's own errors pass through. With
// `identity`, the session is opened as that enrolled client (tee/client_identity.h).
[[nodiscard]] Result<AttestedSession> attest_and_open(const EnclaveDoor& door, const Policy& policy,
                                                      const crypto::SigningKeyPair* identity = nullptr);

}  // namespace sg::tee
