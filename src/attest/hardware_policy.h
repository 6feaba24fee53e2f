// What a verifier accepts of verified hardware evidence: measurements, TCB statuses, advisories, identity
// fields and minimum SVNs per platform, debug, and how old the collateral may be.
//
// The measurements, signers and debug flag come from the enclave policy's allowed_measurements,
// allowed_signers and allow_debug (tee::Policy fills them); the rest from its "hardware" object:
//
//   "hardware": { "allowed_tcb_statuses": ["UpToDate"], "allowed_advisories": ["INTEL-SA-00615"],
//                 "max_collateral_age_days": 30,
//                 "sgx":     { "isv_prod_id": 1, "min_isv_svn": 2 },
//                 "tdx":     { "rtmr0": ["<96 hex>"], "rtmr1": [...], "rtmr2": [...], "rtmr3": [...],
//                              "any_rtmr": false },
//                 "sev_snp": { "host_data": ["<64 hex>"], "max_vmpl": 0, "min_guest_svn": 1,
//                              "min_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115, "fmc": 0},
//                              "allow_migration_agent": false } }
//
// Every field is optional and the defaults are strict: UpToDate only, VMPL 0 only, debug and SNP migration
// agents refused. Without allowed_advisories any advisory passes (the status already says what is
// outstanding). The measurement list must name the enclave (an empty one passes nothing). A TDX MRTD measures
// only the firmware (a cloud's TDVF is shared by every tenant), so a TD passes only when the policy pins at
// least one RTMR or says "any_rtmr": true. An empty signer, single RTMR or host data list passes any.
// max_collateral_age_days bounds Intel's collateral (SNP's VCEK carries no issue date of that kind).
#pragma once

#include <array>
#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "attest/claims.h"
#include "attest/refusal.h"

namespace sg::attest {

struct HardwarePolicy {
  std::set<TcbStatus> allowed_tcb_statuses{TcbStatus::up_to_date};
  std::optional<std::set<std::string>> allowed_advisories;
  std::optional<long> max_collateral_age_s;
  bool allow_debug = false;
  std::vector<crypto::Bytes> measurements;   // MRENCLAVE, MRTD or SNP MEASUREMENT
  // SGX
  std::vector<crypto::Bytes> mr_signer;
  std::optional<uint16_t> isv_prod_id;
  uint16_t min_isv_svn = 0;
  // TDX
  std::array<std::vector<crypto::Bytes>, 4> rtmr;
  bool any_rtmr = false;
  // SEV-SNP
  std::vector<crypto::Bytes> host_data;
  uint32_t max_vmpl = 0;
  uint32_t min_guest_svn = 0;
  std::array<uint8_t, 5> min_tcb{};   // bootloader, tee, snp, microcode, fmc
  bool allow_migration_agent = false;

  // `j` is the "hardware" object; `source` names it in errors ("policy.json: hardware").
  [[nodiscard]] static Result<HardwarePolicy> parse(const nlohmann::json& j, const std::string& source);
};

// Refusal check names: tcb_status, advisories, collateral_age, debug, measurement, signer, isv_prod_id,
// isv_svn, rtmr, host_data, vmpl, guest_svn, snp_tcb, migration_agent.
[[nodiscard]] Status check_claims(const Claims& claims, const HardwarePolicy& policy, std::time_t at);

}  // namespace sg::attest
