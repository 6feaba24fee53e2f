// An attestation backend, as used inside the enclave: it knows the enclave's measurement, produces evidence
// binding 64 bytes of report data, and provides the sealing key. Verification is host- or peer-side and lives
// in verifier.h (with one verify_* function per backend next to its producer).
#pragma once

#include <memory>

#include "crypto/hash.h"
#include "crypto/secret_key.h"
#include "tee/enclave_config.h"
#include "tee/evidence.h"

namespace sg::tee {

class AttestationBackend {
 public:
  virtual ~AttestationBackend() = default;
  virtual Backend kind() const = 0;
  virtual const Bytes& measurement() const = 0;
  [[nodiscard]] virtual Result<Evidence> attest(const crypto::Digest64& report_data) = 0;
  // Key derived from the backend's sealing secret and the measurement; Errc::unsupported where the platform
  // offers no sealing secret.
  [[nodiscard]] virtual Result<crypto::SecretKey> sealing_key() = 0;
};

[[nodiscard]] Result<std::unique_ptr<AttestationBackend>> make_attestation_backend(Backend backend,
                                                                                   const EnclaveConfig& config);

// Evidence binding the enclave's `enclave_key`, a verifier's `nonce` and the config the enclave runs
// (report_data_for), which it carries as config_digest.
[[nodiscard]] Result<Evidence> attest_bound(AttestationBackend& backend, const crypto::Digest32& config_digest,
                                            const crypto::KxPublicKey& enclave_key, ByteView nonce);

}  // namespace sg::tee
