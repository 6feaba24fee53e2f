// Verification of an Intel SGX (v3) or TDX (v4/v5) quote against its PCS collateral, at a given time, with
// OpenSSL only. Steps, each a named check in a refusal:
//   pck_chain          PCK leaf -> PCK CA -> pinned Intel SGX Root CA, with the root CA CRL and the PCK CRL
//   tcb_signing_chain  TCB info's and QE identity's signer -> pinned root, with the root CA CRL
//   tcb_info_signature, qe_identity_signature   over the exact signed JSON text
//   collateral_window  `at` within each of TCB info's and QE identity's issueDate .. nextUpdate
//   quote_signature    the attestation key over header and body
//   qe_report_signature  the PCK key over the QE report
//   qe_report_data     SHA-256(attestation key || QE auth data), then 32 zero bytes
//   qe_identity        the QE's MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES under their masks
//   tcb_info           TCB info for this TEE, FMSPC and PCE-ID of the PCK certificate
//   tcb_level          the first TCB level the PCK's SVNs (and the TD's TEE_TCB_SVN) reach; its status
//   tdx_module         TDX module identity (MRSIGNERSEAM, SEAM attributes) and its TCB level
// The result's status merges platform, QE and (TDX) module statuses; advisories are their union. Policy
// (which statuses, measurements and ages are acceptable) is applied by check_claims, not here.
#pragma once

#include <ctime>

#include "attest/claims.h"
#include "attest/intel_collateral.h"
#include "attest/openssl_objects.h"

namespace sg::attest {

// `root` is the trust anchor (intel_sgx_root_ca() unless a test substitutes one).
[[nodiscard]] Result<Claims> verify_dcap_quote(ByteView quote, const IntelCollateral& collateral, std::time_t at,
                                               X509* root);

}  // namespace sg::attest
