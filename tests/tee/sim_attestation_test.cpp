// Sim evidence verifies only under a policy that allows sim, trusts this platform key, lists this measurement,
// and only for the nonce and enclave key it was made for; anything forged, stale or substituted is refused.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "crypto/sealing.h"
#include "tee/attestation.h"
#include "tee/attestation_sim.h"
#include "support/temp_dir.h"
#include "tee/verifier.h"

namespace sg::tee {
namespace {

class SimAttestation : public ::testing::Test {
 protected:
  void SetUp() override {
    key_path_ = dir_.path() + "/platform.key";
    auto config = EnclaveConfig::load(dir_.file("enclave.json", R"({"sim_platform_key": ")" + key_path_ + R"("})"));
    ASSERT_TRUE(config) << config.error().message;
    auto backend = SimBackend::create(*config);
    ASSERT_TRUE(backend) << backend.error().message;
    backend_ = std::move(*backend);
    std::ifstream pub(key_path_ + ".pub");
    pub >> platform_pub_hex_;
  }

  std::string policy_json(const std::string& measurement_hex, bool allow_sim = true,
                          const std::string& backends = R"(["sim"])") const {
    return R"({"allowed_backends": )" + backends + R"(, "allowed_measurements": [")" + measurement_hex +
           R"("], "allow_sim": )" + (allow_sim ? "true" : "false") + R"(, "sim_platform_keys": [")" +
           platform_pub_hex_ + R"("]})";
  }
  Policy policy(const std::string& json) const { return Policy::parse(json, "test-policy.json").value(); }
  Policy good_policy() const { return policy(policy_json(crypto::to_hex(backend_->measurement()))); }

  Evidence attest(const Bytes& nonce) { return attest_bound(*backend_, config_digest_, enclave_key_, nonce).value(); }

  void expect_refused(const Evidence& e, const Policy& p, const Bytes& nonce, Errc code, const std::string& needle,
                      const crypto::KxPublicKey* key = nullptr) {
    auto verified = verify_evidence(e, p, nonce, key ? *key : enclave_key_);
    ASSERT_FALSE(verified);
    EXPECT_EQ(verified.error().code, code) << verified.error().message;
    EXPECT_NE(verified.error().message.find(needle), std::string::npos) << verified.error().message;
  }

  test_support::TempDir dir_;
  std::string key_path_, platform_pub_hex_;
  std::unique_ptr<AttestationBackend> backend_;
  const crypto::KxPublicKey enclave_key_ = crypto::KxKeyPair::generate().public_key;
  const Bytes nonce_ = Bytes(32, 0x42);
  const crypto::Digest32 config_digest_ = config_digest_of(ByteView("the enclave's config"));
};

TEST_F(SimAttestation, ValidEvidenceAcceptedAfterJsonRoundTrip) {
  auto parsed = parse_evidence(serialize_evidence(attest(nonce_)));
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto verified = verify_evidence(*parsed, good_policy(), nonce_, enclave_key_);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->measurement, backend_->measurement());
}

TEST_F(SimAttestation, SimRefusedWhenPolicyDoesNotAllowIt) {
  const Policy p = policy(policy_json(crypto::to_hex(backend_->measurement()), /*allow_sim=*/false));
  expect_refused(attest(nonce_), p, nonce_, Errc::policy, "allow_sim is false in test-policy.json");
}

TEST_F(SimAttestation, BackendNotInPolicyRefused) {
  const Policy p = policy(policy_json(crypto::to_hex(backend_->measurement()), true, R"(["gramine"])"));
  expect_refused(attest(nonce_), p, nonce_, Errc::policy, "backend 'sim' is not in allowed_backends");
}

TEST_F(SimAttestation, WrongMeasurementRefused) {
  const Policy p = policy(policy_json(std::string(64, 'c')));
  expect_refused(attest(nonce_), p, nonce_, Errc::policy, "is not in allowed_measurements of test-policy.json");
}

TEST_F(SimAttestation, EvidenceForAnotherNonceRefused) {
  expect_refused(attest(Bytes(32, 0x01)), good_policy(), nonce_, Errc::evidence, "does not bind this verifier's nonce");
}

TEST_F(SimAttestation, SubstitutedEnclaveKeyRefused) {
  const crypto::KxPublicKey attacker = crypto::KxKeyPair::generate().public_key;
  expect_refused(attest(nonce_), good_policy(), nonce_, Errc::evidence, "does not bind", &attacker);
}

