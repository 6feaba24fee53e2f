#include "attest/dcap_verifier.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

#include "attest/certificate_chain.h"
#include "attest/dcap_quote.h"
#include "attest/ecdsa.h"
#include "attest/pck_certificate.h"

namespace sg::attest {
namespace {


Bytes copy(ByteView v) { return v.to_bytes(); }

bool equal(ByteView a, const Bytes& b) { return a.size == b.size() && std::equal(b.begin(), b.end(), a.data); }

// The parsed collateral with its certificates, kept alive for the checks.
struct LoadedCollateral {
  std::vector<X509Ptr> pck_chain;           // from the quote: leaf first
  std::vector<X509Ptr> tcb_signing_chain;   // TCB info's issuer chain: signer first
  std::vector<X509Ptr> qe_signing_chain;
  X509CrlPtr root_crl;
  X509CrlPtr pck_crl;
};

std::vector<X509*> raw(const std::vector<X509Ptr>& certs, std::size_t from) {
  std::vector<X509*> out;
  for (std::size_t i = from; i < certs.size(); ++i) out.push_back(certs[i].get());
  return out;
}

Result<LoadedCollateral> load(const DcapQuote& quote, const IntelCollateral& c) {
  LoadedCollateral l;
  const std::string_view pem(reinterpret_cast<const char*>(quote.pck_chain_pem.data), quote.pck_chain_pem.size);
  auto pck = parse_pem_certificates(pem, "the quote's PCK certificate chain");
  auto tcb = parse_pem_certificates(c.tcb_info_issuer_chain, c.source + " tcb_info_issuer_chain");
  auto qe = parse_pem_certificates(c.qe_identity_issuer_chain, c.source + " qe_identity_issuer_chain");
  auto root_crl = parse_crl(c.root_ca_crl, c.source + " root_ca_crl");
  auto pck_crl = parse_crl(c.pck_crl, c.source + " pck_crl");
  for (const Refusal* e : {pck ? nullptr : &pck.error(), tcb ? nullptr : &tcb.error(), qe ? nullptr : &qe.error(),
                           root_crl ? nullptr : &root_crl.error(), pck_crl ? nullptr : &pck_crl.error()}) {
    if (e) return crypto::unexpected(*e);
  }
  l.pck_chain = std::move(*pck);
  l.tcb_signing_chain = std::move(*tcb);
  l.qe_signing_chain = std::move(*qe);
  l.root_crl = std::move(*root_crl);
  l.pck_crl = std::move(*pck_crl);
  return l;
}

Status check_signed_json(const std::string& check, const std::vector<X509Ptr>& chain, X509_CRL* root_crl,
                         const std::string& text, const Bytes& signature, std::time_t at, X509* root) {
  if (auto st = verify_chain({"tcb_signing_chain", chain.front().get(), raw(chain, 1), root, {root_crl}, at,
                              "Intel SGX TCB Signing"});
      !st) {
    return st;
  }
  EVP_PKEY* key = X509_get0_pubkey(chain.front().get());
  if (!key || !ecdsa_rs_verifies(key, EVP_sha256(), text, signature)) {
    return refuse(check, check + " does not verify with the Intel TCB signing key");
  }
  return {};
}

Status check_window(const std::string& what, std::time_t issued, std::time_t next_update, std::time_t at) {
  if (at < issued || at > next_update) {
    return refuse("collateral_window", what + " is valid from " + format_utc_time(issued) + " to " +
                                           format_utc_time(next_update) + ", not at " + format_utc_time(at));
  }
  return {};
}

Status check_qe_report_data(const DcapQuote& q) {
  Bytes preimage = copy(q.attestation_key);
  preimage.insert(preimage.end(), q.qe_auth_data.data, q.qe_auth_data.data + q.qe_auth_data.size);
  Bytes expected(64, 0);
  SHA256(preimage.data(), preimage.size(), expected.data());
  if (!equal(q.qe_report.report_data, expected)) {
    return refuse("qe_report_data", "the QE report data does not bind the attestation key and QE auth data");
  }
  return {};
}

bool masked_equal(ByteView value, const Bytes& expected, const Bytes& mask) {
  if (value.size != expected.size() || mask.size() != expected.size()) return false;
  for (std::size_t i = 0; i < value.size; ++i) {
    if ((value.data[i] & mask[i]) != (expected[i] & mask[i])) return false;
  }
  return true;
}

struct Level {
  TcbStatus status;
  std::vector<std::string> advisories;
};

Result<Level> isv_level(const std::string& check, const std::vector<IsvTcbLevel>& levels, uint16_t isv_svn) {
  for (const IsvTcbLevel& level : levels) {
    if (isv_svn >= level.isv_svn) return Level{level.status, level.advisories};
  }
  return refuse(check, "ISV SVN " + std::to_string(isv_svn) + " is below every TCB level (revoked)");
}

Result<Level> check_qe_identity(const DcapQuote& q, const QeIdentity& id) {
  const char* expected_id = q.tee == TeeType::tdx ? "TD_QE" : "QE";
  const SgxReportBody& qe = q.qe_report;
  if ((qe.attributes.data[0] & kSgxDebugFlag) != 0) return refuse("qe_identity", "the quoting enclave is a debug enclave");
  if (id.id != expected_id) return refuse("qe_identity", "QE identity is '" + id.id + "', expected '" + expected_id + "'");
  if (!equal(qe.mr_signer, id.mr_signer)) return refuse("qe_identity", "QE MRSIGNER " + crypto::to_hex(qe.mr_signer) + " is not Intel's");
  if (qe.isv_prod_id != id.isv_prod_id) return refuse("qe_identity", "QE ISVPRODID " + std::to_string(qe.isv_prod_id) + " is not " + std::to_string(id.isv_prod_id));
  if ((qe.misc_select & id.misc_select_mask) != (id.misc_select & id.misc_select_mask)) {
    return refuse("qe_identity", "QE MISCSELECT does not match under its mask");
  }
  if (!masked_equal(qe.attributes, id.attributes, id.attributes_mask)) {
    return refuse("qe_identity", "QE ATTRIBUTES do not match under their mask");
  }
  return isv_level("qe_identity", id.levels, qe.isv_svn);
}

bool reaches(const std::array<uint8_t, 16>& have, const std::array<uint8_t, 16>& level, std::size_t from = 0) {
  for (std::size_t i = from; i < 16; ++i) {
    if (have[i] < level[i]) return false;
  }
  return true;
}

Result<Level> platform_level(const DcapQuote& q, const TcbInfo& info, const PckTcb& pck) {
  const char* expected_id = q.tee == TeeType::tdx ? "TDX" : "SGX";
  if (info.id != expected_id) return refuse("tcb_info", "TCB info is for '" + info.id + "', expected '" + expected_id + "'");
  if (info.fmspc != pck.fmspc) {
    return refuse("tcb_info", "TCB info FMSPC " + crypto::to_hex(info.fmspc) + " is not the PCK certificate's " +
                                  crypto::to_hex(pck.fmspc));
  }
  if (info.pce_id != pck.pce_id) return refuse("tcb_info", "TCB info PCE-ID is not the PCK certificate's");
  std::array<uint8_t, 16> tee_tcb{};
  if (q.tee == TeeType::tdx) std::copy_n(q.td.tee_tcb_svn.data, 16, tee_tcb.begin());
  // With a TDX module of major version > 0 (TEE_TCB_SVN[1]), its first two bytes are judged by the module
  // identity instead (tdx_module below).
  const std::size_t tdx_from = tee_tcb[1] > 0 ? 2 : 0;
  for (const PlatformTcbLevel& level : info.levels) {
    if (!reaches(pck.sgx_components, level.sgx_components) || pck.pce_svn < level.pce_svn) continue;
    if (q.tee == TeeType::tdx && !reaches(tee_tcb, level.tdx_components, tdx_from)) continue;
    return Level{level.status, level.advisories};
  }
  return refuse("tcb_level", "the platform's TCB (PCESVN " + std::to_string(pck.pce_svn) +
                                 ") is below every level of the TCB info (revoked)");
}

// A TDX module of major version > 0 (TEE_TCB_SVN[1]) is judged by its module identity "TDX_<major>" and that
// identity's TCB levels (on TEE_TCB_SVN[0]); otherwise by the TCB info's tdxModule alone.
Result<Level> tdx_module_level(const DcapQuote& q, const TcbInfo& info) {
  const TdReportBody& td = q.td;
  const uint8_t major = td.tee_tcb_svn.data[1];
  char id[8];
  std::snprintf(id, sizeof id, "TDX_%02X", major);
  const TdxModuleIdentity* identity = nullptr;
  for (const TdxModuleIdentity& m : info.tdx_module_identities) {
    if (m.id == id) identity = &m;
  }
  if (major > 0 && !info.tdx_module_identities.empty() && !identity) {
    return refuse("tdx_module", std::string("the TCB info has no module identity ") + id);
  }
  const bool by_identity = major > 0 && identity;
  const Bytes& mr_signer = by_identity ? identity->mr_signer : info.tdx_module_mr_signer;
  const Bytes& attributes = by_identity ? identity->attributes : info.tdx_module_attributes;
  const Bytes& mask = by_identity ? identity->attributes_mask : info.tdx_module_attributes_mask;
  if (!equal(td.mr_signer_seam, mr_signer) || !masked_equal(td.seam_attributes, attributes, mask)) {
    return refuse("tdx_module", std::string("the TDX module's MRSIGNERSEAM or SEAM attributes are not those of ") +
                                    (by_identity ? id : "tdxModule"));
  }
  if (!by_identity) return Level{TcbStatus::up_to_date, {}};
  return isv_level("tdx_module", identity->levels, td.tee_tcb_svn.data[0]);
}

void add_advisories(std::vector<std::string>& out, const std::vector<std::string>& more) {
  for (const std::string& a : more) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
}

Claims claims_of(const DcapQuote& q) {
  Claims c;
  if (q.tee == TeeType::sgx) {
    c.platform = Platform::sgx;
    c.report_data = copy(q.enclave.report_data);
    c.debug = (q.enclave.attributes.data[0] & kSgxDebugFlag) != 0;
    c.mr_enclave = copy(q.enclave.mr_enclave);
    c.mr_signer = copy(q.enclave.mr_signer);
    c.isv_prod_id = q.enclave.isv_prod_id;
    c.isv_svn = q.enclave.isv_svn;
  } else {
    c.platform = Platform::tdx;
    c.report_data = copy(q.td.report_data);
    c.debug = (q.td.td_attributes & kTdDebugFlag) != 0;
    c.mr_td = copy(q.td.mr_td);
    for (int i = 0; i < 4; ++i) c.rtmr[std::size_t(i)] = copy(q.td.rtmr[i]);
  }
  return c;
}

}  // namespace

Result<Claims> verify_dcap_quote(ByteView quote_bytes, const IntelCollateral& collateral, std::time_t at, X509* root) {
  auto parsed = parse_dcap_quote(quote_bytes);
  if (!parsed) return crypto::unexpected(parsed.error());
  const DcapQuote& q = *parsed;
  auto loaded = load(q, collateral);
  if (!loaded) return crypto::unexpected(loaded.error());
  LoadedCollateral& l = *loaded;

  // Collateral first: nothing in the quote is worth reading until its keys are anchored.
  X509* pck_leaf = l.pck_chain.front().get();
  if (auto st = verify_chain({"pck_chain", pck_leaf, raw(l.pck_chain, 1), root, {l.root_crl.get(), l.pck_crl.get()}, at,
                              "Intel SGX PCK Certificate"});
      !st) {
    return crypto::unexpected(st.error());
  }
  for (auto st : {check_signed_json("tcb_info_signature", l.tcb_signing_chain, l.root_crl.get(), collateral.tcb_info,
                                    collateral.tcb_info_signature, at, root),
                  check_signed_json("qe_identity_signature", l.qe_signing_chain, l.root_crl.get(),
                                    collateral.qe_identity, collateral.qe_identity_signature, at, root)}) {
    if (!st) return crypto::unexpected(st.error());
  }
  // Signed text only is parsed.
  auto tcb_info = TcbInfo::parse(collateral.tcb_info, collateral.source);
  if (!tcb_info) return crypto::unexpected(tcb_info.error());
  auto qe_identity = QeIdentity::parse(collateral.qe_identity, collateral.source);
  if (!qe_identity) return crypto::unexpected(qe_identity.error());
  for (auto st : {check_window("TCB info", tcb_info->issue_date, tcb_info->next_update, at),
                  check_window("QE identity", qe_identity->issue_date, qe_identity->next_update, at)}) {
    if (!st) return crypto::unexpected(st.error());
  }

  auto attestation_key = p256_public_key(q.attestation_key, "the quote's attestation key");
  if (!attestation_key) return crypto::unexpected(attestation_key.error());
  if (!ecdsa_rs_verifies(attestation_key->get(), EVP_sha256(), q.signed_region, q.quote_signature)) {
    return refuse("quote_signature", "the quote's header and body are not signed by its attestation key");
  }
  if (!ecdsa_rs_verifies(X509_get0_pubkey(pck_leaf), EVP_sha256(), q.qe_report.raw, q.qe_report_signature)) {
    return refuse("qe_report_signature", "the QE report is not signed by the PCK certificate's key");
  }
  if (auto st = check_qe_report_data(q); !st) return crypto::unexpected(st.error());

  auto pck = read_pck_tcb(pck_leaf);
  if (!pck) return crypto::unexpected(pck.error());
  auto qe_level = check_qe_identity(q, *qe_identity);
  if (!qe_level) return crypto::unexpected(qe_level.error());
  auto platform = platform_level(q, *tcb_info, *pck);
  if (!platform) return crypto::unexpected(platform.error());

  Claims c = claims_of(q);
  c.tcb_status = converge(platform->status, qe_level->status);
  add_advisories(c.advisories, platform->advisories);
  add_advisories(c.advisories, qe_level->advisories);
  if (q.tee == TeeType::tdx) {
    auto module = tdx_module_level(q, *tcb_info);
    if (!module) return crypto::unexpected(module.error());
    c.tcb_status = converge(c.tcb_status, module->status);
    add_advisories(c.advisories, module->advisories);
  }
  c.collateral_issued = std::max(tcb_info->issue_date, qe_identity->issue_date);
  c.collateral_expires = std::min(tcb_info->next_update, qe_identity->next_update);
  return c;
}

}  // namespace sg::attest
