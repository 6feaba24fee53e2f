// The `gramine` backend: the same enclave binary run under Gramine-SGX. Evidence is an SGX DCAP quote obtained
// through Gramine's /dev/attestation: write 64 bytes to user_report_data, read quote. The sealing secret is
// Gramine's MRENCLAVE-bound SGX sealing key (keys/_sgx_mrenclave).
//
// Verification (verify_gramine_evidence) is sg_attest's, with OpenSSL: the quote's PCK chain, signatures and
// TCB status against the policy's collateral_dir, then the policy (hardware_evidence.h).
#pragma once

#include <memory>
#include <string>

#include "tee/attestation.h"
#include "tee/policy.h"

namespace sg::tee {

class GramineBackend final : public AttestationBackend {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AttestationBackend>> create(const EnclaveConfig& config);

  Backend kind() const override { return Backend::gramine; }
  const Bytes& measurement() const override { return measurement_; }
  [[nodiscard]] Result<Evidence> attest(const crypto::Digest64& report_data) override;
  [[nodiscard]] Result<crypto::SecretKey> sealing_key() override;

 private:
  explicit GramineBackend(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  Bytes measurement_;
};

// An SGX quote, verified (hardware_evidence.h).
[[nodiscard]] Status verify_gramine_evidence(const Evidence& evidence, const Policy& policy);

}  // namespace sg::tee
