// An AMD SEV-SNP report captured on a real Milan machine, verified against its VCEK and the pinned roots.
#include <gtest/gtest.h>

#include <openssl/x509v3.h>

#include "attest/snp_verifier.h"
#include "attest/vectors.h"

namespace sg::attest {
namespace {

struct SnpVector {
  Bytes report = test::read_vector("snp/attestation.bin");
  SnpCollateral collateral = load_snp_collateral(test::vector_path("snp/vcek.der")).value();
};

std::time_t inside() { return test::utc("2025-06-25T00:00:00Z"); }

void expect_refused(const Result<Claims>& r, const std::string& check) {
  ASSERT_FALSE(r) << "expected a refusal by " << check;
  EXPECT_EQ(r.error().check, check) << r.error().message;
}

TEST(SnpVerifier, TheMilanReportVerifiesAgainstItsVcekAndThePinnedRoots) {
  const SnpVector v;
  auto claims = verify_snp_report(v.report, v.collateral, inside());
  ASSERT_TRUE(claims) << claims.error().check << ": " << claims.error().message;
  const SnpReport r = parse_snp_report(v.report).value();
  EXPECT_EQ(claims->platform, Platform::sev_snp);
  EXPECT_EQ(claims->measurement, r.measurement.to_bytes());
  EXPECT_EQ(claims->host_data, r.host_data.to_bytes());
  EXPECT_EQ(claims->report_data, r.report_data.to_bytes());
  EXPECT_EQ(claims->vmpl, 0u);
  EXPECT_TRUE(claims->debug) << "this guest's policy allows debugging (bit 19 of 0xB0000)";
  EXPECT_EQ(decode_snp_tcb(r.reported_tcb, false), (SnpTcb{0, 2, 0, 5, 0x44}));
}

TEST(SnpVerifier, OneFlippedBitAnywhereInTheSignedReportOrItsSignatureIsRefused) {
  SnpVector v;
  for (std::size_t i = 0; i < 0x2A0 + 144; ++i) {
    v.report[i] ^= uint8_t(1u << (i % 8));
    EXPECT_FALSE(verify_snp_report(v.report, v.collateral, inside())) << "byte " << i << " altered was accepted";
    v.report[i] ^= uint8_t(1u << (i % 8));
  }
  ASSERT_TRUE(verify_snp_report(v.report, v.collateral, inside()));
  v.report[0x100] ^= 1;
  expect_refused(verify_snp_report(v.report, v.collateral, inside()), "report_signature");
}

TEST(SnpVerifier, AVcekOutsideItsValidityOrUnderAnotherProductsRootsIsRefused) {
  const SnpVector v;
  expect_refused(verify_snp_report(v.report, v.collateral, test::utc("2022-09-01T00:00:00Z")), "vcek_chain");
  expect_refused(verify_snp_report(v.report, v.collateral, test::utc("2030-01-01T00:00:00Z")), "vcek_chain");
  expect_refused(verify_snp_report(v.report, v.collateral, inside(), amd_roots(SnpProduct::genoa)), "vcek_chain");
  expect_refused(verify_snp_report(v.report, v.collateral, inside(), amd_roots(SnpProduct::turin)), "vcek_chain");
}

TEST(SnpVerifier, MalformedReportsAndCertificatesAreRefusedByName) {
  const SnpVector v;
  auto short_report = verify_snp_report(ByteView(v.report.data(), 0x2A0), v.collateral, inside());
  expect_refused(short_report, "report_format");
  Bytes reserved_bit_clear = v.report;
  reserved_bit_clear[0x0A] &= uint8_t(~0x02);   // policy bit 17
  expect_refused(verify_snp_report(reserved_bit_clear, v.collateral, inside()), "report_format");
  auto not_a_cert = load_snp_collateral(test::vector_path("snp/attestation.bin"));
  ASSERT_FALSE(not_a_cert);
  EXPECT_NE(not_a_cert.error().message.find("attestation.bin"), std::string::npos);
}

TEST(SnpVerifier, TheRootsOfEachProductLineArePinned) {
  for (SnpProduct p : {SnpProduct::milan, SnpProduct::genoa, SnpProduct::turin}) {
    const AmdRoots roots = amd_roots(p);
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(roots.ark), subject, sizeof subject);
    EXPECT_NE(std::string(subject).find("ARK-" + std::string(snp_product_name(p))), std::string::npos) << subject;
    EXPECT_EQ(X509_check_issued(roots.ark, roots.ask), X509_V_OK) << "the ARK signs its ASK";
  }
  EXPECT_EQ(parse_snp_product("Milan-B0"), SnpProduct::milan);
  EXPECT_FALSE(parse_snp_product("Naples"));
}

}  // namespace
}  // namespace sg::attest
