// The gramine and tsm backends against fake device trees: they follow the file protocols (report data in,
// quote out, configfs-tsm generation checked before and after) and read measurement and report data from quotes
// of the real layouts. Their verification runs on evidence captured on real hardware (tests/attest/vectors):
// authentic quotes pass the enclave policy only with its collateral, statuses and measurements; report data
// that does not bind this verifier's nonce and the enclave's key is refused.
#include <gtest/gtest.h>

#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <fstream>
#include <iterator>

#include "attest/collateral_cache.h"
#include "attest/dcap_quote.h"
#include "attest/openssl_objects.h"

#include "crypto/sealing.h"
#include "tee/attestation_gramine.h"
#include "tee/attestation_tsm.h"
#include "tee/enclave_runtime.h"
#include "tee/hardware_evidence.h"
#include "tee/key_release.h"
#include "tee/fake_device.h"
#include "support/temp_dir.h"
#include "tee/verifier.h"

namespace sg::tee {
namespace {

const Bytes kMrEnclave(32, 0x11), kMrSigner(32, 0x22), kMrTd(48, 0x33);

// A quote of the real layout (sg_attest parses it) with the given fields and zero signatures: enough for the
// backends, which only read their own quote back; verification refuses it.
Bytes quote_of(uint16_t version, uint32_t tee, ByteView body) {
  Bytes q;
  crypto::ByteWriter w(q);
  w.u16(version);
  w.u16(2);   // ECDSA P-256
  w.u32(tee);
  q.resize(48, 0);
  const uint8_t intel_qe_vendor[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                       0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};
  std::copy(intel_qe_vendor, intel_qe_vendor + 16, q.begin() + 12);
  q.insert(q.end(), body.data, body.data + body.size);
  Bytes qe_section(384 + 64, 0);
  crypto::ByteWriter qe(qe_section);
  qe.u16(0);   // no QE auth data
  qe.u16(5);   // PCK chain, empty
  qe.u32(0);
  Bytes sig(128, 0);
  crypto::ByteWriter sw(sig);
  if (version == 3) {
    sig.insert(sig.end(), qe_section.begin(), qe_section.end());
  } else {
    sw.u16(6);
    sw.u32(uint32_t(qe_section.size()));
    sig.insert(sig.end(), qe_section.begin(), qe_section.end());
  }
  w.u32(uint32_t(sig.size()));
  q.insert(q.end(), sig.begin(), sig.end());
  return q;
}

Bytes sgx_quote(ByteView report_data, bool debug = false) {
  Bytes body(384, 0);
  body[48] = debug ? 0x07 : 0x05;
  std::copy(kMrEnclave.begin(), kMrEnclave.end(), body.begin() + 64);
  std::copy(kMrSigner.begin(), kMrSigner.end(), body.begin() + 128);
  std::copy(report_data.data, report_data.data + 64, body.begin() + 320);
  return quote_of(3, 0x00, body);
}

Bytes tdx_quote(ByteView report_data, bool debug = false) {
  Bytes body(584, 0);
  body[120] = debug ? 1 : 0;
  std::copy(kMrTd.begin(), kMrTd.end(), body.begin() + 136);
  std::copy(report_data.data, report_data.data + 64, body.begin() + 520);
  return quote_of(4, 0x81, body);
}

// Admits the fake quotes' measurements, and the all-zero config digest their evidence shows.
Policy hardware_policy(const std::string& extra = "") {
  return Policy::parse(R"({"allowed_backends": ["gramine", "tsm"], "allowed_measurements": [")" + crypto::to_hex(kMrEnclave) +
                           R"(", ")" + crypto::to_hex(kMrTd) + R"("], "allowed_configs": [")" + std::string(64, '0') +
                           R"("])" + extra + "}",
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

crypto::Digest64 bound_report_data() { return report_data_for(crypto::KxPublicKey{}, Bytes(32, 7), crypto::Digest32{}); }

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

TEST(GramineBackend, EvidenceDisagreeingWithItsQuoteRefused) {
  const crypto::Digest64 rd = bound_report_data();
  Evidence e = evidence_for(Backend::gramine, rd, sgx_quote(rd));
  e.measurement[0] ^= 1;
  expect_refused(e, hardware_policy(), Errc::evidence, "disagree");
  e = evidence_for(Backend::gramine, rd, sgx_quote(rd));
  e.quote.resize(100);
  expect_refused(e, hardware_policy(), Errc::evidence, "truncated");
  e = evidence_for(Backend::gramine, rd, tdx_quote(rd));
  e.measurement = kMrTd;
  expect_refused(e, hardware_policy(), Errc::evidence, "carries tdx evidence, expected sgx");
}

