// The enclave's config file (`sliceguard enclave --config FILE`). JSON, every field optional:
//
//   { "sim_platform_key": "/path/key",                  default $HOME/.config/sliceguard/sim_platform.key
//     "gramine_attestation_dir": "/dev/attestation",
//     "tsm_report_root": "/sys/kernel/config/tsm/report",
//     "sev_guest_device": "/dev/sev-guest",             SEV-SNP sealing key requests (tsm backend)
//     "key_broker": "<Ed25519 public key hex>",          seal only with a key this broker releases (key_release.h)
//     "job": { ... } }                                  what the enclave serves (e.g. split/job.h); opaque here
//
// The file's bytes are part of the sim measurement, so two configs give two enclave identities.
#pragma once

#include <optional>
#include <string>

#include "crypto/signing.h"

#include "tee/error.h"
#include "tee/messages.h"

namespace sg::tee {

struct EnclaveConfig {
  std::string path;
  Bytes bytes;   // the file as read, measured by the sim backend
  std::string sim_platform_key;
  std::string gramine_attestation_dir = "/dev/attestation";
  std::string tsm_report_root = "/sys/kernel/config/tsm/report";
  std::string sev_guest_device = "/dev/sev-guest";
  std::optional<crypto::VerifyKey> key_broker;
  std::string job;   // the "job" object as JSON text; empty = none (the enclave serves only the built-ins)

  [[nodiscard]] static Result<EnclaveConfig> load(const std::string& path);
};

// What a host puts in an enclave's config; empty fields are left out (the reader's defaults apply).
struct EnclaveConfigFields {
  std::string sim_platform_key;
  std::string gramine_attestation_dir;
  std::string tsm_report_root;
  std::string job;   // JSON object text
};

// Writes `fields` to `path` in the form EnclaveConfig::load reads; a job that is not a JSON object is refused.
[[nodiscard]] Status write_enclave_config(const std::string& path, const EnclaveConfigFields& fields);

}  // namespace sg::tee
