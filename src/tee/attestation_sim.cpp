#include "tee/attestation_sim.h"

#include <fstream>

#include "crypto/sealing.h"
#include "tee/signing_key_file.h"

namespace sg::tee {
namespace {

Bytes signed_message(const Evidence& e) {
  Bytes msg;
  crypto::ByteWriter w(msg);
  w.raw(ByteView("sliceguard-sim-evidence-v1"));
  w.bytes32(e.measurement);
  w.raw(e.report_data);
  return msg;
}

}  // namespace

Result<crypto::SigningKeyPair> load_or_create_platform_key(const std::string& path) {
  return load_or_create_signing_key(path, "sim platform key");
}

Result<crypto::Digest32> sim_code_digest(const std::string& binary_path) {
  std::ifstream binary(binary_path, std::ios::binary);
  if (!binary) return fail(Errc::io, "cannot read enclave binary " + binary_path);
  crypto::Sha256 sha;
  std::vector<char> buffer(1 << 20);
  while (binary.read(buffer.data(), std::streamsize(buffer.size())) || binary.gcount() > 0) {
    sha.update(ByteView(reinterpret_cast<const uint8_t*>(buffer.data()), std::size_t(binary.gcount())));
  }
  return sha.finish();
}

Bytes sim_measurement_of(const crypto::Digest32& code, ByteView config_bytes) {
  crypto::Sha256 config;
  config.update(config_bytes);
  const crypto::Digest32 config_digest = config.finish();
  crypto::Sha256 sha;
  sha.update(ByteView("sliceguard-sim-measurement-v2"));
  sha.update(ByteView(code.data(), code.size()));
  sha.update(ByteView(config_digest.data(), config_digest.size()));
  const crypto::Digest32 digest = sha.finish();
  return Bytes(digest.begin(), digest.end());
}

Result<Bytes> sim_measurement(const std::string& binary_path, ByteView config_bytes) {
  auto code = sim_code_digest(binary_path);
  if (!code) return crypto::unexpected(code.error());
  return sim_measurement_of(*code, config_bytes);
}

Result<std::unique_ptr<AttestationBackend>> SimBackend::create(const EnclaveConfig& config) {
  auto platform = load_or_create_platform_key(config.sim_platform_key);
  if (!platform) return crypto::unexpected(platform.error());
  auto measurement = sim_measurement("/proc/self/exe", config.bytes);
  if (!measurement) return crypto::unexpected(measurement.error());
  return std::unique_ptr<AttestationBackend>(new SimBackend(std::move(*platform), std::move(*measurement)));
}

Result<Evidence> SimBackend::attest(const crypto::Digest64& report_data) {
  Evidence e;
  e.backend = Backend::sim;
  e.measurement = measurement_;
  e.report_data = report_data;
  const crypto::Signature sig = crypto::sign(platform_, signed_message(e));
  e.signature.assign(sig.begin(), sig.end());
  return e;
}

Result<crypto::SecretKey> SimBackend::sealing_key() {
  return crypto::derive_sealing_key(platform_.seed(), measurement_);
}

Status verify_sim_evidence(const Evidence& evidence, const Policy& policy) {
  const Bytes msg = signed_message(evidence);
  for (const crypto::VerifyKey& key : policy.sim_platform_keys) {
    if (crypto::verify_signature(key, msg, evidence.signature)) return {};
  }
  return fail(Errc::evidence, "sim evidence signature does not verify under any sim_platform_keys of " + policy.source);
}

}  // namespace sg::tee