TEST(GramineBackend, WithoutCollateralNothingIsAccepted) {
  const crypto::Digest64 rd = bound_report_data();
  expect_refused(evidence_for(Backend::gramine, rd, sgx_quote(rd)), hardware_policy(), Errc::unsupported,
                 "names no collateral_dir");
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

// The real SNP report captured on a Milan guest, with its REPORT_DATA and VMPL replaced: enough for the backend,
// which reads its own report back (the signature no longer verifies).
constexpr uint32_t kGuestVmpl = 2;   // a guest under an SVSM: configfs-tsm's privlevel_floor says so
Bytes snp_report_with(ByteView report_data, uint32_t vmpl = 0) {
  std::ifstream in(std::string(SG_SOURCE_DIR) + "/tests/attest/vectors/snp/attestation.bin", std::ios::binary);
  Bytes report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::copy(report_data.data, report_data.data + report_data.size, report.begin() + 0x50);
  report[0x30] = uint8_t(vmpl);
  return report;
}

// A firmware stand-in for MSG_KEY_REQ and MSG_REPORT_REQ: checks each request and answers with a key made of the
// fields it selects, or a report carrying the request's user data.
struct FakeSnpFirmware {
  uint32_t status = 0;
  uint32_t report_size = 0x4A0;
  uint32_t key_vmpl = kGuestVmpl;   // the VMPL the guest runs at
  int calls = 0;
  int operator()(unsigned long request, snp_guest_request_ioctl& call) {
    ++calls;
    EXPECT_EQ(call.msg_version, 1);
    if (request == SNP_GET_REPORT) {
      const auto& req = *reinterpret_cast<const snp_report_req*>(call.req_data);
      EXPECT_EQ(req.vmpl, 0u);
      auto& resp = *reinterpret_cast<snp_report_resp*>(call.resp_data);
      const Bytes report = snp_report_with(ByteView(req.user_data, 64), req.vmpl);
      std::memcpy(resp.data, &status, 4);
      std::memcpy(resp.data + 4, &report_size, 4);
      std::copy(report.begin(), report.end(), resp.data + 0x20);
      return 0;
    }
    EXPECT_EQ(request, SNP_GET_DERIVED_KEY);
    const auto& req = *reinterpret_cast<const snp_derived_key_req*>(call.req_data);
    EXPECT_EQ(req.root_key_select, 0u);   // the VCEK root
    EXPECT_EQ(req.guest_field_select, kSnpKeyFieldPolicy | kSnpKeyFieldMeasurement);
    EXPECT_EQ(req.vmpl, key_vmpl);   // the guest's own
    auto& resp = *reinterpret_cast<snp_derived_key_resp*>(call.resp_data);
    std::memcpy(resp.data, &status, 4);
    for (int i = 0; i < 32; ++i) resp.data[0x20 + i] = uint8_t(i ^ req.guest_field_select ^ 0xA5);
    return 0;
  }
};

SevGuestIoctl play(const std::shared_ptr<FakeSnpFirmware>& firmware) {
  return [firmware](unsigned long r, snp_guest_request_ioctl& c) { return (*firmware)(r, c); };
}

// Without configfs-tsm, an SNP guest's evidence comes through /dev/sev-guest: the report carries the report data
// asked for; a firmware refusal or a reply of another size is an error.
TEST(TsmSevGuest, WithoutConfigfsAnSnpGuestReportsThroughTheGuestDevice) {
  EnclaveConfig config;
  config.tsm_report_root = "/nonexistent/tsm/report";
  auto firmware = std::make_shared<FakeSnpFirmware>();
  firmware->key_vmpl = 0;
  auto backend = TsmBackend::create(config, play(firmware));
  ASSERT_TRUE(backend) << backend.error().message;
  const crypto::Digest64 rd = bound_report_data();
  auto evidence = (*backend)->attest(rd);
  ASSERT_TRUE(evidence) << evidence.error().message;
  EXPECT_EQ(evidence->provider, "sev_guest");
  EXPECT_EQ(evidence->report_data, rd);
  EXPECT_EQ(ByteView(evidence->quote.data() + 0x50, 64).to_bytes(), Bytes(rd.begin(), rd.end()));
  EXPECT_TRUE((*backend)->sealing_key()) << "sealing at the report's VMPL";

  firmware->report_size = 0x400;
  auto short_report = (*backend)->attest(rd);
  ASSERT_FALSE(short_report);
  EXPECT_NE(short_report.error().message.find("has 1024 bytes, not 1184"), std::string::npos) << short_report.error().message;
  firmware->report_size = 0x4A0;
  firmware->status = 0x16;
  auto refused = (*backend)->attest(rd);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("refused MSG_REPORT_REQ with status 22"), std::string::npos)
      << refused.error().message;
}

