#include "attest/claims.h"

#include <nlohmann/json.hpp>

#include "attest/openssl_objects.h"

namespace sg::attest {

std::string platform_name(Platform platform) {
  switch (platform) {
    case Platform::sgx: return "sgx";
    case Platform::tdx: return "tdx";
    case Platform::sev_snp: return "sev-snp";
  }
  return "unknown";
}

const crypto::Bytes& measurement_of(const Claims& c) {
  switch (c.platform) {
    case Platform::sgx: return c.mr_enclave;
    case Platform::tdx: return c.mr_td;
    case Platform::sev_snp: return c.measurement;
  }
  return c.measurement;
}

std::string claims_json(const Claims& c, int indent) {
  using crypto::to_hex;
  nlohmann::json j{{"platform", platform_name(c.platform)},
                   {"tcb_status", tcb_status_name(c.tcb_status)},
                   {"advisories", c.advisories},
                   {"debug", c.debug},
                   {"report_data", to_hex(c.report_data)},
                   {"collateral_issued", format_utc_time(c.collateral_issued)},
                   {"collateral_expires", format_utc_time(c.collateral_expires)}};
  switch (c.platform) {
    case Platform::sgx:
      j.update({{"mr_enclave", to_hex(c.mr_enclave)}, {"mr_signer", to_hex(c.mr_signer)},
                {"isv_prod_id", c.isv_prod_id}, {"isv_svn", c.isv_svn}});
      break;
    case Platform::tdx:
      j.update({{"mr_td", to_hex(c.mr_td)}, {"rtmr0", to_hex(c.rtmr[0])}, {"rtmr1", to_hex(c.rtmr[1])},
                {"rtmr2", to_hex(c.rtmr[2])}, {"rtmr3", to_hex(c.rtmr[3])}});
      break;
    case Platform::sev_snp:
      j.update({{"measurement", to_hex(c.measurement)}, {"host_data", to_hex(c.host_data)}, {"vmpl", c.vmpl},
                {"guest_svn", c.guest_svn}, {"guest_policy", c.guest_policy},
                {"reported_tcb", {{"bootloader", c.reported_tcb[0]}, {"tee", c.reported_tcb[1]}, {"snp", c.reported_tcb[2]},
                                  {"microcode", c.reported_tcb[3]}, {"fmc", c.reported_tcb[4]}}}});
      j.erase("collateral_issued");
      break;
  }
  return j.dump(indent);
}

}  // namespace sg::attest
