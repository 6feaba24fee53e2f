// The `sim` backend: development and CI only — NOT a security boundary. The enclave is an ordinary process the
// host can inspect, and the "platform" key is a file on the same machine. It exists so the whole protocol
// (evidence, policy, sessions, sealing) runs everywhere; verifiers accept it only under allow_sim = true.
//
//   code        = SHA-256(enclave binary)
//   measurement = SHA-256("sliceguard-sim-measurement-v2" || code || SHA-256(config))
// The code digest stays separable so a peer enclave can admit "this code with a config I inspect" without
// knowing the config in advance (Policy::allowed_code; federated mutual attestation).
//   signature   = Ed25519_platform("sliceguard-sim-evidence-v1" || measurement || report_data)
//   sealing key = derive_sealing_key(platform seed, measurement)
#pragma once

#include <memory>
#include <string>

#include "crypto/hash.h"
#include "crypto/signing.h"
#include "tee/attestation.h"
#include "tee/policy.h"

namespace sg::tee {

// The warning every sim enclave and every verifier that accepts sim evidence prints.
inline constexpr const char* kSimWarning =
    "*** TEE backend 'sim' is NOT a security boundary: the host can read all enclave memory and the platform key "
    "is a local file. Use it for development and CI only. ***";

// Loads the platform key (a 32-byte Ed25519 seed, mode 0600) or creates it atomically if absent, writing the
// public key in hex to `<path>.pub` for verifiers. Refuses a key file readable by group or others.
[[nodiscard]] Result<crypto::SigningKeyPair> load_or_create_platform_key(const std::string& path);

[[nodiscard]] Result<crypto::Digest32> sim_code_digest(const std::string& binary_path);
[[nodiscard]] Bytes sim_measurement_of(const crypto::Digest32& code, ByteView config_bytes);
[[nodiscard]] Result<Bytes> sim_measurement(const std::string& binary_path, ByteView config_bytes);

class SimBackend final : public AttestationBackend {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AttestationBackend>> create(const EnclaveConfig& config);

  Backend kind() const override { return Backend::sim; }
  const Bytes& measurement() const override { return measurement_; }
  [[nodiscard]] Result<Evidence> attest(const crypto::Digest64& report_data) override;
  [[nodiscard]] Result<crypto::SecretKey> sealing_key() override;

 private:
  SimBackend(crypto::SigningKeyPair platform, Bytes measurement)
      : platform_(std::move(platform)), measurement_(std::move(measurement)) {}
  crypto::SigningKeyPair platform_;
  Bytes measurement_;
};

// Checks the platform signature against policy.sim_platform_keys (the caller has checked allow_sim).
[[nodiscard]] Status verify_sim_evidence(const Evidence& evidence, const Policy& policy);

}  // namespace sg::tee
