// Session keys from an X25519 handshake (libsodium crypto_kx), stretched by crypto_kdf into one key per
// direction. Both peers derive the same session id from the two public keys, so a frame names its session
// without any extra round trip.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/error.h"
#include "crypto/secret_key.h"

namespace sg::crypto {

using KxPublicKey = std::array<uint8_t, 32>;
using SessionId = std::array<uint8_t, 16>;

// The two traffic directions; each has its own key, and the direction also enters the frame nonce.
enum class Direction : uint8_t { client_to_server = 1, server_to_client = 2 };

// The client initiates (a data owner, or a peer enclave); the server is the attested enclave side.
enum class Role { client, server };

struct KxKeyPair {
  KxPublicKey public_key{};
  SecretKey secret_key{32};
  [[nodiscard]] static KxKeyPair generate();
  // The pair of a 32-byte secret key (its public key recomputed), e.g. one rebuilt from secret shares.
  [[nodiscard]] static KxKeyPair from_secret(SecretKey secret);
};

struct SessionKeys {
  SessionId id{};
  SecretKey tx{32};   // encrypts what this side sends
  SecretKey rx{32};   // decrypts what the peer sends
  Direction tx_direction = Direction::client_to_server;
};

// Fails with Errc::bad_key when `peer` is not a usable X25519 public key.
[[nodiscard]] Result<SessionKeys> derive_session_keys(Role role, const KxKeyPair& mine, const KxPublicKey& peer);

}  // namespace sg::crypto
