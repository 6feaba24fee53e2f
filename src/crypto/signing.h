// Ed25519 signatures (libsodium crypto_sign, detached).
#pragma once

#include <array>
#include <cstdint>

#include "crypto/error.h"
#include "crypto/secret_key.h"

namespace sg::crypto {

using VerifyKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
inline constexpr std::size_t kSigningSeedBytes = 32;

struct SigningKeyPair {
  VerifyKey public_key{};
  SecretKey secret_key{64};   // libsodium's expanded form: seed || public key

  [[nodiscard]] static SigningKeyPair generate();
  // Deterministic from a 32-byte seed (the form a key file stores).
  [[nodiscard]] static SigningKeyPair from_seed(const SecretKey& seed);
  // The 32-byte seed this pair was made from.
  [[nodiscard]] SecretKey seed() const;
};

[[nodiscard]] Signature sign(const SigningKeyPair& signer, ByteView message);
// Errc::bad_signature when `signature` is not a valid signature of `message` under `key`.
[[nodiscard]] Status verify_signature(const VerifyKey& key, ByteView message, ByteView signature);

}  // namespace sg::crypto
