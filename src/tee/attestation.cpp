#include "tee/attestation.h"

#include "tee/attestation_gramine.h"
#include "tee/attestation_sim.h"
#include "tee/attestation_tsm.h"

namespace sg::tee {

Result<std::unique_ptr<AttestationBackend>> make_attestation_backend(Backend backend, const EnclaveConfig& config) {
  switch (backend) {
    case Backend::sim: return SimBackend::create(config);
    case Backend::gramine: return GramineBackend::create(config);
    case Backend::tsm: return TsmBackend::create(config);
  }
  return fail(Errc::config, "unknown backend");
}

Result<Evidence> attest_bound(AttestationBackend& backend, const crypto::Digest32& config_digest,
                              const crypto::KxPublicKey& enclave_key, ByteView nonce) {
  auto evidence = backend.attest(report_data_for(enclave_key, nonce, config_digest));
  if (evidence) evidence->config_digest = config_digest;
  return evidence;
}

}  // namespace sg::tee
