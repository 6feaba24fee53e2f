// Pairwise masks for secure aggregation (Bonawitz et al., CCS 2017): two parties that know each other's X25519
// public keys derive the same 32-byte seed (X25519 shared point hashed with both public keys, BLAKE2b), and
// expand it for a given round with ChaCha20 (libsodium crypto_stream_chacha20_ietf, the round in the nonce)
// into 32-bit words. One party adds the words and the other subtracts them (mod 2^32), so in a sum over all
// parties every pair's mask cancels exactly. Never a non-cryptographic RNG.
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/error.h"
#include "crypto/key_exchange.h"
#include "crypto/secret_key.h"

namespace sg::crypto {

// The 32-byte secret `mine` shares with `peer` for the purpose `label` (the same on both sides, another for
// another label). Errc::bad_key for an unusable peer key.
[[nodiscard]] Result<SecretKey> pairwise_secret(const KxKeyPair& mine, const KxPublicKey& peer, ByteView label);

// The mask seed `mine` shares with `peer`: pairwise_secret under "sliceguard-pairwise-mask-v1".
[[nodiscard]] Result<SecretKey> pairwise_mask_seed(const KxKeyPair& mine, const KxPublicKey& peer);

// Adds (or subtracts) the round's mask words of `seed` to `words`, modulo 2^32.
void apply_pairwise_mask(std::vector<uint32_t>& words, const SecretKey& seed, uint64_t round, bool subtract);

}  // namespace sg::crypto
