// libFuzzer entry: the verifier's parsers of untrusted attestation input — evidence JSON, SGX quotes, TDX
// quotes / SNP reports, policy files — and verify_evidence itself. Nothing the fuzzer makes may verify: it
// holds neither the sim platform key nor a hardware quote signer, and gramine/tsm verification fails closed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tee/attestation_gramine.h"
#include "tee/attestation_tsm.h"
#include "tee/verifier.h"

namespace {

using namespace sg;

const tee::Policy& permissive_policy() {
  static const tee::Policy policy = [] {
    tee::Policy p;
    p.source = "fuzz-policy";
    p.allowed_backends = {tee::Backend::sim, tee::Backend::gramine, tee::Backend::tsm};
    p.allow_sim = p.allow_debug = p.allow_outdated_tcb = true;
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
  (void)tee::parse_sgx_quote(input);
  (void)tee::parse_tsm_report("tdx_guest", input);
  (void)tee::parse_tsm_report("sev_guest", input);
  (void)tee::Policy::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz-policy.json");
  return 0;
}
