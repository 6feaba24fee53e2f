// What verified hardware evidence says about the enclave behind it, for every platform: the fields a policy
// checks, the TCB status with its advisories, and the collateral's validity window. Views are copied out, so
// claims outlive the evidence's bytes.
#pragma once

#include <array>
#include <ctime>
#include <string>
#include <vector>

#include "attest/tcb_status.h"
#include "crypto/bytes.h"

namespace sg::attest {

enum class Platform { sgx, tdx, sev_snp };
[[nodiscard]] std::string platform_name(Platform platform);   // "sgx", "tdx", "sev-snp"

struct Claims {
  Platform platform = Platform::sgx;
  crypto::Bytes report_data;   // 64
  bool debug = false;
  TcbStatus tcb_status = TcbStatus::revoked;
  std::vector<std::string> advisories;
  std::time_t collateral_issued = 0;    // the newest issue date of the collateral used
  std::time_t collateral_expires = 0;   // the earliest next update (or certificate end) of the collateral used

  // SGX
  crypto::Bytes mr_enclave, mr_signer;
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  // TDX
  crypto::Bytes mr_td;
  std::array<crypto::Bytes, 4> rtmr;
  // SEV-SNP
  crypto::Bytes measurement, host_data;
  uint32_t vmpl = 0;
  uint32_t guest_svn = 0;
  uint64_t guest_policy = 0;
  std::array<uint8_t, 5> reported_tcb{};   // SPLs: bootloader, tee, snp, microcode, fmc (Turin)
};

// MRENCLAVE, MRTD or SNP MEASUREMENT: what the policy's allowed_measurements lists.
[[nodiscard]] const crypto::Bytes& measurement_of(const Claims& claims);

// The claims as a JSON object (hex byte fields, status and platform names, UTC times), for `attest verify`.
[[nodiscard]] std::string claims_json(const Claims& claims, int indent = 2);

}  // namespace sg::attest
