#include "tee/attested_session.h"

#include "crypto/secret_key.h"
#include "tee/client_identity.h"
#include "tee/evidence.h"

namespace sg::tee {

Result<AttestedSession> attest_and_open(const EnclaveDoor& door, const Policy& policy,
                                        const crypto::SigningKeyPair* identity) {
  const auto nonce = crypto::SecretKey::random(kEvidenceNonceBytes);
  const ByteView nonce_view(nonce.data(), nonce.size());
  auto reply = door.get_evidence(nonce_view);
  if (!reply) return crypto::unexpected(reply.error());
  auto evidence = parse_evidence(reply->evidence);
  if (!evidence) return crypto::unexpected(evidence.error());
  auto verified = verify_evidence(*evidence, policy, nonce_view, reply->enclave_key);
  if (!verified) {
    return fail(verified.error().code, "evidence refused by policy " + policy.source + ": " + verified.error().message);
  }
  auto mine = crypto::KxKeyPair::generate();
  auto keys = crypto::derive_session_keys(crypto::Role::client, mine, reply->enclave_key);
  if (!keys) return fail(Errc::evidence, "enclave key unusable: " + keys.error().message);
  const Bytes proof = identity ? prove_identity(*identity, reply->enclave_key, mine.public_key) : Bytes();
  auto opened = door.open_session(mine.public_key, proof);
  if (!opened) return crypto::unexpected(opened.error());
  if (*opened != keys->id) return fail(Errc::protocol, "the enclave opened a different session than the handshake derives");
  return AttestedSession{*verified, std::make_unique<crypto::AeadChannel>(std::move(*keys))};
}

}  // namespace sg::tee
