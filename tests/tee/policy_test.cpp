// Policy files load strictly: every mistake is an error naming the file and the field, and the defaults fail
// closed.
#include <gtest/gtest.h>

#include "tee/policy.h"
#include "support/temp_dir.h"

namespace sg::tee {
namespace {

const std::string kMeasurement(64, 'a');

void expect_error(const std::string& json, const std::string& needle) {
  auto policy = Policy::parse(json, "policy.json");
  ASSERT_FALSE(policy) << json;
  EXPECT_EQ(policy.error().code, Errc::config);
  EXPECT_NE(policy.error().message.find("policy.json"), std::string::npos) << policy.error().message;
  EXPECT_NE(policy.error().message.find(needle), std::string::npos) << policy.error().message;
}

TEST(Policy, ValidPolicyLoadsWithFailClosedDefaults) {
  test_support::TempDir dir;
  const auto path = dir.file("policy.json", R"({"allowed_backends": ["gramine", "tsm"],
                                                "allowed_measurements": [")" + kMeasurement + R"("]})");
  auto policy = Policy::load(path);
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->source, path);
  EXPECT_EQ(policy->allowed_backends, (std::set<Backend>{Backend::gramine, Backend::tsm}));
  EXPECT_EQ(policy->allowed_measurements.size(), 1u);
  EXPECT_FALSE(policy->allow_sim);
  EXPECT_FALSE(policy->allow_debug);
  EXPECT_TRUE(policy->collateral_dir.empty());
  EXPECT_EQ(policy->hardware.allowed_tcb_statuses, (std::set<attest::TcbStatus>{attest::TcbStatus::up_to_date}));
  EXPECT_EQ(policy->hardware.measurements, policy->allowed_measurements);
  EXPECT_FALSE(policy->hardware.allow_debug);
}

TEST(Policy, HardwareSectionIsReadStrictlyAndTheOldTcbFlagIsNamed) {
  expect_error(R"({"allowed_backends": ["tsm"], "allowed_measurements": [")" + kMeasurement +
                   R"("], "allow_outdated_tcb": true})",
               "replaced by hardware.allowed_tcb_statuses");
  expect_error(R"({"allowed_backends": ["tsm"], "allowed_measurements": [")" + kMeasurement +
                   R"("], "hardware": {"tdx": {"rtmr9": []}}})",
               "hardware.tdx: unknown field 'rtmr9'");
  auto p = Policy::parse(R"({"allowed_backends": ["tsm"], "allowed_measurements": [")" + kMeasurement +
                             R"("], "collateral_dir": "/var/cache/sg", "allow_debug": true,
                             "hardware": {"allowed_tcb_statuses": ["UpToDate", "SWHardeningNeeded"]}})",
                         "p.json");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->collateral_dir, "/var/cache/sg");
  EXPECT_EQ(p->hardware.allowed_tcb_statuses.size(), 2u);
  EXPECT_TRUE(p->hardware.allow_debug);
}

TEST(Policy, UnknownFieldRejected) {
  expect_error(R"({"allowed_backends": ["sim"], "allowed_measurements": [")" + kMeasurement + R"("], "alow_debug": true})",
               "unknown field 'alow_debug'");
}

TEST(Policy, RequiredFieldsMissingOrEmptyRejected) {
  expect_error(R"({"allowed_measurements": [")" + kMeasurement + R"("]})", "'allowed_backends': is required");
  expect_error(R"({"allowed_backends": ["sim"], "allowed_measurements": []})", "'allowed_measurements': must not be empty");
}

TEST(Policy, BadMeasurementNamesItsIndex) {
  expect_error(R"({"allowed_backends": ["sim"], "allowed_measurements": [")" + kMeasurement + R"(", "xyz"]})",
               "'allowed_measurements[1]': is not a hex string of 64 or 96 characters");
}

TEST(Policy, UnknownBackendRejected) {
  expect_error(R"({"allowed_backends": ["sgx"], "allowed_measurements": [")" + kMeasurement + R"("]})",
               "'allowed_backends[0]': 'sgx' is not sim, gramine or tsm");
}

TEST(Policy, NonBooleanFlagRejected) {
  expect_error(R"({"allowed_backends": ["sim"], "allowed_measurements": [")" + kMeasurement + R"("], "allow_debug": "yes"})",
               "'allow_debug': must be true or false");
}

TEST(Policy, AllowSimRequiresTrustedPlatformKeys) {
  expect_error(R"({"allowed_backends": ["sim"], "allowed_measurements": [")" + kMeasurement + R"("], "allow_sim": true})",
               "'sim_platform_keys': is required when allow_sim is true");
}

TEST(Policy, MissingFileAndBrokenJsonReported) {
  auto missing = Policy::load("/nonexistent/policy.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/policy.json"), std::string::npos);
  expect_error("{not json", "not a JSON object");
}

}  // namespace
}  // namespace sg::tee
