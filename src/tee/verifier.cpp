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
  if (evidence.backend == Backend::tsm && policy.allowed_configs.empty()) {
    return fail(Errc::policy, "a tsm measurement covers the VM image, not the config the enclave runs: list the "
                              "SHA-256 of the enclave's config file in allowed_configs of " + policy.source);
  }
  if (auto authentic = verify_authenticity(evidence, policy); !authentic) return crypto::unexpected(authentic.error());
  if (evidence.report_data != report_data_for(enclave_key, nonce, evidence.config_digest)) {
    return fail(Errc::evidence, "report_data does not bind this verifier's nonce, the enclave's key and the config "
                                "digest it shows (stale, replayed or substituted evidence)");
  }
  const auto& allowed = policy.allowed_measurements;
  if (std::find(allowed.begin(), allowed.end(), evidence.measurement) == allowed.end()) {
    return fail(Errc::policy, "measurement " + crypto::to_hex(evidence.measurement) +
                                  " is not in allowed_measurements of " + policy.source);
  }
  const Bytes config(evidence.config_digest.begin(), evidence.config_digest.end());
  const auto& configs = policy.allowed_configs;
  if (!configs.empty() && std::find(configs.begin(), configs.end(), config) == configs.end()) {
    return fail(Errc::policy, "enclave config " + crypto::to_hex(config) + " is not in allowed_configs of " +
                                  policy.source);
  }
  if (evidence.backend == Backend::sim) spdlog::warn("accepting sim evidence. {}", kSimWarning);
  return VerifiedEnclave{evidence.backend, evidence.measurement};
}

Result<VerifiedEnclave> verify_peer_evidence(const Evidence& evidence, ByteView peer_config, const Policy& policy,
                                             ByteView nonce, const crypto::KxPublicKey& enclave_key) {
  if (config_digest_of(peer_config) != evidence.config_digest)
    return fail(Errc::evidence, "the config the peer showed is not the one its evidence binds");
  if (policy.allowed_code.empty()) return verify_evidence(evidence, policy, nonce, enclave_key);
  if (evidence.backend != Backend::sim) {
    return fail(Errc::unsupported, "allowed_code in " + policy.source + " admits sim peers only; a " +
                                       backend_name(evidence.backend) + " peer needs signer-based identity (not built)");
  }
  for (const Bytes& code : policy.allowed_code) {
    crypto::Digest32 digest{};
    std::copy(code.begin(), code.end(), digest.begin());
    if (sim_measurement_of(digest, peer_config) != evidence.measurement) continue;
    Policy admitting = policy;   // this measurement is now known to be allowed code running peer_config
    admitting.allowed_measurements = {evidence.measurement};
    return verify_evidence(evidence, admitting, nonce, enclave_key);
  }
  return fail(Errc::policy, "measurement " + crypto::to_hex(evidence.measurement) + " is not allowed code of " +
                                policy.source + " running the config the peer showed");
}

}  // namespace sg::tee
