#include "tee/hardware_evidence.h"

#include <algorithm>
#include <ctime>

#include "attest/collateral_cache.h"
#include "attest/dcap_quote.h"
#include "attest/snp_report.h"

namespace sg::tee {
namespace {

crypto::Unexpected<Error> refused(Errc code, const attest::Refusal& r) { return fail(code, r.check + ": " + r.message); }

void copy_report_data(ByteView from, crypto::Digest64& to) { std::copy(from.data, from.data + to.size(), to.begin()); }

}  // namespace

Result<QuoteFields> read_quote_fields(ByteView quote) {
  auto platform = attest::detect_platform(quote);
  if (!platform) return refused(Errc::evidence, platform.error());
  QuoteFields f;
  f.platform = *platform;
  if (*platform == attest::Platform::sev_snp) {
    auto r = attest::parse_snp_report(quote);
    if (!r) return refused(Errc::evidence, r.error());
    f.measurement = r->measurement.to_bytes();
    copy_report_data(r->report_data, f.report_data);
    f.debug = (r->policy & attest::kSnpPolicyDebug) != 0;
    return f;
  }
  auto q = attest::parse_dcap_quote(quote);
  if (!q) return refused(Errc::evidence, q.error());
  if (q->tee == attest::TeeType::sgx) {
    f.measurement = q->enclave.mr_enclave.to_bytes();
    copy_report_data(q->enclave.report_data, f.report_data);
    f.debug = (q->enclave.attributes.data[0] & attest::kSgxDebugFlag) != 0;
  } else {
    f.measurement = q->td.mr_td.to_bytes();
    copy_report_data(q->td.report_data, f.report_data);
    f.debug = (q->td.td_attributes & attest::kTdDebugFlag) != 0;
  }
  return f;
}

Result<attest::Claims> verify_hardware_evidence(const Evidence& evidence, attest::Platform expected,
                                                const Policy& policy) {
  auto fields = read_quote_fields(evidence.quote);
  if (!fields) return crypto::unexpected(fields.error());
  if (fields->platform != expected) {
    return fail(Errc::evidence, backend_name(evidence.backend) + " evidence carries " +
                                    attest::platform_name(fields->platform) + " evidence, expected " +
                                    attest::platform_name(expected));
  }
  if (fields->report_data != evidence.report_data || fields->measurement != evidence.measurement) {
    return fail(Errc::evidence, backend_name(evidence.backend) + " evidence fields disagree with its quote");
  }
  if (policy.collateral_dir.empty()) {
    return fail(Errc::unsupported, policy.source + " names no collateral_dir: " + backend_name(evidence.backend) +
                                       " evidence cannot be verified without Intel PCS / AMD KDS collateral "
                                       "(deploy/cvm/README.md says how to cache it); refusing it");
  }
  const std::time_t at = policy.verify_at != 0 ? policy.verify_at : std::time(nullptr);
  auto claims = attest::verify_with_collateral_dir(evidence.quote, policy.collateral_dir, at);
  if (!claims) return refused(Errc::evidence, claims.error());
  if (auto allowed = attest::check_claims(*claims, policy.hardware, at); !allowed) {
    return fail(Errc::policy, allowed.error().check + ": " + allowed.error().message + " (" + policy.source + ")");
  }
  return std::move(*claims);
}

}  // namespace sg::tee
