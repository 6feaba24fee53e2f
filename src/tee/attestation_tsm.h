// The `tsm` backend: confidential VMs (Intel TDX, AMD SEV-SNP) through Linux configfs-tsm. One report is one
// directory <root>/<entry>: write 64 bytes to inblob, read outblob (the TDX quote or SNP report) and provider.
// The kernel bumps `generation` on every write, so reading it before and after tells whether another writer
// raced this request; a race is an error, never a silently mixed report. The root is configurable so tests run
// against a fake tree.
//
// Verification checks report data, measurement (TDX MRTD / SNP MEASUREMENT) and the debug bit, then fails
// closed: no TDX or SNP quote verifier is built in yet (TDX needs Intel DCAP QVL's TDX path, SNP the AMD
// VCEK certificate chain), so no tsm evidence is accepted by this build.
#pragma once

#include <memory>
#include <string>

#include "tee/attestation.h"
#include "tee/policy.h"

namespace sg::tee {

struct TsmReportFields {
  Bytes measurement;   // 48 bytes
  crypto::Digest64 report_data{};
  bool debug = false;
};
// Parses a TDX quote (provider "tdx_guest") or an SNP attestation report (provider "sev_guest").
[[nodiscard]] Result<TsmReportFields> parse_tsm_report(const std::string& provider, ByteView report);

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
