// Intel PCS collateral for one quote: CRLs with their issuer chains, the platform's TCB info and the QE
// identity, each signed by Intel's TCB signing key. The file layout is the one dcap-qvl and Intel's PCCS
// clients use (QuoteCollateralV3 as JSON): PEM chains, hex DER CRLs, the TCB info and QE identity as the exact
// JSON text that was signed, and hex r || s signatures.
//
//   { "pck_crl_issuer_chain", "root_ca_crl", "pck_crl", "tcb_info_issuer_chain", "tcb_info",
//     "tcb_info_signature", "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature" }
#pragma once

#include <array>
#include <ctime>
#include <string>
#include <vector>

#include "attest/refusal.h"
#include "attest/tcb_status.h"
#include "crypto/bytes.h"

namespace sg::attest {

using crypto::Bytes;

struct IntelCollateral {
  std::string source;   // the file, for messages
  std::string pck_crl_issuer_chain;
  Bytes root_ca_crl;
  Bytes pck_crl;
  std::string tcb_info_issuer_chain;
  std::string tcb_info;            // signed text
  Bytes tcb_info_signature;
  std::string qe_identity_issuer_chain;
  std::string qe_identity;         // signed text
  Bytes qe_identity_signature;

  [[nodiscard]] static Result<IntelCollateral> load(const std::string& path);
  [[nodiscard]] static Result<IntelCollateral> parse(std::string_view json_text, const std::string& source);
};

// A level of a QE identity or TDX module identity: reached when the ISV SVN is at least `isv_svn`.
struct IsvTcbLevel {
  uint16_t isv_svn = 0;
  TcbStatus status = TcbStatus::revoked;
  std::vector<std::string> advisories;
};

struct PlatformTcbLevel {
  std::array<uint8_t, 16> sgx_components{};
  uint16_t pce_svn = 0;
  std::array<uint8_t, 16> tdx_components{};   // TDX only
  TcbStatus status = TcbStatus::revoked;
  std::vector<std::string> advisories;
};

struct TdxModuleIdentity {
  std::string id;   // "TDX_03": the TDX module's major version
  Bytes mr_signer;  // 48
  Bytes attributes;
  Bytes attributes_mask;
  std::vector<IsvTcbLevel> levels;
};

struct TcbInfo {
  std::string id;   // "SGX" or "TDX"
  std::time_t issue_date = 0;
  std::time_t next_update = 0;
  Bytes fmspc;
  Bytes pce_id;
  std::vector<PlatformTcbLevel> levels;   // as Intel orders them: highest first
  Bytes tdx_module_mr_signer;             // TDX only: tdxModule
  Bytes tdx_module_attributes;
  Bytes tdx_module_attributes_mask;
  std::vector<TdxModuleIdentity> tdx_module_identities;

  // The signed text of IntelCollateral::tcb_info (version 3 only: older versions lack TDX fields).
  [[nodiscard]] static Result<TcbInfo> parse(std::string_view json_text, const std::string& source);
};

struct QeIdentity {
  std::string id;   // "QE" (SGX) or "TD_QE" (TDX)
  std::time_t issue_date = 0;
  std::time_t next_update = 0;
  uint32_t misc_select = 0;
  uint32_t misc_select_mask = 0;
  Bytes attributes;        // 16
  Bytes attributes_mask;   // 16
  Bytes mr_signer;         // 32
  uint16_t isv_prod_id = 0;
  std::vector<IsvTcbLevel> levels;

  [[nodiscard]] static Result<QeIdentity> parse(std::string_view json_text, const std::string& source);
};

}  // namespace sg::attest
