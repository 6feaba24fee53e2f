// A verifier's policy: which enclaves it will talk to. JSON, for example
//
//   { "allowed_backends": ["gramine"], "allowed_measurements": ["<64 or 96 hex chars>", ...],
//     "allowed_signers": ["<MRSIGNER hex>"], "allow_sim": false, "allow_debug": false,
//     "sim_platform_keys": ["<Ed25519 public key hex>"],
//     "collateral_dir": "/var/cache/sliceguard/collateral", "hardware": { ... },
//     "allowed_configs": ["<SHA-256 of the enclave config file>"] }
//
// collateral_dir holds Intel PCS / AMD KDS collateral (attest/collateral_cache.h); gramine and tsm evidence is
// verified with it and refused without it. "hardware" is attest::HardwarePolicy (TCB statuses, advisories,
// collateral age, ISV fields, RTMRs, host data, VMPL); its measurements, signers and debug flag are
// allowed_measurements, allowed_signers and allow_debug above.
//
// "allowed_configs" pins the config (and so the job) the enclave runs, which evidence binds through its report data
// (evidence.h). Required for tsm, whose measurement covers only the VM image; optional elsewhere, where the
// measurement covers the config already (sim: hashed in; gramine: a trusted file of the manifest).
//
// "allowed_code": [SHA-256 of enclave binaries] admits, instead of listed measurements, any enclave running
// that code whose config the verifier inspects (verify_peer_evidence; sim only: the measurement is recomputed
// from the code digest and the config it was shown). It breaks the cycle of two enclaves that must each list
// the other's measurement in their own measured configs (federated mutual attestation).
//
// allowed_backends and allowed_measurements (or allowed_code) are required; the flags default to false (fail closed);
// sim_platform_keys is required when allow_sim is true. Unknown fields are errors (a typo must not silently
// weaken a policy). Every error names the file and the field.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <ctime>

#include "attest/hardware_policy.h"
#include "crypto/signing.h"
#include "tee/evidence.h"

namespace sg::tee {

struct Policy {
  std::string source;   // file path (or label) the policy came from, for error messages
  std::set<Backend> allowed_backends;
  std::vector<Bytes> allowed_measurements;
  std::vector<Bytes> allowed_code;      // sim code digests, for peers that show their config
  std::vector<Bytes> allowed_configs;   // SHA-256 of enclave config files; empty accepts any (refused for tsm)
  std::vector<Bytes> allowed_signers;   // SGX MRSIGNER values; empty accepts any signer
  std::vector<crypto::VerifyKey> sim_platform_keys;
  bool allow_sim = false;
  bool allow_debug = false;
  std::string collateral_dir;
  attest::HardwarePolicy hardware;
  std::time_t verify_at = 0;   // not in the file: 0 verifies at the current time (tests and `attest verify --at`)

  [[nodiscard]] static Result<Policy> load(const std::string& path);
  [[nodiscard]] static Result<Policy> parse(std::string_view json_text, const std::string& source);
};

}  // namespace sg::tee
