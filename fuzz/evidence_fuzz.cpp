// libFuzzer entry: the verifier's parsers of untrusted attestation input — evidence JSON, the fields of
// SGX/TDX quotes and SNP reports, policy files — and verify_evidence itself. Nothing the fuzzer makes may
// verify: it holds no sim platform key, and the policy names no collateral, so gramine/tsm evidence is refused
// (attest_fuzz covers hardware verification with real collateral).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tee/hardware_evidence.h"
#include "tee/verifier.h"

namespace {

using namespace sg;

const tee::Policy& permissive_policy() {
  static const tee::Policy policy = [] {
    tee::Policy p;
    p.source = "fuzz-policy";
    p.allowed_backends = {tee::Backend::sim, tee::Backend::gramine, tee::Backend::tsm};
    p.allow_sim = p.allow_debug = true;
    p.sim_platform_keys = {crypto::SigningKeyPair::generate().public_key};
    return p;
  }();
  return policy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const crypto::ByteView input(data, size);
  if (auto evidence = tee::parse_evidence(input)) {
    tee::Policy policy = permissive_policy();
    policy.allowed_measurements = {evidence->measurement};
    const crypto::Digest64 nonce{};
    if (tee::verify_evidence(*evidence, policy, nonce, crypto::KxPublicKey{})) __builtin_trap();
  }
  (void)tee::read_quote_fields(input);
  (void)tee::Policy::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz-policy.json");
  return 0;
}
