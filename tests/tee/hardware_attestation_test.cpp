// The gramine and tsm backends against fake device trees: they follow the file protocols (report data in,
// quote out, configfs-tsm generation checked before and after), extract measurement and report data from real
// quote layouts, and their verification refuses debug enclaves and unknown signers — then fails closed, because
// this build has no SGX/TDX/SNP quote verifier.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "crypto/sealing.h"
#include "tee/attestation_gramine.h"
#include "tee/attestation_tsm.h"
#include "tee/fake_device.h"
#include "support/temp_dir.h"
#include "tee/verifier.h"

namespace sg::tee {
namespace {

const Bytes kMrEnclave(32, 0x11), kMrSigner(32, 0x22), kMrTd(48, 0x33);

// An SGX DCAP v3 quote with the given fields and a dummy 64-byte signature section.
Bytes sgx_quote(ByteView report_data, bool debug = false) {
  Bytes q(48 + 384 + 4 + 64, 0);
  q[0] = 3;
  q[48 + 48] = debug ? 0x07 : 0x05;
  std::copy(kMrEnclave.begin(), kMrEnclave.end(), q.begin() + 48 + 64);
  std::copy(kMrSigner.begin(), kMrSigner.end(), q.begin() + 48 + 128);
  std::copy(report_data.data, report_data.data + 64, q.begin() + 48 + 320);
  q[48 + 384] = 64;
  return q;
}

// A TDX v4 quote with the given fields.
Bytes tdx_quote(ByteView report_data, bool debug = false) {
  Bytes q(48 + 584 + 4 + 64, 0);
  q[0] = 4;
  q[48 + 120] = debug ? 1 : 0;
  std::copy(kMrTd.begin(), kMrTd.end(), q.begin() + 48 + 136);
  std::copy(report_data.data, report_data.data + 64, q.begin() + 48 + 520);
  return q;
}

Policy hardware_policy(const std::string& extra = "") {
  return Policy::parse(R"({"allowed_backends": ["gramine", "tsm"], "allowed_measurements": [")" + crypto::to_hex(kMrEnclave) +
                           R"(", ")" + crypto::to_hex(kMrTd) + R"("])" + extra + "}",
                       "hw-policy.json")
      .value();
}

Evidence evidence_for(Backend backend, const crypto::Digest64& rd, Bytes quote) {
  Evidence e;
  e.backend = backend;
  e.report_data = rd;
  e.quote = std::move(quote);
  if (backend == Backend::gramine) {
    e.measurement = kMrEnclave;
  } else {
    e.measurement = kMrTd;
    e.provider = "tdx_guest";
  }
  return e;
}

void expect_refused(const Evidence& e, const Policy& p, Errc code, const std::string& needle) {
  const Bytes nonce(32, 7);
  auto verified = verify_evidence(e, p, nonce, crypto::KxPublicKey{});
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, code) << verified.error().message;
  EXPECT_NE(verified.error().message.find(needle), std::string::npos) << verified.error().message;
}

crypto::Digest64 bound_report_data() { return report_data_for(crypto::KxPublicKey{}, Bytes(32, 7)); }

TEST(GramineBackend, ProducesEvidenceThroughDevAttestationAndSealsWithItsKey) {
  test_support::TempDir dir;
  testing::FakeDevice device(dir.path());
  device.add_fifo("user_report_data");
  device.add_fifo("quote");
  std::filesystem::create_directories(dir.path() + "/keys");
  dir.file("keys/_sgx_mrenclave", std::string(16, 'k'));
  auto serve_quote = [](testing::FakeDevice& d) {
    const Bytes report_data = d.consume("user_report_data");
    if (report_data.size() == 64) d.produce("quote", sgx_quote(report_data));
  };
  EnclaveConfig config;
  config.gramine_attestation_dir = dir.path();
  device.run(serve_quote);
  auto backend = GramineBackend::create(config);   // one quote to learn its own MRENCLAVE
  device.finish();
  ASSERT_TRUE(backend) << backend.error().message;
  EXPECT_EQ((*backend)->measurement(), kMrEnclave);
  device.run(serve_quote);
  const crypto::Digest64 rd = bound_report_data();
  auto evidence = (*backend)->attest(rd);
  device.finish();
  ASSERT_TRUE(evidence) << evidence.error().message;
  EXPECT_EQ(evidence->report_data, rd);
  auto key = (*backend)->sealing_key();
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_TRUE(crypto::unseal(*key, crypto::seal(*key, Bytes{1}, ByteView("test")), ByteView("test")));
}

TEST(GramineBackend, VerificationFailsClosedWithoutQuoteVerificationLibrary) {
#ifdef SG_HAVE_SGX_QVL
  GTEST_SKIP() << "built with the Intel DCAP QVL: quotes are really verified";
#endif
  const crypto::Digest64 rd = bound_report_data();
  expect_refused(evidence_for(Backend::gramine, rd, sgx_quote(rd)), hardware_policy(), Errc::unsupported,
                 "no Intel DCAP quote verification library");
}

