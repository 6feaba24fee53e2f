// Evidence of any supported platform, verified with collateral from a cache directory laid out as
// deploy/cvm/README.md describes (filled ahead of time from Intel PCS / AMD KDS, or by a PCCS):
//
//   DIR/intel/<fmspc>.json   PCS collateral (intel_collateral.h) for platforms of that FMSPC, lowercase hex
//   DIR/amd/<chip_id>.der    the VCEK of that chip (lowercase hex of its 64-byte CHIP_ID) at its current TCB
//
// The platform is recognised from the evidence's first bytes: Intel quotes carry attestation key type 2 at
// offset 2 (SGX v3, TDX v4/v5); an SNP report is 0x4A0 bytes starting with a u32 version.
#pragma once

#include <ctime>
#include <string>

#include "attest/claims.h"
#include "attest/refusal.h"
#include "crypto/bytes.h"

namespace sg::attest {

[[nodiscard]] Result<Platform> detect_platform(crypto::ByteView evidence);

// The collateral file this evidence needs, under `dir` (for messages and the deploy script).
[[nodiscard]] Result<std::string> collateral_path(crypto::ByteView evidence, const std::string& dir);

[[nodiscard]] Result<Claims> verify_with_collateral_dir(crypto::ByteView evidence, const std::string& dir,
                                                        std::time_t at);

}  // namespace sg::attest
