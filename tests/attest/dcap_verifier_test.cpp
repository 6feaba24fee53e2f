// Intel SGX and TDX quotes captured on real hardware, verified against their real PCS collateral.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "attest/dcap_quote.h"
#include "attest/dcap_verifier.h"
#include "attest/snp_verifier.h"
#include "attest/trust_anchors.h"
#include "attest/vectors.h"

namespace sg::attest {
namespace {

using test::intel_inside;
using test::read_vector;

struct IntelVector {
  const char* name;
  Bytes quote;
  IntelCollateral collateral;
};

IntelVector load(const std::string& tee) {
  const std::string base = tee + "/phala_" + tee + "_quote";
  IntelCollateral collateral = IntelCollateral::load(test::vector_path(base + "_collateral.json")).value();
  return {tee == "sgx" ? "sgx" : "tdx", read_vector(base + ".dat"), std::move(collateral)};
}

Result<Claims> verify(const IntelVector& v, std::time_t at = intel_inside(), X509* root = intel_sgx_root_ca()) {
  return verify_dcap_quote(v.quote, v.collateral, at, root);
}

void expect_refused(const Result<Claims>& r, const std::string& check) {
  ASSERT_FALSE(r) << "expected a refusal by " << check;
  EXPECT_EQ(r.error().check, check) << r.error().message;
}

TEST(DcapVerifier, TheSgxQuoteVerifiesWithItsKnownStatusAndAdvisories) {
  const IntelVector v = load("sgx");
  auto claims = verify(v);
  ASSERT_TRUE(claims) << claims.error().check << ": " << claims.error().message;
  EXPECT_EQ(claims->platform, Platform::sgx);
  EXPECT_EQ(tcb_status_name(claims->tcb_status), "ConfigurationAndSWHardeningNeeded");
  EXPECT_EQ(claims->advisories, (std::vector<std::string>{"INTEL-SA-00289", "INTEL-SA-00615"}));
  const DcapQuote q = parse_dcap_quote(v.quote).value();
  EXPECT_EQ(claims->mr_enclave, q.enclave.mr_enclave.to_bytes());
  EXPECT_EQ(claims->report_data, q.enclave.report_data.to_bytes());
  EXPECT_EQ(format_utc_time(claims->collateral_expires), "2025-07-19T10:01:18Z");
}

TEST(DcapVerifier, TheTdxQuoteVerifiesUpToDate) {
  const IntelVector v = load("tdx");
  auto claims = verify(v);
  ASSERT_TRUE(claims) << claims.error().check << ": " << claims.error().message;
  EXPECT_EQ(claims->platform, Platform::tdx);
  EXPECT_EQ(claims->tcb_status, TcbStatus::up_to_date);
  EXPECT_TRUE(claims->advisories.empty());
  const DcapQuote q = parse_dcap_quote(v.quote).value();
  EXPECT_EQ(q.version, 4);
  EXPECT_EQ(claims->mr_td, q.td.mr_td.to_bytes());
  EXPECT_EQ(claims->rtmr[3], q.td.rtmr[3].to_bytes());
}

// Every byte of what is signed (header, body, attestation key, QE report, QE auth data) with one bit flipped.
TEST(DcapVerifier, OneFlippedBitAnywhereInTheSignedDataIsRefused) {
  for (const char* tee : {"sgx", "tdx"}) {
    IntelVector v = load(tee);
    const DcapQuote q = parse_dcap_quote(v.quote).value();
    const std::size_t signed_end = std::size_t(q.qe_auth_data.data + q.qe_auth_data.size - v.quote.data());
    for (std::size_t i = 0; i < signed_end; ++i) {
      if (i >= q.signed_region.size && i < std::size_t(q.quote_signature.data - v.quote.data())) continue;   // lengths
      v.quote[i] ^= uint8_t(1u << (i % 8));
      EXPECT_FALSE(verify(v)) << tee << " quote with byte " << i << " altered was accepted";
      v.quote[i] ^= uint8_t(1u << (i % 8));
    }
    ASSERT_TRUE(verify(v)) << "the unaltered quote must still verify";
  }
}

TEST(DcapVerifier, EachSignatureIsCheckedByName) {
  IntelVector v = load("sgx");
  const DcapQuote q = parse_dcap_quote(v.quote).value();
  const auto at = [&](ByteView field) { return std::size_t(field.data - v.quote.data()); };
  const std::vector<std::pair<std::size_t, std::string>> cases{
      {at(q.enclave.report_data), "quote_signature"},
      {at(q.quote_signature) + 5, "quote_signature"},
      {at(q.qe_report.raw) + 100, "qe_report_signature"},
      {at(q.qe_report_signature) + 5, "qe_report_signature"},
      {at(q.qe_auth_data), "qe_report_data"},
  };
  for (const auto& [offset, check] : cases) {
    v.quote[offset] ^= 0x01;
    expect_refused(verify(v), check);
    v.quote[offset] ^= 0x01;
  }
}

TEST(DcapVerifier, CollateralOutsideItsWindowIsRefused) {
  const IntelVector v = load("tdx");
  auto later = verify(v, test::sixty_days_later());
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().check, "pck_chain") << later.error().message;   // the PCK CRL expires first
  EXPECT_NE(later.error().message.find("CRL has expired"), std::string::npos) << later.error().message;
  // After the PCK CRL was issued but before the TCB info was: the TCB info's own window refuses.
  expect_refused(verify(v, test::utc("2025-06-19T10:10:00Z")), "collateral_window");
}

TEST(DcapVerifier, ThePinnedRootIsIntelsPublishedSgxRootCa) {
  const Bytes pem = read_vector("intel_sgx_root_ca.pem");
  auto published = parse_pem_certificates(std::string_view(reinterpret_cast<const char*>(pem.data()), pem.size()), "pem");
  ASSERT_TRUE(published);
  EXPECT_EQ(X509_cmp(published->front().get(), intel_sgx_root_ca()), 0);
}

TEST(DcapVerifier, AChainToAnyOtherRootIsRefused) {
  const IntelVector v = load("sgx");
  expect_refused(verify(v, intel_inside(), amd_roots(SnpProduct::milan).ark), "pck_chain");
}

TEST(DcapVerifier, AlteredCollateralIsRefused) {
  const IntelVector original = load("sgx");
  IntelVector v = original;
  v.collateral.tcb_info.replace(v.collateral.tcb_info.find("OutOfDate"), 9, "UpToDate!");
  expect_refused(verify(v), "tcb_info_signature");

  v = original;
  const std::size_t isv = v.collateral.qe_identity.find("\"isvsvn\":8");
  ASSERT_NE(isv, std::string::npos);
  v.collateral.qe_identity[isv + 9] = '9';
  expect_refused(verify(v), "qe_identity_signature");

  v = original;
  v.collateral.tcb_info_signature[10] ^= 0x80;
  expect_refused(verify(v), "tcb_info_signature");

  // The other platform's PCK CRL: the PCK leaf has no CRL from its own issuer.
  v = original;
  v.collateral.pck_crl = load("tdx").collateral.pck_crl;
  expect_refused(verify(v), "pck_chain");
}

TEST(DcapVerifier, CollateralForAnotherPlatformIsRefused) {
  // Validly signed TCB info and QE identity, but the TDX platform's: the SGX quote's FMSPC and QE refuse them.
  IntelVector v = load("sgx");
  const IntelCollateral tdx = load("tdx").collateral;
  v.collateral.tcb_info = tdx.tcb_info;
  v.collateral.tcb_info_signature = tdx.tcb_info_signature;
  v.collateral.tcb_info_issuer_chain = tdx.tcb_info_issuer_chain;
  expect_refused(verify(v), "tcb_info");
  v = load("sgx");
  v.collateral.qe_identity = tdx.qe_identity;
  v.collateral.qe_identity_signature = tdx.qe_identity_signature;
  v.collateral.qe_identity_issuer_chain = tdx.qe_identity_issuer_chain;
  expect_refused(verify(v), "qe_identity");
  // The PCK chain used as the TCB signing chain: its leaf is not Intel's TCB signing certificate.
  v = load("sgx");
  v.collateral.tcb_info_issuer_chain = v.collateral.pck_crl_issuer_chain;
  expect_refused(verify(v), "tcb_signing_chain");
}

TEST(DcapQuoteParser, TruncatedAndOversizedQuotesAreRefusedByName) {
  const Bytes quote = load("tdx").quote;
  const DcapQuote whole = parse_dcap_quote(quote).value();
  const std::size_t end = std::size_t(whole.pck_chain_pem.data + whole.pck_chain_pem.size - quote.data());
  for (std::size_t n = 0; n < end; n += 7) {
    auto r = parse_dcap_quote(ByteView(quote.data(), n));
    ASSERT_FALSE(r) << "a quote cut to " << n << " bytes parsed";
    EXPECT_EQ(r.error().check, "quote_format");
  }
  Bytes longer = quote;   // this quote came zero-padded (as configfs-tsm hands them out): padding is fine
  longer.push_back(0);
  EXPECT_TRUE(parse_dcap_quote(longer));
  longer.back() = 1;
  auto r = parse_dcap_quote(longer);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("follow the signature data"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_dcap_quote(Bytes(kMaxQuoteBytes + 1, 0)));
}

TEST(IntelCollateral, MalformedFilesNameTheField) {
  auto missing = IntelCollateral::parse(R"({"pck_crl_issuer_chain": ""})", "c.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().check, "collateral_format");
  EXPECT_NE(missing.error().message.find("c.json"), std::string::npos);
  EXPECT_NE(missing.error().message.find("root_ca_crl"), std::string::npos) << missing.error().message;

  auto bad_status = TcbInfo::parse(
      R"({"id":"SGX","version":3,"issueDate":"2025-06-19T10:56:11Z","nextUpdate":"2025-07-19T10:56:11Z",)"
      R"("fmspc":"00906ED50000","pceId":"0000","tcbLevels":[{"tcb":{"sgxtcbcomponents":[],"pcesvn":1},)"
      R"("tcbStatus":"Fine"}]})",
      "c.json");
  ASSERT_FALSE(bad_status);
  EXPECT_NE(bad_status.error().message.find("16 components"), std::string::npos) << bad_status.error().message;
}

TEST(IntelCollateral, OversizedFilesAreRefusedUnread) {
  const std::string path = ::testing::TempDir() + "/oversized_collateral.json";
  { std::ofstream(path, std::ios::binary) << std::string((1 << 20) + 1, ' '); }
  auto big = IntelCollateral::load(path);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().check, "collateral_format");
  EXPECT_NE(big.error().message.find("is larger than 1048576 bytes"), std::string::npos) << big.error().message;
  auto vcek = load_snp_collateral(path);
  ASSERT_FALSE(vcek);
  EXPECT_NE(vcek.error().message.find("is larger than 65536 bytes"), std::string::npos) << vcek.error().message;
  std::remove(path.c_str());
}

TEST(TcbStatus, ConvergesAsIntelsVerifierDoes) {
  EXPECT_EQ(converge(TcbStatus::configuration_and_sw_hardening_needed, TcbStatus::up_to_date),
            TcbStatus::configuration_and_sw_hardening_needed);
  EXPECT_EQ(converge(TcbStatus::up_to_date, TcbStatus::out_of_date), TcbStatus::out_of_date);
  EXPECT_EQ(converge(TcbStatus::sw_hardening_needed, TcbStatus::out_of_date), TcbStatus::out_of_date);
  EXPECT_EQ(converge(TcbStatus::configuration_needed, TcbStatus::out_of_date),
            TcbStatus::out_of_date_configuration_needed);
  EXPECT_EQ(converge(TcbStatus::up_to_date, TcbStatus::revoked), TcbStatus::revoked);
  for (const char* name : {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
                           "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked"}) {
    EXPECT_EQ(tcb_status_name(parse_tcb_status(name).value()), name);
  }
  EXPECT_FALSE(parse_tcb_status("uptodate"));
}

}  // namespace
}  // namespace sg::attest