// State an enclave sealed opens only in an enclave started with the same config: on tsm the measurement (and so
// the firmware's key) covers only the VM image, so the runtime mixes the config digest into the sealing key.
TEST(TsmSevGuest, SealedStateOpensOnlyUnderTheSameConfig) {
  auto start = [](const std::string& config_text) {
    EnclaveConfig config;
    config.tsm_report_root = "/nonexistent/tsm/report";
    config.bytes = Bytes(config_text.begin(), config_text.end());
    auto firmware = std::make_shared<FakeSnpFirmware>();
    firmware->key_vmpl = 0;
    return std::make_unique<EnclaveRuntime>(TsmBackend::create(config, play(firmware)).value(), config);
  };
  auto call = [](EnclaveRuntime& runtime, MsgType type, Bytes payload) {
    return (*runtime.messages().find(type))(crypto::MutableByteView{payload.data(), payload.size()});
  };
  const std::string job = R"({"job": {"clients": ["a"]}})", other_job = R"({"job": {"clients": ["b"]}})";
  auto sealer = start(job);
  sealer->state()["trainer"] = Bytes{1, 2, 3};
  auto sealed = call(*sealer, MsgType::seal_state, {});
  ASSERT_TRUE(sealed) << sealed.error().message;
  ASSERT_EQ(sealed->type, MsgType::sealed_state);
  auto same = start(job);
  auto opened = call(*same, MsgType::unseal_state, sealed->payload);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(same->state()["trainer"], (Bytes{1, 2, 3}));
  auto refused = call(*start(other_job), MsgType::unseal_state, sealed->payload);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("does not open"), std::string::npos) << refused.error().message;
}

// On SEV-SNP the tsm backend seals with the firmware's derived key, bound to the launch measurement and policy
// at the guest's own VMPL (configfs-tsm's privlevel_floor); a firmware refusal and a missing device are errors that say which.
TEST_F(TsmBackendTest, SevSnpSealsWithTheFirmwareDerivedKey) {
  std::ofstream(entry_ + "/provider") << "sev_guest\n";
  std::ofstream(entry_ + "/privlevel_floor") << kGuestVmpl << "\n";
  std::ofstream(entry_ + "/privlevel").flush();   // an attribute configfs creates with the entry
  auto firmware = std::make_shared<FakeSnpFirmware>();
  auto serve = [](testing::FakeDevice& d) {
    d.produce("generation", ByteView("0\n"));
    const Bytes inblob = d.consume("inblob");
    d.produce("generation", ByteView("1\n"));
    d.produce("outblob", snp_report_with(inblob));
    d.produce("generation", ByteView("1\n"));
  };
  device_->run(serve);
  auto backend = TsmBackend::create(config_, play(firmware));
  device_->finish();
  ASSERT_TRUE(backend) << backend.error().message;
  std::ifstream privlevel(entry_ + "/privlevel");
  std::string asked;
  privlevel >> asked;
  EXPECT_EQ(asked, std::to_string(kGuestVmpl)) << "reports are asked at the guest's VMPL";
  auto key = (*backend)->sealing_key();
  ASSERT_TRUE(key) << key.error().message;
  Bytes derived(32);
  for (int i = 0; i < 32; ++i) derived[i] = uint8_t(i ^ (kSnpKeyFieldPolicy | kSnpKeyFieldMeasurement) ^ 0xA5);
  const auto expected = crypto::derive_sealing_key(crypto::SecretKey::copy_of(derived), (*backend)->measurement());
  EXPECT_EQ(key->view().to_bytes(), expected.view().to_bytes());
  EXPECT_EQ(firmware->calls, 1);

  firmware->status = 0x16;
  auto refused = (*backend)->sealing_key();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::io);
  EXPECT_NE(refused.error().message.find("status 22"), std::string::npos) << refused.error().message;

  config_.sev_guest_device = dir_.path() + "/no-such-device";
  device_->run(serve);
  auto without_device = TsmBackend::create(config_);
  device_->finish();
  ASSERT_TRUE(without_device) << without_device.error().message;
  auto unsupported = (*without_device)->sealing_key();
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().code, Errc::unsupported) << unsupported.error().message;
  EXPECT_NE(unsupported.error().message.find("no SEV-SNP guest device"), std::string::npos);
}

