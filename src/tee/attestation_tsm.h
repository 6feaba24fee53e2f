// The `tsm` backend: confidential VMs (Intel TDX, AMD SEV-SNP) through Linux configfs-tsm. One report is one
// directory <root>/<entry>: write 64 bytes to inblob, read outblob (the TDX quote or SNP report) and provider.
// The kernel bumps `generation` on every write, so reading it before and after tells whether another writer
// raced this request; a race is an error, never a silently mixed report. The root is configurable so tests run
// against a fake tree.
//
// Verification (verify_tsm_evidence) is sg_attest's: a TDX quote against Intel PCS collateral, an SNP report
// against its VCEK and AMD's pinned roots, then the policy (hardware_evidence.h).
#pragma once

#include <memory>
#include <string>

#include "attest/claims.h"
#include "tee/attestation.h"
#include "tee/policy.h"

namespace sg::tee {

// The platform a configfs-tsm provider attests: "tdx_guest" -> TDX, "sev_guest" -> SEV-SNP.
[[nodiscard]] Result<attest::Platform> tsm_platform(const std::string& provider);

class TsmBackend final : public AttestationBackend {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AttestationBackend>> create(const EnclaveConfig& config);

  Backend kind() const override { return Backend::tsm; }
  const Bytes& measurement() const override { return measurement_; }
  [[nodiscard]] Result<Evidence> attest(const crypto::Digest64& report_data) override;
  // configfs-tsm offers no sealing secret: Errc::unsupported.
  [[nodiscard]] Result<crypto::SecretKey> sealing_key() override;

 private:
  explicit TsmBackend(std::string entry) : entry_(std::move(entry)) {}
  std::string entry_;   // <root>/sliceguard-<pid>
  Bytes measurement_;
};

[[nodiscard]] Status verify_tsm_evidence(const Evidence& evidence, const Policy& policy);

}  // namespace sg::tee
