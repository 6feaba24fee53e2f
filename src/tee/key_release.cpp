#include "tee/key_release.h"

#include <sodium.h>

#include <algorithm>

#include "attest/collateral_cache.h"
#include "attest/dcap_quote.h"
#include "attest/snp_report.h"
#include "tee/verifier.h"

namespace sg::tee {
namespace {

constexpr std::string_view kReleaseLabel = "sliceguard-key-release-v1";
constexpr std::string_view kDerivationLabel = "sliceguard-released-key-v2";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kBoxBytes = kKeyBytes + crypto_box_SEALBYTES;
constexpr std::size_t kMaxMeasurementBytes = 48;

// What the broker signs: label || enclave key || config digest || u8 measurement length || measurement || box.
Bytes signed_part(const crypto::KxPublicKey& enclave_key, const crypto::Digest32& config_digest, ByteView measurement,
                  ByteView box) {
  Bytes out(kReleaseLabel.begin(), kReleaseLabel.end());
  out.insert(out.end(), enclave_key.begin(), enclave_key.end());
  out.insert(out.end(), config_digest.begin(), config_digest.end());
  out.push_back(uint8_t(measurement.size));
  out.insert(out.end(), measurement.data, measurement.data + measurement.size);
  out.insert(out.end(), box.data, box.data + box.size);
  return out;
}

// Appends `bytes` with a u8 length, so no two identities serialise alike.
void field(Bytes& out, ByteView bytes) {
  out.push_back(uint8_t(bytes.size));
  out.insert(out.end(), bytes.data, bytes.data + bytes.size);
}

}  // namespace

Result<Bytes> release_identity(const Evidence& evidence) {
  Bytes id;
  field(id, ByteView(backend_name(evidence.backend)));
  field(id, ByteView(evidence.config_digest.data(), evidence.config_digest.size()));
  field(id, evidence.measurement);
  if (evidence.backend == Backend::sim) return id;
  const ByteView quote = evidence.quote;
  auto platform = attest::detect_platform(quote);
  if (!platform) return fail(Errc::evidence, platform.error().message);
  field(id, ByteView(attest::platform_name(*platform)));
  const auto debug = [] { return fail(Errc::policy, "no key is released to a debug enclave (its host can read it)"); };
  if (*platform == attest::Platform::sev_snp) {
    auto r = attest::parse_snp_report(quote);
    if (!r) return fail(Errc::evidence, r.error().message);
    if (r->policy & attest::kSnpPolicyDebug) return debug();
    field(id, r->host_data);
    for (int i = 0; i < 8; ++i) id.push_back(uint8_t(r->policy >> (8 * i)));
    return id;
  }
  auto q = attest::parse_dcap_quote(quote);
  if (!q) return fail(Errc::evidence, q.error().message);
  if (*platform == attest::Platform::tdx) {
    if (q->td.td_attributes & attest::kTdDebugFlag) return debug();
    for (const ByteView rtmr : q->td.rtmr) field(id, rtmr);
    return id;
  }
  if (q->enclave.attributes.data[0] & attest::kSgxDebugFlag) return debug();
  field(id, q->enclave.mr_signer);
  id.push_back(uint8_t(q->enclave.isv_prod_id));
  id.push_back(uint8_t(q->enclave.isv_prod_id >> 8));
  return id;
}

KeyBroker::KeyBroker(crypto::SigningKeyPair identity, crypto::SecretKey master)
    : identity_(std::move(identity)), master_(std::move(master)) {}

Result<Bytes> KeyBroker::release(const Evidence& evidence, ByteView nonce, const crypto::KxPublicKey& enclave_key,
                                 const Policy& policy) const {
  auto verified = verify_evidence(evidence, policy, nonce, enclave_key);
  if (!verified) return crypto::unexpected(verified.error());
  if (evidence.measurement.size() > kMaxMeasurementBytes)
    return fail(Errc::evidence, "measurement longer than 48 bytes");
  auto identity = release_identity(evidence);
  if (!identity) return crypto::unexpected(identity.error());
  // key = BLAKE2b-256 keyed with the master secret over label || identity.
  crypto::SecretKey key(kKeyBytes);
  crypto_generichash_state state;
  crypto_generichash_init(&state, master_.data(), master_.size(), kKeyBytes);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(kDerivationLabel.data()), kDerivationLabel.size());
  crypto_generichash_update(&state, identity->data(), identity->size());
  crypto_generichash_final(&state, key.data(), key.size());
  sodium_memzero(&state, sizeof state);

  Bytes box(kBoxBytes);
  if (crypto_box_seal(box.data(), key.data(), key.size(), enclave_key.data()) != 0)
    return fail(Errc::evidence, "the enclave key is not a usable X25519 key");
  Bytes release = signed_part(enclave_key, evidence.config_digest, evidence.measurement, box);
  const crypto::Signature signature = crypto::sign(identity_, release);
  release.insert(release.end(), signature.begin(), signature.end());
  return release;
}

Result<crypto::SecretKey> open_released_key(ByteView release, const crypto::VerifyKey& broker,
                                            const crypto::KxKeyPair& own, ByteView measurement,
                                            const crypto::Digest32& config_digest) {
  if (measurement.size > kMaxMeasurementBytes) return fail(Errc::evidence, "measurement longer than 48 bytes");
  // The release this enclave expects, but for the box: everything else is fixed by who this enclave is.
  const Bytes expected_head = signed_part(own.public_key, config_digest, measurement, {});
  const std::size_t total = expected_head.size() + kBoxBytes + crypto_sign_BYTES;
  if (release.size != total)
    return fail(Errc::protocol, "a key release is " + std::to_string(total) + " bytes for this enclave, not " +
                                    std::to_string(release.size));
  const ByteView body(release.data, total - crypto_sign_BYTES);
  if (auto signed_by = crypto::verify_signature(broker, body, ByteView(release.data + body.size, crypto_sign_BYTES));
      !signed_by)
    return fail(Errc::evidence, "the key release is not signed by this enclave's key broker");
  if (!std::equal(expected_head.begin(), expected_head.end(), release.data))
    return fail(Errc::evidence, "the key release was made for another enclave key, measurement or config");
  crypto::SecretKey key(kKeyBytes);
  if (crypto_box_seal_open(key.data(), release.data + expected_head.size(), kBoxBytes, own.public_key.data(),
                           own.secret_key.data()) != 0)
    return fail(Errc::evidence, "the released key does not open with this enclave's key");
  return key;
}

}  // namespace sg::tee
