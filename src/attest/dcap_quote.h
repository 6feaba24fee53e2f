// Intel DCAP quotes: SGX (version 3) and TDX (version 4, and version 5 with a TDX 1.0 or 1.5 body), parsed
// into views of the quote's own bytes. Layouts from Intel's "SGX ECDSA Quote Library API" and the TDX DCAP
// quote format; every length is checked, nothing is trusted until dcap_verifier checks the signatures.
//
//   header (48) | body (SGX report 384, TD report 584; v5: type u16, size u32, body 584 or 648)
//   | u32 signature data length | quote signature (64) | attestation key (64)
//   | v3: QE report (384) | QE report signature (64) | QE auth data (u16 + bytes) | cert type u16 | u32 | certs
//   | v4/v5: cert type 6 u16 | u32 | { QE report | QE report signature | QE auth data | cert type 5 | u32 | PEM }
#pragma once

#include <cstdint>

#include "attest/refusal.h"
#include "crypto/bytes.h"

namespace sg::attest {

using crypto::ByteView;
using crypto::Bytes;

enum class TeeType : uint32_t { sgx = 0x00, tdx = 0x81 };

// The SGX enclave report body: the quoted enclave's, and the quoting enclave's (QE report).
struct SgxReportBody {
  ByteView raw;          // all 384 bytes (what the QE report signature covers)
  ByteView cpu_svn;      // 16
  uint32_t misc_select = 0;
  ByteView attributes;   // 16: flags (u64, bit 1 = DEBUG) then XFRM
  ByteView mr_enclave;   // 32
  ByteView mr_signer;    // 32
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  ByteView report_data;  // 64
};

// The TD report body (TDX 1.0; TDX 1.5 adds tee_tcb_svn2 and mr_service_td).
struct TdReportBody {
  ByteView tee_tcb_svn;    // 16
  ByteView mr_seam;        // 48
  ByteView mr_signer_seam; // 48
  ByteView seam_attributes;// 8
  uint64_t td_attributes = 0;   // bit 0 = DEBUG
  ByteView xfam;           // 8
  ByteView mr_td;          // 48
  ByteView mr_config_id;   // 48
  ByteView mr_owner;       // 48
  ByteView mr_owner_config;// 48
  ByteView rtmr[4];        // 48 each
  ByteView report_data;    // 64
};

struct DcapQuote {
  uint16_t version = 0;
  TeeType tee = TeeType::sgx;
  ByteView signed_region;       // header and body: what the attestation key signs
  SgxReportBody enclave;        // SGX only
  TdReportBody td;              // TDX only
  ByteView quote_signature;     // 64, r || s
  ByteView attestation_key;     // 64, x || y
  SgxReportBody qe_report;
  ByteView qe_report_signature; // 64, by the PCK key
  ByteView qe_auth_data;
  ByteView pck_chain_pem;       // certification data type 5: PCK leaf, intermediate CA, root
};

inline constexpr std::size_t kMaxQuoteBytes = 64 * 1024;
inline constexpr uint8_t kSgxDebugFlag = 0x02;   // ATTRIBUTES.FLAGS bit 1 (first byte of `attributes`)
inline constexpr uint64_t kTdDebugFlag = 0x01;   // TD_ATTRIBUTES bit 0

// `quote` must outlive the result (it holds views into it).
[[nodiscard]] Result<DcapQuote> parse_dcap_quote(ByteView quote);

}  // namespace sg::attest
