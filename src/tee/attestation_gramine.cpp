#include "tee/attestation_gramine.h"

#include <algorithm>
#include <ctime>

#include "crypto/sealing.h"
#include "tee/file_io.h"

#ifdef SG_HAVE_SGX_QVL
#include <sgx_dcap_quoteverify.h>
#endif

namespace sg::tee {
namespace {

// SGX DCAP quote v3: a 48-byte header, the 384-byte enclave report body, then u32 signature length + signature.
constexpr std::size_t kHeaderBytes = 48;
constexpr std::size_t kAttributesFlags = kHeaderBytes + 48;
constexpr std::size_t kMrEnclave = kHeaderBytes + 64;
constexpr std::size_t kMrSigner = kHeaderBytes + 128;
constexpr std::size_t kReportData = kHeaderBytes + 320;
constexpr std::size_t kSignatureLength = kHeaderBytes + 384;
constexpr std::size_t kMinQuoteBytes = kSignatureLength + 4;
constexpr uint64_t kSgxFlagDebug = 0x2;
constexpr std::size_t kMaxQuoteBytes = 64 * 1024;

#ifdef SG_HAVE_SGX_QVL
Status verify_quote_signature(ByteView quote, const Policy& policy) {
  uint32_t collateral_expiration = 1;
  sgx_ql_qv_result_t result = SGX_QL_QV_RESULT_UNSPECIFIED;
  const quote3_error_t rc = sgx_qv_verify_quote(quote.data, uint32_t(quote.size), nullptr, std::time(nullptr),
                                                &collateral_expiration, &result, nullptr, 0, nullptr);
  if (rc != SGX_QL_SUCCESS) {
    return fail(Errc::evidence, "sgx_qv_verify_quote failed with error 0x" + std::to_string(unsigned(rc)));
  }
  switch (result) {
    case SGX_QL_QV_RESULT_OK:
      return {};
    case SGX_QL_QV_RESULT_OUT_OF_DATE:
    case SGX_QL_QV_RESULT_OUT_OF_DATE_CONFIG_NEEDED:
    case SGX_QL_QV_RESULT_CONFIG_NEEDED:
    case SGX_QL_QV_RESULT_SW_HARDENING_NEEDED:
    case SGX_QL_QV_RESULT_CONFIG_AND_SW_HARDENING_NEEDED:
      if (policy.allow_outdated_tcb) return {};
      return fail(Errc::policy, "SGX quote verifies but the platform TCB is not up to date (QVL result 0x" +
                                    std::to_string(unsigned(result)) + "); allow_outdated_tcb is false in " + policy.source);
    default:
      return fail(Errc::evidence, "SGX quote rejected by the QVL (result 0x" + std::to_string(unsigned(result)) + ")");
  }
}
#else
Status verify_quote_signature(ByteView, const Policy&) {
  return fail(Errc::unsupported,
              "gramine evidence cannot be verified: this build has no Intel DCAP quote verification library "
              "(libsgx-dcap-quoteverify was not found at build time); refusing the quote");
}
#endif

}  // namespace

Result<SgxQuoteFields> parse_sgx_quote(ByteView quote) {
  crypto::ByteReader r(quote);
  uint16_t version = 0;
  if (quote.size < kMinQuoteBytes || !r.u16(version)) {
    return fail(Errc::evidence, "SGX quote of " + std::to_string(quote.size) + " bytes is truncated");
  }
  if (version != 3) return fail(Errc::evidence, "SGX quote version " + std::to_string(version) + " is not 3");
  crypto::ByteReader sig_len_reader(quote.subview(kSignatureLength, 4));
  uint32_t sig_len = 0;
  if (!sig_len_reader.u32(sig_len) || sig_len != quote.size - kMinQuoteBytes) {
    return fail(Errc::evidence, "SGX quote signature length does not match the quote size");
  }
  SgxQuoteFields f;
  f.mrenclave = quote.subview(kMrEnclave, 32).to_bytes();
  f.mrsigner = quote.subview(kMrSigner, 32).to_bytes();
  std::copy(quote.data + kReportData, quote.data + kReportData + 64, f.report_data.begin());
  f.debug = (quote.data[kAttributesFlags] & kSgxFlagDebug) != 0;
  return f;
}

Result<std::unique_ptr<AttestationBackend>> GramineBackend::create(const EnclaveConfig& config) {
  std::unique_ptr<GramineBackend> backend(new GramineBackend(config.gramine_attestation_dir));
  // One quote over zero report data tells the enclave its own MRENCLAVE.
  auto self = backend->attest(crypto::Digest64{});
  if (!self) return crypto::unexpected(self.error());
  backend->measurement_ = self->measurement;
  return std::unique_ptr<AttestationBackend>(std::move(backend));
}

Result<Evidence> GramineBackend::attest(const crypto::Digest64& report_data) {
  if (auto written = write_file(dir_ + "/user_report_data", report_data); !written) {
    return crypto::unexpected(written.error());
  }
  auto quote = read_file(dir_ + "/quote", kMaxQuoteBytes);
  if (!quote) return crypto::unexpected(quote.error());
  auto fields = parse_sgx_quote(*quote);
  if (!fields) return crypto::unexpected(fields.error());
  if (fields->report_data != report_data) {
    return fail(Errc::evidence, dir_ + "/quote does not carry the report data just written (concurrent writer?)");
  }
  Evidence e;
  e.backend = Backend::gramine;
  e.measurement = fields->mrenclave;
  e.report_data = report_data;
  e.quote = std::move(*quote);
  return e;
}

Result<crypto::SecretKey> GramineBackend::sealing_key() {
  auto secret = read_file(dir_ + "/keys/_sgx_mrenclave", 64);
  if (!secret) return crypto::unexpected(secret.error());
  return crypto::derive_sealing_key(crypto::SecretKey::take(*secret), measurement_);
}

Status verify_gramine_evidence(const Evidence& evidence, const Policy& policy) {
  auto fields = parse_sgx_quote(evidence.quote);
  if (!fields) return crypto::unexpected(fields.error());
  if (fields->report_data != evidence.report_data || fields->mrenclave != evidence.measurement) {
    return fail(Errc::evidence, "gramine evidence fields disagree with its quote");
  }
  if (fields->debug && !policy.allow_debug) {
    return fail(Errc::policy, "SGX enclave is a debug enclave (its memory is readable); allow_debug is false in " + policy.source);
  }
  if (!policy.allowed_signers.empty() &&
      std::find(policy.allowed_signers.begin(), policy.allowed_signers.end(), fields->mrsigner) == policy.allowed_signers.end()) {
    return fail(Errc::policy, "MRSIGNER " + crypto::to_hex(fields->mrsigner) + " is not in allowed_signers of " + policy.source);
  }
  // Last, but required: until the quote's signature chain verifies, none of the fields above are trustworthy.
  return verify_quote_signature(evidence.quote, policy);
}

}  // namespace sg::tee
