#include "tee/verifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tee/attestation_gramine.h"
#include "tee/attestation_sim.h"
#include "tee/attestation_tsm.h"

namespace sg::tee {
namespace {

Status verify_authenticity(const Evidence& evidence, const Policy& policy) {
  switch (evidence.backend) {
    case Backend::sim: return verify_sim_evidence(evidence, policy);
    case Backend::gramine: return verify_gramine_evidence(evidence, policy);
    case Backend::tsm: return verify_tsm_evidence(evidence, policy);
  }
  return fail(Errc::evidence, "unknown backend");
}

}  // namespace

Result<VerifiedEnclave> verify_evidence(const Evidence& evidence, const Policy& policy, ByteView nonce,
                                        const crypto::KxPublicKey& enclave_key) {
  const std::string backend = backend_name(evidence.backend);
  if (!policy.allowed_backends.count(evidence.backend)) {
    return fail(Errc::policy, "backend '" + backend + "' is not in allowed_backends of " + policy.source);
  }
  if (evidence.backend == Backend::sim && !policy.allow_sim) {
    return fail(Errc::policy, "sim evidence refused: allow_sim is false in " + policy.source +
                                  " (the sim backend is NOT a security boundary)");
  }
  if (auto authentic = verify_authenticity(evidence, policy); !authentic) return crypto::unexpected(authentic.error());
  if (evidence.report_data != report_data_for(enclave_key, nonce)) {
    return fail(Errc::evidence, "report_data does not bind this verifier's nonce and the enclave's key "
                                "(stale, replayed or substituted evidence)");
  }
  const auto& allowed = policy.allowed_measurements;
  if (std::find(allowed.begin(), allowed.end(), evidence.measurement) == allowed.end()) {
    return fail(Errc::policy, "measurement " + crypto::to_hex(evidence.measurement) +
                                  " is not in allowed_measurements of " + policy.source);
  }
  if (evidence.backend == Backend::sim) spdlog::warn("accepting sim evidence. {}", kSimWarning);
  return VerifiedEnclave{evidence.backend, evidence.measurement};
}

}  // namespace sg::tee
