#include "tee/client_identity.h"

#include <algorithm>

namespace sg::tee {
namespace {

Bytes transcript(const crypto::KxPublicKey& enclave_key, const crypto::KxPublicKey& client_key) {
  Bytes out;
  crypto::ByteWriter w(out);
  w.raw(ByteView("sliceguard-client-identity-v1"));
  w.raw(ByteView(enclave_key.data(), enclave_key.size()));
  w.raw(ByteView(client_key.data(), client_key.size()));
  return out;
}

}  // namespace

Bytes prove_identity(const crypto::SigningKeyPair& identity, const crypto::KxPublicKey& enclave_key,
                     const crypto::KxPublicKey& client_key) {
  const crypto::Signature signature = crypto::sign(identity, transcript(enclave_key, client_key));
  Bytes proof(identity.public_key.begin(), identity.public_key.end());
  proof.insert(proof.end(), signature.begin(), signature.end());
  return proof;
}

Result<crypto::VerifyKey> check_identity_proof(ByteView proof, const crypto::KxPublicKey& enclave_key,
                                               const crypto::KxPublicKey& client_key,
                                               const std::vector<crypto::VerifyKey>& enrolled) {
  if (proof.size != kIdentityProofBytes)
    return fail(Errc::rejected, "an enrolled client's identity proof (" + std::to_string(kIdentityProofBytes) +
                                    " bytes: Ed25519 key and signature) is required, got " +
                                    std::to_string(proof.size) + " bytes");
  crypto::VerifyKey key{};
  std::copy(proof.data, proof.data + key.size(), key.begin());
  if (std::find(enrolled.begin(), enrolled.end(), key) == enrolled.end())
    return fail(Errc::rejected, "client key " + crypto::to_hex(key) + " is not enrolled in this job");
  if (!crypto::verify_signature(key, transcript(enclave_key, client_key), ByteView(proof.data + key.size(), 64)))
    return fail(Errc::rejected, "the identity proof of client " + crypto::to_hex(key).substr(0, 16) +
                                    " does not sign this handshake");
  return key;
}

}  // namespace sg::tee
