// The `gramine` backend: the same enclave binary run under Gramine-SGX. Evidence is an SGX DCAP quote obtained
// through Gramine's /dev/attestation: write 64 bytes to user_report_data, read quote. The sealing secret is
// Gramine's MRENCLAVE-bound SGX sealing key (keys/_sgx_mrenclave).
//
// Verification checks the quote's fields (report data, MRENCLAVE, MRSIGNER, DEBUG attribute) and the quote's
// signature chain through Intel's DCAP Quote Verification Library (sgx_qv_verify_quote). The QVL is used only
// when it was found at build time (SG_HAVE_SGX_QVL); without it every gramine quote is refused: fail closed.
#pragma once

#include <memory>
#include <string>

#include "tee/attestation.h"
#include "tee/policy.h"

namespace sg::tee {

// The fields of an SGX ECDSA quote (version 3) that the policy checks.
struct SgxQuoteFields {
  Bytes mrenclave;   // 32 bytes
  Bytes mrsigner;    // 32 bytes
  crypto::Digest64 report_data{};
  bool debug = false;
};
[[nodiscard]] Result<SgxQuoteFields> parse_sgx_quote(ByteView quote);

class GramineBackend final : public AttestationBackend {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AttestationBackend>> create(const EnclaveConfig& config);

  Backend kind() const override { return Backend::gramine; }
  const Bytes& measurement() const override { return measurement_; }
  [[nodiscard]] Result<Evidence> attest(const crypto::Digest64& report_data) override;
  [[nodiscard]] Result<crypto::SecretKey> sealing_key() override;

 private:
  explicit GramineBackend(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  Bytes measurement_;
};

// Field checks against the policy, then the QVL signature check (or Errc::unsupported without the QVL).
[[nodiscard]] Status verify_gramine_evidence(const Evidence& evidence, const Policy& policy);

}  // namespace sg::tee
