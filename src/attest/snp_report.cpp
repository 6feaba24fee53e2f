#include "attest/snp_report.h"

#include "attest/little_endian.h"

#include <string>

namespace sg::attest {
namespace {

uint8_t byte_of(uint64_t raw, int index) { return uint8_t(raw >> (8 * index)); }

}  // namespace

SnpTcb decode_snp_tcb(uint64_t raw, bool turin) {
  if (turin) return {byte_of(raw, 0), byte_of(raw, 1), byte_of(raw, 2), byte_of(raw, 3), byte_of(raw, 7)};
  return {0, byte_of(raw, 0), byte_of(raw, 1), byte_of(raw, 6), byte_of(raw, 7)};
}

Result<SnpReport> parse_snp_report(ByteView b) {
  if (b.size != kSnpReportBytes) {
    return refuse("report_format", "SEV-SNP report of " + std::to_string(b.size) + " bytes, expected " +
                                       std::to_string(kSnpReportBytes));
  }
  SnpReport r;
  r.version = load_le<uint32_t>(b, 0x00);
  if (r.version < 2 || r.version > 5) {
    return refuse("report_format", "SEV-SNP report version " + std::to_string(r.version) + " is not 2 to 5");
  }
  r.guest_svn = load_le<uint32_t>(b, 0x04);
  r.policy = load_le<uint64_t>(b, 0x08);
  if ((r.policy & kSnpPolicyReservedOne) == 0) {
    return refuse("report_format", "SEV-SNP guest policy bit 17 (reserved, must be one) is zero");
  }
  r.vmpl = load_le<uint32_t>(b, 0x30);
  r.signature_algo = load_le<uint32_t>(b, 0x34);
  if (r.signature_algo != 1) {
    return refuse("report_format", "SEV-SNP signature algorithm " + std::to_string(r.signature_algo) +
                                       ", expected 1 (ECDSA P-384 with SHA-384)");
  }
  r.report_data = b.subview(0x50, 64);
  r.measurement = b.subview(0x90, 48);
  r.host_data = b.subview(0xC0, 32);
  r.reported_tcb = load_le<uint64_t>(b, 0x180);
  r.chip_id = b.subview(0x1A0, 64);
  r.signed_region = b.subview(0, 0x2A0);
  r.signature_r = b.subview(0x2A0, 72);
  r.signature_s = b.subview(0x2A0 + 72, 72);
  return r;
}

}  // namespace sg::attest