// A CVM's measurement does not cover the enclave's config, so a tsm verifier must pin it; other backends may.
TEST(TsmVerification, APolicyWithoutAllowedConfigsRefusesTsmEvidence) {
  const crypto::Digest64 rd = bound_report_data();
  Policy unpinned = hardware_policy();
  unpinned.allowed_configs.clear();
  expect_refused(evidence_for(Backend::tsm, rd, tdx_quote(rd)), unpinned, Errc::policy,
                 "list the SHA-256 of the enclave's config file in allowed_configs of hw-policy.json");
}

TEST(TsmVerification, AnUnknownProviderOrAForgedQuoteIsRefused) {
  const crypto::Digest64 rd = bound_report_data();
  Evidence unknown = evidence_for(Backend::tsm, rd, tdx_quote(rd));
  unknown.provider = "arm_cca_guest";
  expect_refused(unknown, hardware_policy(), Errc::evidence, "is not tdx_guest or sev_guest");
  test_support::TempDir collateral;
  const Policy with_collateral =
      hardware_policy(R"(, "collateral_dir": ")" + collateral.path() + R"(")");
  expect_refused(evidence_for(Backend::tsm, rd, tdx_quote(rd)), with_collateral, Errc::evidence,
                 "certificate_parse");   // the forged quote's PCK chain is empty
}

constexpr const char* kAnyRtmr = R"({"tdx": {"any_rtmr": true}})";

// Evidence captured on real hardware, as the enclave policy sees it (tests/attest/vectors; origin in its README).
class RealEvidence : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(collateral_.path() + "/intel");
    std::filesystem::create_directories(collateral_.path() + "/amd");
    for (const char* tee : {"sgx", "tdx"}) {
      const std::string base = vectors() + tee + "/phala_" + tee + "_quote";
      const Bytes quote = read(base + ".dat");
      const std::string cached = attest::collateral_path(quote, collateral_.path()).value();
      std::filesystem::copy_file(base + "_collateral.json", cached);
    }
    const Bytes report = read(vectors() + "snp/attestation.bin");
    std::filesystem::copy_file(vectors() + "snp/vcek.der", attest::collateral_path(report, collateral_.path()).value());
  }

  static std::string vectors() { return std::string(SG_SOURCE_DIR) + "/tests/attest/vectors/"; }
  static Bytes read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // Evidence as a backend would hand it out for `quote_file`.
  static Evidence evidence(Backend backend, const std::string& quote_file, const std::string& provider = "") {
    Evidence e;
    e.backend = backend;
    e.quote = read(vectors() + quote_file);
    const QuoteFields f = read_quote_fields(e.quote).value();
    e.measurement = f.measurement;
    e.report_data = f.report_data;
    e.provider = provider;
    return e;
  }

  Policy policy(const Evidence& e, const std::string& hardware = "{}", bool allow_debug = false) const {
    Policy p = Policy::parse(R"({"allowed_backends": ["gramine", "tsm"], "allowed_measurements": [")" +
                                 crypto::to_hex(e.measurement) + R"("], "collateral_dir": ")" + collateral_.path() +
                                 R"(", "allow_debug": )" + (allow_debug ? "true" : "false") +
                                 R"(, "hardware": )" + hardware + "}",
                             "real-policy.json")
                   .value();
    p.verify_at = attest::parse_utc_time("2025-06-25T00:00:00Z", "test").value();
    return p;
  }

  test_support::TempDir collateral_;
};

TEST_F(RealEvidence, AnSgxQuoteVerifiesOnlyWithItsStatusAllowed) {
  const Evidence e = evidence(Backend::gramine, "sgx/phala_sgx_quote.dat");
  auto strict = verify_gramine_evidence(e, policy(e));
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, Errc::policy);
  EXPECT_NE(strict.error().message.find("tcb_status: TCB status ConfigurationAndSWHardeningNeeded"), std::string::npos)
      << strict.error().message;
  const Policy lenient = policy(e, R"({"allowed_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"]})");
  auto ok = verify_gramine_evidence(e, lenient);
  EXPECT_TRUE(ok) << ok.error().message;
  Policy other_signer = lenient;
  other_signer.hardware.mr_signer = {Bytes(32, 0xFF)};
  auto signer = verify_gramine_evidence(e, other_signer);
  ASSERT_FALSE(signer);
  EXPECT_NE(signer.error().message.find("signer: mr_signer"), std::string::npos) << signer.error().message;
}

