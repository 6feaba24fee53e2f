// Attestation evidence: what an enclave hands a verifier to prove what it runs and which key it holds.
//
//   backend      sim | gramine | tsm
//   measurement  sim: SHA-256 of the enclave binary and its config; gramine: MRENCLAVE; tsm: TDX MRTD or SNP
//                MEASUREMENT
//   config_digest  SHA-256 of the enclave's config file as it read it (its job included). A confidential VM's
//                measurement covers the VM image, not the config its enclave process reads, so the config is
//                bound through the report data instead (policy: allowed_configs).
//   report_data  BLAKE2b-512("sliceguard-report-data-v2" || enclave ephemeral X25519 key || verifier nonce ||
//                config_digest)
//   signature    sim only: the platform key's Ed25519 signature over measurement and report_data
//   quote        gramine / tsm: the hardware quote (SGX DCAP quote, TDX quote, SNP report) carrying both
//   provider     tsm only: the configfs-tsm provider ("tdx_guest", "sev_guest")
//
// Serialised as a JSON object with hex fields; parse_evidence is strict (known keys only, exact sizes) because
// evidence arrives through the untrusted host.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crypto/hash.h"
#include "crypto/key_exchange.h"
#include "tee/error.h"
#include "tee/messages.h"

namespace sg::tee {

enum class Backend { sim, gramine, tsm };
[[nodiscard]] std::string backend_name(Backend backend);
[[nodiscard]] std::optional<Backend> parse_backend(std::string_view name);

struct Evidence {
  Backend backend = Backend::sim;
  Bytes measurement;
  crypto::Digest32 config_digest{};
  crypto::Digest64 report_data{};
  Bytes signature;
  Bytes quote;
  std::string provider;
};

[[nodiscard]] crypto::Digest32 config_digest_of(ByteView config);
[[nodiscard]] crypto::Digest64 report_data_for(const crypto::KxPublicKey& enclave_key, ByteView nonce,
                                               const crypto::Digest32& config_digest);

inline constexpr std::size_t kMaxEvidenceBytes = 256 * 1024;
[[nodiscard]] Bytes serialize_evidence(const Evidence& evidence);
[[nodiscard]] Result<Evidence> parse_evidence(ByteView bytes);

}  // namespace sg::tee
