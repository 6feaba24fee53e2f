// The `tsm` backend: confidential VMs (Intel TDX, AMD SEV-SNP) through Linux configfs-tsm. One report is one
// directory <root>/<entry>: write 64 bytes to inblob, read outblob (the TDX quote or SNP report) and provider.
// Where the configfs-tsm root does not exist, an SNP guest reports through /dev/sev-guest (sev_guest.h) instead,
// at VMPL 0 (a guest under an SVSM needs configfs-tsm, whose privlevel_floor gives the level reports and sealing
// keys are asked at).
// The kernel bumps `generation` on every write, so reading it before and after tells whether another writer
// raced this request; a race is an error, never a silently mixed report. The root is configurable so tests run
// against a fake tree.
//
// Sealing: on SEV-SNP, the firmware's derived key through /dev/sev-guest (sev_guest.h), bound to the launch
// measurement and policy; TDX has no hardware sealing key (Errc::unsupported: a key-release service would be needed).
//
// Verification (verify_tsm_evidence) is sg_attest's: a TDX quote against Intel PCS collateral, an SNP report
// against its VCEK and AMD's pinned roots, then the policy (hardware_evidence.h).
#pragma once

#include <memory>
#include <string>

#include "attest/claims.h"
#include "tee/attestation.h"
#include "tee/policy.h"
#include "tee/sev_guest.h"

namespace sg::tee {

// The platform a configfs-tsm provider attests: "tdx_guest" -> TDX, "sev_guest" -> SEV-SNP.
[[nodiscard]] Result<attest::Platform> tsm_platform(const std::string& provider);

class TsmBackend final : public AttestationBackend {
 public:
  // `sev_guest`: how SEV-SNP key requests reach the firmware; empty: the config's sev_guest_device.
  [[nodiscard]] static Result<std::unique_ptr<AttestationBackend>> create(const EnclaveConfig& config,
                                                                          SevGuestIoctl sev_guest = {});

  Backend kind() const override { return Backend::tsm; }
  const Bytes& measurement() const override { return measurement_; }
  [[nodiscard]] Result<Evidence> attest(const crypto::Digest64& report_data) override;
  // SEV-SNP: from the firmware's derived key. TDX: Errc::unsupported.
  [[nodiscard]] Result<crypto::SecretKey> sealing_key() override;

 private:
  TsmBackend(std::string entry, SevGuestIoctl sev_guest) : entry_(std::move(entry)), sev_guest_(std::move(sev_guest)) {}
  std::string entry_;   // <root>/sliceguard-<pid>
  SevGuestIoctl sev_guest_;
  Bytes measurement_;
  [[nodiscard]] Status make_entry() const;
  [[nodiscard]] static Result<Evidence> evidence_of(Bytes report, std::string provider,
                                                    const crypto::Digest64& report_data, const std::string& source);

  bool configfs_ = true;   // false: reports through sev_guest_
  attest::Platform platform_ = attest::Platform::tdx;
  uint32_t vmpl_ = 0;   // SEV-SNP: the VMPL this guest runs at
};

[[nodiscard]] Status verify_tsm_evidence(const Evidence& evidence, const Policy& policy);

}  // namespace sg::tee
