// The hardware half of a verifier's policy, on claims from the real vectors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest/dcap_verifier.h"
#include "attest/hardware_policy.h"
#include "attest/snp_verifier.h"
#include "attest/trust_anchors.h"
#include "attest/vectors.h"

namespace sg::attest {
namespace {

Claims intel_claims(const std::string& tee) {
  const std::string base = tee + "/phala_" + tee + "_quote";
  const IntelCollateral c = IntelCollateral::load(test::vector_path(base + "_collateral.json")).value();
  return verify_dcap_quote(test::read_vector(base + ".dat"), c, test::intel_inside(), intel_sgx_root_ca()).value();
}

Claims snp_claims() {
  const SnpCollateral c = load_snp_collateral(test::vector_path("snp/vcek.der")).value();
  return verify_snp_report(test::read_vector("snp/attestation.bin"), c, test::intel_inside()).value();
}

HardwarePolicy policy_for(const Claims& claims, const std::string& hardware_json = "{}") {
  HardwarePolicy p = HardwarePolicy::parse(nlohmann::json::parse(hardware_json), "policy.json: hardware").value();
  p.measurements = {measurement_of(claims)};
  return p;
}

void expect_refused(const Status& st, const std::string& check) {
  ASSERT_FALSE(st) << "expected a refusal by " << check;
  EXPECT_EQ(st.error().check, check) << st.error().message;
}

TEST(HardwarePolicy, OnlyUpToDateByDefaultAndOtherStatusesWhenListed) {
  const Claims tdx = intel_claims("tdx");
  EXPECT_TRUE(check_claims(tdx, policy_for(tdx, R"({"tdx": {"any_rtmr": true}})"), test::intel_inside()));
  const Claims sgx = intel_claims("sgx");
  expect_refused(check_claims(sgx, policy_for(sgx), test::intel_inside()), "tcb_status");
  const HardwarePolicy lenient = policy_for(sgx, R"({"allowed_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"]})");
  EXPECT_TRUE(check_claims(sgx, lenient, test::intel_inside()));
  const HardwarePolicy one_advisory = policy_for(
      sgx, R"({"allowed_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"], "allowed_advisories": ["INTEL-SA-00615"]})");
  expect_refused(check_claims(sgx, one_advisory, test::intel_inside()), "advisories");
}

TEST(HardwarePolicy, MeasurementsAndIdentityFieldsMustMatch) {
  const Claims sgx = intel_claims("sgx");
  HardwarePolicy p = policy_for(sgx, R"({"allowed_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"]})");
  p.measurements = {Bytes(32, 0xAB)};
  expect_refused(check_claims(sgx, p, test::intel_inside()), "measurement");
  p.measurements = {};
  expect_refused(check_claims(sgx, p, test::intel_inside()), "measurement");
  p = policy_for(sgx, R"({"allowed_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"], "sgx": {"min_isv_svn": 65535}})");
  expect_refused(check_claims(sgx, p, test::intel_inside()), "isv_svn");
  p = policy_for(sgx, R"({"allowed_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"]})");
  p.mr_signer = {Bytes(32, 0)};
  expect_refused(check_claims(sgx, p, test::intel_inside()), "signer");

  const Claims tdx = intel_claims("tdx");
  expect_refused(check_claims(tdx, policy_for(tdx), test::intel_inside()), "rtmr");   // MRTD alone is not enough
  EXPECT_TRUE(check_claims(tdx, policy_for(tdx, R"({"tdx": {"any_rtmr": true}})"), test::intel_inside()));
  const std::string wrong_rtmr = R"({"tdx": {"rtmr2": [")" + std::string(96, '0') + R"("]}})";
  expect_refused(check_claims(tdx, policy_for(tdx, wrong_rtmr), test::intel_inside()), "rtmr");
  const std::string right_rtmr = R"({"tdx": {"rtmr2": [")" + crypto::to_hex(tdx.rtmr[2]) + R"("]}})";
  EXPECT_TRUE(check_claims(tdx, policy_for(tdx, right_rtmr), test::intel_inside()));
}

TEST(HardwarePolicy, DebugGuestsAndHighVmplsAreRefusedByDefault) {
  const Claims snp = snp_claims();
  expect_refused(check_claims(snp, policy_for(snp), test::intel_inside()), "debug");
  HardwarePolicy p = policy_for(snp, R"({"sev_snp": {"host_data": [")" + std::string(64, 'f') + R"("]}})");
  p.allow_debug = true;
  expect_refused(check_claims(snp, p, test::intel_inside()), "host_data");
  Claims vmpl2 = snp;
  vmpl2.vmpl = 2;
  p = policy_for(snp);
  p.allow_debug = true;
  EXPECT_TRUE(check_claims(snp, p, test::intel_inside()));
  expect_refused(check_claims(vmpl2, p, test::intel_inside()), "vmpl");
  Claims migratable = snp;
  migratable.guest_policy |= uint64_t(1) << 18;
  expect_refused(check_claims(migratable, p, test::intel_inside()), "migration_agent");
}

TEST(HardwarePolicy, SnpFirmwareBelowTheMinimumTcbIsRefused) {
  const Claims snp = snp_claims();
  EXPECT_EQ(snp.reported_tcb, (std::array<uint8_t, 5>{2, 0, 5, 0x44, 0}));
  HardwarePolicy p = policy_for(snp, R"({"sev_snp": {"min_tcb": {"bootloader": 2, "snp": 5, "microcode": 68}}})");
  p.allow_debug = true;
  EXPECT_TRUE(check_claims(snp, p, test::intel_inside()));
  p = policy_for(snp, R"({"sev_snp": {"min_tcb": {"snp": 6}}})");
  p.allow_debug = true;
  expect_refused(check_claims(snp, p, test::intel_inside()), "snp_tcb");
}

TEST(HardwarePolicy, CollateralOlderThanTheMaximumAgeIsRefused) {
  const Claims tdx = intel_claims("tdx");
  const HardwarePolicy p = policy_for(tdx, R"({"max_collateral_age_days": 3, "tdx": {"any_rtmr": true}})");
  EXPECT_TRUE(check_claims(tdx, p, test::utc("2025-06-21T00:00:00Z")));
  expect_refused(check_claims(tdx, p, test::intel_inside()), "collateral_age");
}

TEST(HardwarePolicy, MalformedPoliciesNameTheField) {
  const auto error_of = [](const std::string& text) {
    auto p = HardwarePolicy::parse(nlohmann::json::parse(text), "p.json: hardware");
    EXPECT_FALSE(p) << text;
    return p ? std::string() : p.error().message;
  };
  EXPECT_NE(error_of(R"({"allowed_tcb_statuses": ["Fine"]})").find("'Fine' is not a TCB status"), std::string::npos);
  EXPECT_NE(error_of(R"({"allowed_tcb_statuses": []})").find("must not be empty"), std::string::npos);
  EXPECT_NE(error_of(R"({"tdx": {"rtmr4": []}})").find("unknown field 'rtmr4'"), std::string::npos);
  EXPECT_NE(error_of(R"({"tdx": {"rtmr0": ["00"]}})").find("rtmr0[0]"), std::string::npos);
  EXPECT_NE(error_of(R"({"sev_snp": {"max_vmpl": 4}})").find("max_vmpl"), std::string::npos);
  EXPECT_NE(error_of(R"({"sgx": {"mr_enclave": []}})").find("p.json: hardware.sgx"), std::string::npos);
}

}  // namespace
}  // namespace sg::attest
