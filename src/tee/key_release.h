// Key release: a sealing key for enclaves whose platform offers none (a TDX guest), from a key broker that first
// verified the enclave's evidence.
//
// The enclave's config (so its measurement on gramine and sim, its config digest everywhere) pins the broker's
// Ed25519 key ("key_broker"). Such an enclave seals only with a released key, on any backend:
//   1. the host asks the enclave for evidence with the broker's fresh nonce (get_evidence);
//   2. the broker verifies it against its own policy (verify_evidence: backend, authenticity, nonce + enclave key
//      + config binding, measurement, allowed configs), refuses a debug enclave, and derives the key from its master
//      secret and the enclave's whole measured identity (backend, config digest, measurement; TDX: the RTMRs too;
//      SNP: HOST_DATA and the guest policy; SGX: MRSIGNER and ISVPRODID) — the same enclave build with the same
//      job gets the same key after every restart, and any other admitted enclave gets another;
//   3. the broker seals the key to the enclave's ephemeral X25519 key (crypto_box_seal) and signs the release;
//   4. the host passes the release to the enclave (install_key), which checks the broker's signature, that it names
//      this enclave's key, measurement and config, opens the box, and keeps the key for seal_state/unseal_state.
// The host relays only a box it cannot open. A pinned broker replaces the platform's sealing key on every backend:
// the key is bound to the enclave's identity, not to the machine, so any machine the broker admits can open it.
// The broker is a party the verifiers trust (a data owner, or a KMS they audit); this build has the broker as a
// library and tests it with the sim verifier — no network service.
#pragma once

#include "crypto/hash.h"
#include "crypto/key_exchange.h"
#include "crypto/signing.h"
#include "tee/evidence.h"
#include "tee/policy.h"

namespace sg::tee {

class KeyBroker {
 public:
  // `master`: 32 bytes the broker keeps; every key it releases derives from it.
  KeyBroker(crypto::SigningKeyPair identity, crypto::SecretKey master);

  const crypto::VerifyKey& public_key() const { return identity_.public_key; }

  // The signed release for the enclave whose `evidence` binds `nonce` and `enclave_key`, or the refusal. The
  // nonce must be one this broker drew fresh and uses once (a service keeps that state; this class does not).
  [[nodiscard]] Result<Bytes> release(const Evidence& evidence, ByteView nonce, const crypto::KxPublicKey& enclave_key,
                                      const Policy& policy) const;

 private:
  crypto::SigningKeyPair identity_;
  crypto::SecretKey master_;
};

// What a released key is bound to, from evidence verify_evidence accepted: the backend, the config digest and every
// measured part of the enclave's identity (TDX: MRTD and the RTMRs, not just the firmware's MRTD; SNP: MEASUREMENT,
// HOST_DATA and the guest POLICY; SGX: MRENCLAVE, MRSIGNER, ISVPRODID), not the TCB levels, which platform updates
// raise. Errc::policy for a debug enclave: its host can read its memory, so it gets no key.
[[nodiscard]] Result<Bytes> release_identity(const Evidence& evidence);

// Enclave side: the 32-byte key in `release`, when `broker` signed it for `own` key, this measurement and config.
[[nodiscard]] Result<crypto::SecretKey> open_released_key(ByteView release, const crypto::VerifyKey& broker,
                                                          const crypto::KxKeyPair& own, ByteView measurement,
                                                          const crypto::Digest32& config_digest);

}  // namespace sg::tee
