#include "attest/collateral_cache.h"

#include "attest/dcap_quote.h"
#include "attest/dcap_verifier.h"
#include "attest/little_endian.h"
#include "attest/pck_certificate.h"
#include "attest/snp_verifier.h"
#include "attest/trust_anchors.h"

namespace sg::attest {
namespace {

Result<Bytes> fmspc_of(ByteView quote) {
  auto q = parse_dcap_quote(quote);
  if (!q) return crypto::unexpected(q.error());
  const std::string_view pem(reinterpret_cast<const char*>(q->pck_chain_pem.data), q->pck_chain_pem.size);
  auto chain = parse_pem_certificates(pem, "the quote's PCK certificate chain");
  if (!chain) return crypto::unexpected(chain.error());
  auto tcb = read_pck_tcb(chain->front().get());
  if (!tcb) return crypto::unexpected(tcb.error());
  return tcb->fmspc;
}

}  // namespace

Result<Platform> detect_platform(ByteView e) {
  if (e.size >= 8 && e.data[2] == 2 && e.data[3] == 0) {
    const uint32_t tee = load_le<uint32_t>(e, 4);
    if (tee == uint32_t(TeeType::sgx)) return Platform::sgx;
    if (tee == uint32_t(TeeType::tdx)) return Platform::tdx;
  }
  if (e.size == kSnpReportBytes && e.data[2] == 0 && e.data[3] == 0) return Platform::sev_snp;
  return refuse("evidence_format", "evidence of " + std::to_string(e.size) +
                                       " bytes is neither an Intel SGX/TDX quote nor an SEV-SNP report");
}

Result<std::string> collateral_path(ByteView evidence, const std::string& dir) {
  auto platform = detect_platform(evidence);
  if (!platform) return crypto::unexpected(platform.error());
  if (*platform == Platform::sev_snp) {
    auto report = parse_snp_report(evidence);
    if (!report) return crypto::unexpected(report.error());
    return dir + "/amd/" + crypto::to_hex(report->chip_id) + ".der";
  }
  auto fmspc = fmspc_of(evidence);
  if (!fmspc) return crypto::unexpected(fmspc.error());
  return dir + "/intel/" + crypto::to_hex(*fmspc) + ".json";
}

Result<Claims> verify_with_collateral_dir(ByteView evidence, const std::string& dir, std::time_t at) {
  auto path = collateral_path(evidence, dir);
  if (!path) return crypto::unexpected(path.error());
  if (detect_platform(evidence).value() == Platform::sev_snp) {
    auto vcek = load_snp_collateral(*path);
    if (!vcek) return crypto::unexpected(vcek.error());
    return verify_snp_report(evidence, *vcek, at);
  }
  auto collateral = IntelCollateral::load(*path);
  if (!collateral) return crypto::unexpected(collateral.error());
  return verify_dcap_quote(evidence, *collateral, at, intel_sgx_root_ca());
}

}  // namespace sg::attest
