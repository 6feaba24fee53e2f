// Verification of an AMD SEV-SNP report with OpenSSL, at a given time. Named checks:
//   vcek_chain        VCEK -> ASK -> ARK of the product line (pinned); RSASSA-PSS, validity at `at`
//   report_signature  the VCEK's ECDSA P-384 key over bytes [0, 0x2A0)
//   vcek_tcb          the report's REPORTED_TCB equals the SPLs the VCEK was issued for
//   chip_id           the report's CHIP_ID is the VCEK's hwID
// The TCB status is UpToDate when these hold: AMD publishes no TCB info, so older firmware is refused through
// the policy's sev_snp.min_tcb (the claims carry the reported SPLs). Debug, migration agent, VMPL and
// measurements are the policy's (check_claims). AMD's CRLs are not checked (a revoked ASK or VCEK passes
// until it expires).
#pragma once

#include <ctime>

#include "attest/claims.h"
#include "attest/openssl_objects.h"
#include "attest/snp_report.h"
#include "attest/trust_anchors.h"

namespace sg::attest {

struct SnpCollateral {
  X509Ptr vcek;   // the chip's VCEK for this TCB (AMD KDS: /vcek/v1/{product}/{hwid}?blSPL=..)
};
[[nodiscard]] Result<SnpCollateral> load_snp_collateral(const std::string& vcek_path);

// `roots` defaults to the pinned ARK/ASK of the VCEK's product line (its productName extension).
[[nodiscard]] Result<Claims> verify_snp_report(ByteView report, const SnpCollateral& collateral, std::time_t at,
                                               std::optional<AmdRoots> roots = std::nullopt);

}  // namespace sg::attest
