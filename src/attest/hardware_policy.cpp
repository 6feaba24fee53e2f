#include "attest/hardware_policy.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "attest/openssl_objects.h"
#include "attest/snp_report.h"
#include "json/strict_object.h"

namespace sg::attest {
namespace {

using nlohmann::json;
using Reader = strict::JsonObject<>;

constexpr long kSecondsPerDay = 24 * 60 * 60;

std::vector<crypto::Bytes> hex_list(const Reader& r, const std::string& field, std::size_t size) {
  std::vector<crypto::Bytes> out;
  const auto texts = r.optional<std::vector<std::string>>(field, {});
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto bytes = crypto::from_hex(texts[i]);
    if (!bytes || bytes->size() != size) {
      r.fail(field + "[" + std::to_string(i) + "]", "is not a hex string of " + std::to_string(2 * size) + " characters");
    }
    out.push_back(std::move(*bytes));
  }
  return out;
}

void read_sgx(const json& j, const std::string& source, HardwarePolicy& p) {
  Reader r(j, source);
  r.only({"isv_prod_id", "min_isv_svn"});
  if (r.has("isv_prod_id")) p.isv_prod_id = r.required<uint16_t>("isv_prod_id");
  r.read("min_isv_svn", p.min_isv_svn);
}

void read_tdx(const json& j, const std::string& source, HardwarePolicy& p) {
  Reader r(j, source);
  r.only({"rtmr0", "rtmr1", "rtmr2", "rtmr3", "any_rtmr"});
  for (std::size_t i = 0; i < 4; ++i) p.rtmr[i] = hex_list(r, "rtmr" + std::to_string(i), 48);
  r.read("any_rtmr", p.any_rtmr);
}

void read_snp(const json& j, const std::string& source, HardwarePolicy& p) {
  Reader r(j, source);
  r.only({"host_data", "max_vmpl", "min_guest_svn", "min_tcb", "allow_migration_agent"});
  p.host_data = hex_list(r, "host_data", 32);
  r.read("max_vmpl", p.max_vmpl);
  r.read("min_guest_svn", p.min_guest_svn);
  r.read("allow_migration_agent", p.allow_migration_agent);
  if (r.has("min_tcb")) {
    Reader t(r.raw("min_tcb"), source + ".min_tcb");
    t.only({"bootloader", "tee", "snp", "microcode", "fmc"});
    const char* names[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
    for (std::size_t i = 0; i < 5; ++i) t.read(names[i], p.min_tcb[i]);
  }
  if (p.max_vmpl > 3) r.fail("max_vmpl", "must be 0 to 3");
}

bool listed(const std::vector<crypto::Bytes>& allowed, const crypto::Bytes& value) {
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

Status require_listed(const char* check, const char* field, const std::vector<crypto::Bytes>& allowed,
                      const crypto::Bytes& value) {
  if (listed(allowed, value)) return {};
  return refuse(check, std::string(field) + " " + crypto::to_hex(value) + " is not in the policy's " + field + " list");
}

Status check_sgx(const Claims& c, const HardwarePolicy& p) {
  if (auto st = require_listed("signer", "mr_signer", p.mr_signer, c.mr_signer); !st) return st;
  if (p.isv_prod_id && *p.isv_prod_id != c.isv_prod_id) {
    return refuse("isv_prod_id", "ISVPRODID " + std::to_string(c.isv_prod_id) + " is not " + std::to_string(*p.isv_prod_id));
  }
  if (c.isv_svn < p.min_isv_svn) {
    return refuse("isv_svn", "ISVSVN " + std::to_string(c.isv_svn) + " is below min_isv_svn " + std::to_string(p.min_isv_svn));
  }
  return {};
}

Status check_tdx(const Claims& c, const HardwarePolicy& p) {
  const bool pins_rtmr = std::any_of(p.rtmr.begin(), p.rtmr.end(), [](const auto& list) { return !list.empty(); });
  if (!pins_rtmr && !p.any_rtmr) {
    return refuse("rtmr", "the policy pins no RTMR: MRTD measures only the TD firmware, which other tenants' TDs "
                          "share; list hardware.tdx.rtmr1/rtmr2 (kernel, initrd + command line) or set any_rtmr");
  }
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string field = "rtmr" + std::to_string(i);
    if (auto st = require_listed("rtmr", field.c_str(), p.rtmr[i], c.rtmr[i]); !st) return st;
  }
  return {};
}

Status check_snp(const Claims& c, const HardwarePolicy& p) {
  if (auto st = require_listed("host_data", "host_data", p.host_data, c.host_data); !st) return st;
  if (c.vmpl > p.max_vmpl) {
    return refuse("vmpl", "the report comes from VMPL " + std::to_string(c.vmpl) + "; max_vmpl is " + std::to_string(p.max_vmpl));
  }
  if ((c.guest_policy & kSnpPolicyMigrateMa) != 0 && !p.allow_migration_agent) {
    return refuse("migration_agent", "the guest policy allows a migration agent (bit 18), which can export the "
                                     "guest's memory; allow_migration_agent is false");
  }
  const char* names[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
  for (std::size_t i = 0; i < 5; ++i) {
    if (c.reported_tcb[i] < p.min_tcb[i]) {
      return refuse("snp_tcb", std::string("reported ") + names[i] + " SPL " + std::to_string(c.reported_tcb[i]) +
                                   " is below min_tcb." + names[i] + " " + std::to_string(p.min_tcb[i]));
    }
  }
  if (c.guest_svn < p.min_guest_svn) {
    return refuse("guest_svn", "GUEST_SVN " + std::to_string(c.guest_svn) + " is below min_guest_svn " +
                                   std::to_string(p.min_guest_svn));
  }
  return {};
}

}  // namespace

Result<HardwarePolicy> HardwarePolicy::parse(const json& j, const std::string& source) {
  try {
    Reader r(j, source);
    r.only({"allowed_tcb_statuses", "allowed_advisories", "max_collateral_age_days", "sgx", "tdx", "sev_snp"});
    HardwarePolicy p;
    if (r.has("allowed_tcb_statuses")) {
      p.allowed_tcb_statuses.clear();
      for (const std::string& name : r.required<std::vector<std::string>>("allowed_tcb_statuses")) {
        auto status = parse_tcb_status(name);
        if (!status) r.fail("allowed_tcb_statuses", "'" + name + "' is not a TCB status (UpToDate, SWHardeningNeeded, ...)");
        p.allowed_tcb_statuses.insert(*status);
      }
      if (p.allowed_tcb_statuses.empty()) r.fail("allowed_tcb_statuses", "must not be empty (nothing could pass)");
    }
    if (r.has("allowed_advisories")) {
      const auto ids = r.required<std::vector<std::string>>("allowed_advisories");
      p.allowed_advisories = std::set<std::string>(ids.begin(), ids.end());
    }
    if (r.has("max_collateral_age_days")) p.max_collateral_age_s = long(r.required<uint32_t>("max_collateral_age_days")) * kSecondsPerDay;
    if (r.has("sgx")) read_sgx(r.raw("sgx"), source + ".sgx", p);
    if (r.has("tdx")) read_tdx(r.raw("tdx"), source + ".tdx", p);
    if (r.has("sev_snp")) read_snp(r.raw("sev_snp"), source + ".sev_snp", p);
    return p;
  } catch (const std::invalid_argument& e) {
    return refuse("policy_format", e.what());
  }
}

Status check_claims(const Claims& c, const HardwarePolicy& p, std::time_t at) {
  if (!p.allowed_tcb_statuses.count(c.tcb_status)) {
    return refuse("tcb_status", "TCB status " + tcb_status_name(c.tcb_status) + " is not in allowed_tcb_statuses");
  }
  if (p.allowed_advisories) {
    for (const std::string& id : c.advisories) {
      if (!p.allowed_advisories->count(id)) return refuse("advisories", "advisory " + id + " is not in allowed_advisories");
    }
  }
  if (p.max_collateral_age_s && c.platform != Platform::sev_snp && at - c.collateral_issued > *p.max_collateral_age_s) {
    return refuse("collateral_age", "the collateral was issued " + format_utc_time(c.collateral_issued) +
                                        ", older than max_collateral_age_days at " + format_utc_time(at));
  }
  if (c.debug && !p.allow_debug) {
    return refuse("debug", platform_name(c.platform) + " evidence is from a debuggable enclave or guest (its memory "
                                                        "is readable by the host); allow_debug is false");
  }
  const crypto::Bytes& measurement = measurement_of(c);
  if (std::find(p.measurements.begin(), p.measurements.end(), measurement) == p.measurements.end()) {
    return refuse("measurement", platform_name(c.platform) + " measurement " + crypto::to_hex(measurement) +
                                     " is not in allowed_measurements");
  }
  switch (c.platform) {
    case Platform::sgx: return check_sgx(c, p);
    case Platform::tdx: return check_tdx(c, p);
    case Platform::sev_snp: return check_snp(c, p);
  }
  return {};
}

}  // namespace sg::attest