// The config digest an enclave shows is bound by its report data, and a policy may pin it (tsm must).
TEST_F(SimAttestation, TheConfigDigestIsBoundAndPinnedByAllowedConfigs) {
  Evidence substituted = attest(nonce_);
  EXPECT_EQ(substituted.config_digest, config_digest_);
  substituted.config_digest[0] ^= 1;
  expect_refused(substituted, good_policy(), nonce_, Errc::evidence, "does not bind");
  Policy pinned = good_policy();
  pinned.allowed_configs = {Bytes(config_digest_.begin(), config_digest_.end())};
  EXPECT_TRUE(verify_evidence(attest(nonce_), pinned, nonce_, enclave_key_));
  pinned.allowed_configs = {Bytes(32, 0xAB)};
  expect_refused(attest(nonce_), pinned, nonce_, Errc::policy, "is not in allowed_configs of test-policy.json");
}

// A peer enclave shows its config beside its evidence; a config other than the one the evidence binds is refused.
TEST_F(SimAttestation, APeerShowingAnotherConfigThanItsEvidenceBindsIsRefused) {
  auto shown = verify_peer_evidence(attest(nonce_), ByteView("the enclave's config"), good_policy(), nonce_, enclave_key_);
  EXPECT_TRUE(shown) << shown.error().message;
  auto other = verify_peer_evidence(attest(nonce_), ByteView("another config"), good_policy(), nonce_, enclave_key_);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::evidence);
  EXPECT_NE(other.error().message.find("not the one its evidence binds"), std::string::npos) << other.error().message;
}

TEST_F(SimAttestation, ForgedMeasurementOrSignatureRefused) {
  Evidence forged = attest(nonce_);
  forged.measurement[0] ^= 1;   // claim another measurement under the old signature
  Policy p = good_policy();
  p.allowed_measurements.push_back(forged.measurement);
  expect_refused(forged, p, nonce_, Errc::evidence, "signature does not verify");
  Evidence bad_sig = attest(nonce_);
  bad_sig.signature[3] ^= 1;
  expect_refused(bad_sig, good_policy(), nonce_, Errc::evidence, "signature does not verify");
}

TEST_F(SimAttestation, UntrustedPlatformKeyRefused) {
  Policy p = good_policy();
  p.sim_platform_keys = {crypto::SigningKeyPair::generate().public_key};
  expect_refused(attest(nonce_), p, nonce_, Errc::evidence, "signature does not verify");
}

TEST_F(SimAttestation, PlatformKeyIsPrivateAndGroupReadableKeyRefused) {
  struct stat st {};
  ASSERT_EQ(::stat(key_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::chmod(key_path_.c_str(), 0640), 0);
  auto loaded = load_or_create_platform_key(key_path_);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("mode 0640"), std::string::npos) << loaded.error().message;
}

TEST_F(SimAttestation, AnotherConfigIsAnotherMeasurementAndCannotUnseal) {
  auto other_config = EnclaveConfig::load(
      dir_.file("other.json", R"({"sim_platform_key": ")" + key_path_ + R"(", "tsm_report_root": "/x"})"));
  auto other = SimBackend::create(*other_config);
  ASSERT_TRUE(other);
  EXPECT_NE((*other)->measurement(), backend_->measurement());
  const Bytes blob = crypto::seal(backend_->sealing_key().value(), Bytes{1, 2, 3}, ByteView("test"));
  EXPECT_TRUE(crypto::unseal(backend_->sealing_key().value(), blob, ByteView("test")));
  EXPECT_FALSE(crypto::unseal((*other)->sealing_key().value(), blob, ByteView("test")));
}

TEST(EvidenceParser, StrictAboutFieldsAndSizes) {
  Evidence e;
  e.measurement = Bytes(32, 1);
  e.signature = Bytes(64, 2);
  const Bytes wire = serialize_evidence(e);
  const std::string good(wire.begin(), wire.end());
  ASSERT_TRUE(parse_evidence(ByteView(good)));
  auto expect_bad = [](const std::string& text, const std::string& needle) {
    auto parsed = parse_evidence(ByteView(text));
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, Errc::evidence);
    EXPECT_NE(parsed.error().message.find(needle), std::string::npos) << parsed.error().message;
  };
  expect_bad("[]", "not a JSON object");
  expect_bad(good.substr(0, good.size() - 1) + R"(,"extra":1})", "unknown field 'extra'");
  expect_bad(R"({"format":"sliceguard-evidence","version":1})", "version 2");   // before config_digest
  expect_bad(R"({"format":"sliceguard-evidence","version":2,"backend":"sgx"})", "unknown or missing backend");
  expect_bad(R"({"format":"sliceguard-evidence","version":2,"backend":"sim","measurement":"zz"})", "not hex");
  expect_bad(R"({"format":"sliceguard-evidence","version":2,"backend":"sim","measurement":"00"})", "has 1 bytes");
  const std::string no_digest = R"("config_digest":")" + std::string(64, '0') + R"(",)";
  std::string without = good;
  ASSERT_NE(without.find(no_digest), std::string::npos);
  without.erase(without.find(no_digest), no_digest.size());
  expect_bad(without, "config_digest");
}

}  // namespace
}  // namespace sg::tee
