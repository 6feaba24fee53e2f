// Hardware quotes and reports inside sg_tee: the fields an enclave reads back from its own quote (gramine,
// tsm backends) and the verification of a peer's, both on sg_attest's parsers and verifiers.
//
// verify_hardware_evidence checks, in order: the quote is of the platform the backend implies; it carries the
// evidence's measurement and report data; it verifies with the collateral in the policy's collateral_dir at
// the policy's time (Errc::evidence, naming sg_attest's check); its claims pass the policy's hardware section
// (Errc::policy). Without a collateral_dir it refuses (Errc::unsupported): there is nothing to verify against.
#pragma once

#include "attest/claims.h"
#include "tee/evidence.h"
#include "tee/policy.h"

namespace sg::tee {

struct QuoteFields {
  attest::Platform platform = attest::Platform::sgx;
  Bytes measurement;   // MRENCLAVE (32), MRTD or MEASUREMENT (48)
  crypto::Digest64 report_data{};
  bool debug = false;
};

// Recognises SGX and TDX quotes and SEV-SNP reports; Errc::evidence for anything else.
[[nodiscard]] Result<QuoteFields> read_quote_fields(ByteView quote);

[[nodiscard]] Result<attest::Claims> verify_hardware_evidence(const Evidence& evidence, attest::Platform expected,
                                                              const Policy& policy);

}  // namespace sg::tee
