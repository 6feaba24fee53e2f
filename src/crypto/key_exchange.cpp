#include "crypto/key_exchange.h"

#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/sodium_init.h"

namespace sg::crypto {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "SG-OTP01";

// crypto_kx already hashes the shared secret with both public keys; the KDF step separates the channel's
// keys from any other use of the same handshake and binds each key to its direction.
SecretKey channel_key(const SecretKey& kx_key, Direction direction) {
  SecretKey key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  crypto_kdf_derive_from_key(key.data(), key.size(), uint64_t(direction), kKdfContext, kx_key.data());
  return key;
}

}  // namespace

KxKeyPair KxKeyPair::generate() {
  init_sodium();
  KxKeyPair pair;
  crypto_kx_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

KxKeyPair KxKeyPair::from_secret(SecretKey secret) {
  init_sodium();
  KxKeyPair pair;
  pair.secret_key = std::move(secret);
  crypto_scalarmult_base(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

Result<SessionKeys> derive_session_keys(Role role, const KxKeyPair& mine, const KxPublicKey& peer) {
  init_sodium();
  SecretKey kx_rx(crypto_kx_SESSIONKEYBYTES), kx_tx(crypto_kx_SESSIONKEYBYTES);
  const bool client = role == Role::client;
  const int rc = client ? crypto_kx_client_session_keys(kx_rx.data(), kx_tx.data(), mine.public_key.data(),
                                                        mine.secret_key.data(), peer.data())
                        : crypto_kx_server_session_keys(kx_rx.data(), kx_tx.data(), mine.public_key.data(),
                                                        mine.secret_key.data(), peer.data());
  if (rc != 0) return fail(Errc::bad_key, "peer X25519 public key is not usable (low-order point)");

  const KxPublicKey& client_pk = client ? mine.public_key : peer;
  const KxPublicKey& server_pk = client ? peer : mine.public_key;
  const Digest64 id_hash = blake2b_512({ByteView("sliceguard-session-id-v1"), client_pk, server_pk});

  SessionKeys keys;
  std::copy(id_hash.begin(), id_hash.begin() + keys.id.size(), keys.id.begin());
  keys.tx_direction = client ? Direction::client_to_server : Direction::server_to_client;
  const Direction rx_direction = client ? Direction::server_to_client : Direction::client_to_server;
  keys.tx = channel_key(kx_tx, keys.tx_direction);
  keys.rx = channel_key(kx_rx, rx_direction);
  return keys;
}

}  // namespace sg::crypto
