// libFuzzer entry: sg_attest on untrusted bytes — Intel quotes verified against the real SGX and TDX
// collateral, SNP reports against the real VCEK (seeded with the real evidence, so mutations reach every
// check), the collateral file, TCB info and QE identity parsers, and the hardware policy reader. Every
// refusal must be a Refusal; a crash, sanitizer report or exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "attest/collateral_cache.h"
#include "attest/dcap_verifier.h"
#include "attest/hardware_policy.h"
#include "attest/snp_verifier.h"
#include "attest/trust_anchors.h"

namespace {

using namespace sg::attest;

std::string vector(const char* name) { return std::string(SG_SOURCE_DIR) + "/tests/attest/vectors/" + name; }

const IntelCollateral& collateral(bool tdx) {
  static const IntelCollateral sgx = IntelCollateral::load(vector("sgx/phala_sgx_quote_collateral.json")).value();
  static const IntelCollateral td = IntelCollateral::load(vector("tdx/phala_tdx_quote_collateral.json")).value();
  return tdx ? td : sgx;
}

const SnpCollateral& vcek() {
  static const SnpCollateral c = load_snp_collateral(vector("snp/vcek.der")).value();
  return c;
}

const std::time_t kInside = parse_utc_time("2025-06-25T00:00:00Z", "fuzz").value();

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const sg::crypto::ByteView input(data, size);
  if (auto platform = detect_platform(input)) {
    if (*platform == Platform::sev_snp) (void)verify_snp_report(input, vcek(), kInside);
    else (void)verify_dcap_quote(input, collateral(*platform == Platform::tdx), kInside, intel_sgx_root_ca());
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)IntelCollateral::parse(text, "fuzz.json");
  (void)TcbInfo::parse(text, "fuzz.json");
  (void)QeIdentity::parse(text, "fuzz.json");
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) (void)HardwarePolicy::parse(j, "fuzz.json: hardware");
  return 0;
}
