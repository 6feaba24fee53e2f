#include "crypto/signing.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace sg::crypto {

SigningKeyPair SigningKeyPair::generate() {
  init_sodium();
  SigningKeyPair pair;
  crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

SigningKeyPair SigningKeyPair::from_seed(const SecretKey& seed) {
  init_sodium();
  if (seed.size() != kSigningSeedBytes) throw std::invalid_argument("Ed25519 seed must be 32 bytes");
  SigningKeyPair pair;
  crypto_sign_seed_keypair(pair.public_key.data(), pair.secret_key.data(), seed.data());
  return pair;
}

SecretKey SigningKeyPair::seed() const {
  SecretKey seed(kSigningSeedBytes);
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_key.data());
  return seed;
}

Signature sign(const SigningKeyPair& signer, ByteView message) {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data, message.size, signer.secret_key.data());
  return sig;
}

Status verify_signature(const VerifyKey& key, ByteView message, ByteView signature) {
  init_sodium();
  if (signature.size != crypto_sign_BYTES ||
      crypto_sign_verify_detached(signature.data, message.data, message.size, key.data()) != 0) {
    return fail(Errc::bad_signature, "Ed25519 signature does not verify");
  }
  return {};
}

}  // namespace sg::crypto