TEST_F(RealEvidence, ATdxQuoteVerifiesAndAnSnpDebugGuestIsRefused) {
  const Evidence tdx = evidence(Backend::tsm, "tdx/phala_tdx_quote.dat", "tdx_guest");
  const std::string rtmr1 = R"({"tdx": {"rtmr1": [")" + std::string(96, '0') + R"("]}})";
  auto mrtd_only = verify_tsm_evidence(tdx, policy(tdx));
  ASSERT_FALSE(mrtd_only);
  EXPECT_NE(mrtd_only.error().message.find("rtmr: the policy pins no RTMR"), std::string::npos) << mrtd_only.error().message;
  auto ok = verify_tsm_evidence(tdx, policy(tdx, kAnyRtmr));
  EXPECT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(verify_tsm_evidence(tdx, policy(tdx, rtmr1))) << "RTMR1 pinned to another value";
  Policy later = policy(tdx, kAnyRtmr);
  later.verify_at += 60 * 24 * 3600;
  auto expired = verify_tsm_evidence(tdx, later);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, Errc::evidence);
  EXPECT_NE(expired.error().message.find("CRL has expired"), std::string::npos) << expired.error().message;

  const Evidence snp = evidence(Backend::tsm, "snp/attestation.bin", "sev_guest");
  auto debug = verify_tsm_evidence(snp, policy(snp));
  ASSERT_FALSE(debug);
  EXPECT_EQ(debug.error().code, Errc::policy);
  EXPECT_NE(debug.error().message.find("debug:"), std::string::npos) << debug.error().message;
  auto allowed = verify_tsm_evidence(snp, policy(snp, "{}", /*allow_debug=*/true));
  EXPECT_TRUE(allowed) << allowed.error().message;
  EXPECT_FALSE(verify_tsm_evidence(tdx, policy(snp, kAnyRtmr, true))) << "the TDX quote's MRTD is not in this policy";
}

// A released key is bound to every measured part of the enclave, not just MRTD, and never goes to a debug guest.
TEST_F(RealEvidence, AReleasedKeyIsBoundToTheWholeIdentityAndRefusedToDebugGuests) {
  Evidence tdx = evidence(Backend::tsm, "tdx/phala_tdx_quote.dat", "tdx_guest");
  const Bytes identity = release_identity(tdx).value();
  const auto td = attest::parse_dcap_quote(tdx.quote).value();
  const std::size_t rtmr3 = std::size_t(td.td.rtmr[3].data - tdx.quote.data());
  tdx.quote[rtmr3] ^= 1;   // another kernel or application measured into RTMR3, the same firmware
  EXPECT_NE(release_identity(tdx).value(), identity);
  tdx.quote[rtmr3] ^= 1;
  EXPECT_EQ(release_identity(tdx).value(), identity);
  tdx.config_digest[0] ^= 1;   // another job
  EXPECT_NE(release_identity(tdx).value(), identity);

  const Evidence snp = evidence(Backend::tsm, "snp/attestation.bin", "sev_guest");   // its policy allows debug
  auto debug = release_identity(snp);
  ASSERT_FALSE(debug);
  EXPECT_EQ(debug.error().code, Errc::policy);
  EXPECT_NE(debug.error().message.find("debug enclave"), std::string::npos) << debug.error().message;
}

// An authentic quote whose report data is not this verifier's nonce and this enclave's key: replayed evidence.
TEST_F(RealEvidence, AuthenticEvidenceThatDoesNotBindTheNonceAndKeyIsRefused) {
  const Evidence tdx = evidence(Backend::tsm, "tdx/phala_tdx_quote.dat", "tdx_guest");
  ASSERT_TRUE(verify_tsm_evidence(tdx, policy(tdx, kAnyRtmr)));
  Policy pinned = policy(tdx, kAnyRtmr);
  pinned.allowed_configs = {Bytes(32, 0)};
  auto replayed = verify_evidence(tdx, pinned, Bytes(32, 7), crypto::KxPublicKey{});
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.error().code, Errc::evidence);
  EXPECT_NE(replayed.error().message.find("does not bind"), std::string::npos) << replayed.error().message;
}

}  // namespace
}  // namespace sg::tee
