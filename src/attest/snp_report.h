// An AMD SEV-SNP attestation report (versions 2 and 3; 0x4A0 bytes), parsed into views of its bytes. Layout
// from AMD's SEV-SNP ABI specification (56860), table "ATTESTATION_REPORT Structure".
#pragma once

#include <cstdint>

#include "attest/refusal.h"
#include "crypto/bytes.h"

namespace sg::attest {

using crypto::ByteView;

// TCB_VERSION: the SPLs (security patch levels) of the firmware components, packed in a u64 whose layout
// differs on Turin (which adds the FMC).
struct SnpTcb {
  uint8_t fmc = 0;   // Turin only
  uint8_t bootloader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
  bool operator==(const SnpTcb&) const = default;
};
[[nodiscard]] SnpTcb decode_snp_tcb(uint64_t raw, bool turin);

struct SnpReport {
  uint32_t version = 0;
  uint32_t guest_svn = 0;
  uint64_t policy = 0;
  uint32_t vmpl = 0;
  uint32_t signature_algo = 0;   // 1: ECDSA P-384 with SHA-384
  uint64_t reported_tcb = 0;
  ByteView report_data;   // 64
  ByteView measurement;   // 48
  ByteView host_data;     // 32
  ByteView chip_id;       // 64
  ByteView signed_region; // [0, 0x2A0)
  ByteView signature_r;   // 72, little-endian
  ByteView signature_s;   // 72, little-endian
};

inline constexpr std::size_t kSnpReportBytes = 0x4A0;
inline constexpr uint64_t kSnpPolicyReservedOne = 1ull << 17;
inline constexpr uint64_t kSnpPolicyMigrateMa = 1ull << 18;
inline constexpr uint64_t kSnpPolicyDebug = 1ull << 19;

[[nodiscard]] Result<SnpReport> parse_snp_report(ByteView report);

}  // namespace sg::attest
