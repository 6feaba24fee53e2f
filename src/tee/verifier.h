// Evidence verification, done by whoever is about to trust an enclave (a client, a peer enclave). Checks, in
// order: the backend is allowed (and sim only with allow_sim); the evidence is authentic (sim platform
// signature, or SGX/TDX/SNP quote — backends without a verifier in this build fail closed); report_data binds
// the enclave's key and this verifier's fresh nonce; the measurement is allowed.
#pragma once

#include "crypto/key_exchange.h"
#include "tee/evidence.h"
#include "tee/policy.h"

namespace sg::tee {

struct VerifiedEnclave {
  Backend backend = Backend::sim;
  Bytes measurement;
};

// `nonce` is the one this verifier sent with get_evidence; `enclave_key` the X25519 key that came with the
// evidence and that the session will be opened with. Errc::evidence, Errc::policy or Errc::unsupported.
[[nodiscard]] Result<VerifiedEnclave> verify_evidence(const Evidence& evidence, const Policy& policy, ByteView nonce,
                                                      const crypto::KxPublicKey& enclave_key);

// A peer enclave that shows its config along with its evidence (federated: a client enclave opening a session
// with the server enclave). With policy.allowed_code, the evidence's measurement must be the sim measurement of
// an allowed code digest and exactly `peer_config`, which proves `peer_config` is the config the peer runs;
// other backends need signer-based identity there and fail closed (Errc::unsupported). Without allowed_code
// this is verify_evidence. The caller then inspects `peer_config` (its job) itself.
[[nodiscard]] Result<VerifiedEnclave> verify_peer_evidence(const Evidence& evidence, ByteView peer_config,
                                                           const Policy& policy, ByteView nonce,
                                                           const crypto::KxPublicKey& enclave_key);

}  // namespace sg::tee
