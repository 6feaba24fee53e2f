#include "tee/attestation_gramine.h"

#include "crypto/sealing.h"
#include "tee/file_io.h"
#include "tee/hardware_evidence.h"

namespace sg::tee {
namespace {

constexpr std::size_t kMaxQuoteBytes = 64 * 1024;

}  // namespace

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
  auto fields = read_quote_fields(*quote);
  if (!fields) return crypto::unexpected(fields.error());
  if (fields->platform != attest::Platform::sgx || fields->report_data != report_data) {
    return fail(Errc::evidence, dir_ + "/quote is not an SGX quote carrying the report data just written");
  }
  Evidence e;
  e.backend = Backend::gramine;
  e.measurement = fields->measurement;
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
  auto claims = verify_hardware_evidence(evidence, attest::Platform::sgx, policy);
  if (!claims) return crypto::unexpected(claims.error());
  return {};
}

}  // namespace sg::tee
