// Method 1's mutual attestation (DESIGN §7 step 1), the half the server enclave checks. A client enclave that
// opens a session with the server enclave shows
//
//   {"evidence": hex (tee/evidence.h), "config": hex (the client enclave's config file, as measured)}
//
// whose evidence binds the client enclave's session key and the server enclave's own key (fresh per server
// enclave run). The server enclave admits it when the evidence passes its client policy as a peer that runs
// allowed code with exactly that config (tee::verify_peer_evidence), and that config's job is a
// federated-client whose server_policy admits this server enclave's measurement: the adapter a client sends
// can only have come from an enclave that would send it nowhere else but to enclaves its owner allowed.
#pragma once

#include <string>

#include "crypto/key_exchange.h"
#include "tee/attestation.h"
#include "tee/policy.h"

namespace sg::federated {

[[nodiscard]] tee::Result<std::string> make_peer_attestation(tee::AttestationBackend& backend, tee::ByteView own_config,
                                                             const crypto::KxPublicKey& own_key,
                                                             const crypto::KxPublicKey& server_key);

// Errc::evidence / policy / unsupported / protocol naming what failed.
[[nodiscard]] tee::Status check_peer_attestation(tee::ByteView attestation, const tee::Policy& client_policy,
                                                 const tee::Bytes& own_measurement,
                                                 const crypto::KxPublicKey& peer_key,
                                                 const crypto::KxPublicKey& own_key);

}  // namespace sg::federated
