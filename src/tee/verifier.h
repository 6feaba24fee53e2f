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

}  // namespace sg::tee