TEST(GramineBackend, DebugEnclaveRefusedUnlessAllowed) {
  const crypto::Digest64 rd = bound_report_data();
  expect_refused(evidence_for(Backend::gramine, rd, sgx_quote(rd, /*debug=*/true)), hardware_policy(), Errc::policy,
                 "debug enclave");
}

TEST(GramineBackend, UnknownSignerRefused) {
  const crypto::Digest64 rd = bound_report_data();
  expect_refused(evidence_for(Backend::gramine, rd, sgx_quote(rd)),
                 hardware_policy(R"(, "allowed_signers": [")" + std::string(64, 'f') + R"("])"), Errc::policy,
                 "is not in allowed_signers");
}

TEST(GramineBackend, EvidenceDisagreeingWithItsQuoteRefused) {
  const crypto::Digest64 rd = bound_report_data();
  Evidence e = evidence_for(Backend::gramine, rd, sgx_quote(rd));
  e.measurement[0] ^= 1;
  expect_refused(e, hardware_policy(), Errc::evidence, "disagree");
  e = evidence_for(Backend::gramine, rd, sgx_quote(rd));
  e.quote.resize(100);
  expect_refused(e, hardware_policy(), Errc::evidence, "truncated");
}

class TsmBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entry_ = dir_.path() + "/sliceguard-" + std::to_string(::getpid());
    std::filesystem::create_directories(entry_);
    dir_.file("sliceguard-" + std::to_string(::getpid()) + "/provider", "tdx_guest\n");
    device_ = std::make_unique<testing::FakeDevice>(entry_);
    for (const char* name : {"generation", "inblob", "outblob"}) device_->add_fifo(name);
    config_.tsm_report_root = dir_.path();
  }
  // One report request as the kernel serves it; `race` makes another writer bump generation mid-read.
  static void serve_report(testing::FakeDevice& d, uint64_t generation, bool race) {
    d.produce("generation", ByteView(std::to_string(generation) + "\n"));
    const Bytes inblob = d.consume("inblob");
    if (inblob.size() != 64) return;
    d.produce("generation", ByteView(std::to_string(generation + 1) + "\n"));
    d.produce("outblob", tdx_quote(inblob));
    d.produce("generation", ByteView(std::to_string(generation + (race ? 2 : 1)) + "\n"));
  }

  test_support::TempDir dir_;
  std::string entry_;
  std::unique_ptr<testing::FakeDevice> device_;
  EnclaveConfig config_;
};

TEST_F(TsmBackendTest, FollowsConfigfsProtocolAndExtractsTdxFields) {
  device_->run([](testing::FakeDevice& d) { serve_report(d, 0, false); });
  auto backend = TsmBackend::create(config_);   // one report to learn its own MRTD
  device_->finish();
  ASSERT_TRUE(backend) << backend.error().message;
  EXPECT_EQ((*backend)->measurement(), kMrTd);
  device_->run([](testing::FakeDevice& d) { serve_report(d, 1, false); });
  const crypto::Digest64 rd = bound_report_data();
  auto evidence = (*backend)->attest(rd);
  device_->finish();
  ASSERT_TRUE(evidence) << evidence.error().message;
  EXPECT_EQ(evidence->provider, "tdx_guest");
  EXPECT_EQ(evidence->report_data, rd);
  auto key = (*backend)->sealing_key();
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::unsupported);
}

TEST_F(TsmBackendTest, GenerationRaceDetected) {
  device_->run([](testing::FakeDevice& d) { serve_report(d, 5, /*race=*/true); });
  auto backend = TsmBackend::create(config_);
  device_->finish();
  ASSERT_FALSE(backend);
  EXPECT_NE(backend.error().message.find("another writer raced this report"), std::string::npos)
      << backend.error().message;
}

TEST(TsmVerification, FailsClosedAfterFieldChecks) {
  const crypto::Digest64 rd = bound_report_data();
  expect_refused(evidence_for(Backend::tsm, rd, tdx_quote(rd)), hardware_policy(), Errc::unsupported,
                 "no TDX/SNP quote verifier");
  expect_refused(evidence_for(Backend::tsm, rd, tdx_quote(rd, /*debug=*/true)), hardware_policy(), Errc::policy,
                 "allows debugging");
  Evidence unknown = evidence_for(Backend::tsm, rd, tdx_quote(rd));
  unknown.provider = "arm_cca_guest";
  expect_refused(unknown, hardware_policy(), Errc::evidence, "is not tdx_guest or sev_guest");
}

}  // namespace
}  // namespace sg::tee
