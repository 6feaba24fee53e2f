#include "crypto/pairwise_mask.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "crypto/hash.h"
#include "crypto/sodium_init.h"

namespace sg::crypto {

Result<SecretKey> pairwise_secret(const KxKeyPair& mine, const KxPublicKey& peer, ByteView label) {
  init_sodium();
  SecretKey shared(crypto_scalarmult_BYTES);
  if (crypto_scalarmult(shared.data(), mine.secret_key.data(), peer.data()) != 0)
    return fail(Errc::bad_key, "pairwise mask: the peer's key is not a usable X25519 public key");
  // Both public keys, in a fixed order, so the two sides hash the same bytes.
  const auto& [low, high] = std::minmax(mine.public_key, peer);
  const Digest64 digest = blake2b_512({label, shared.view(),
                                       ByteView(low.data(), low.size()), ByteView(high.data(), high.size())});
  SecretKey seed(crypto_stream_chacha20_ietf_KEYBYTES);
  std::memcpy(seed.data(), digest.data(), seed.size());
  return seed;
}

Result<SecretKey> pairwise_mask_seed(const KxKeyPair& mine, const KxPublicKey& peer) {
  return pairwise_secret(mine, peer, ByteView("sliceguard-pairwise-mask-v1"));
}

void apply_pairwise_mask(std::vector<uint32_t>& words, const SecretKey& seed, uint64_t round, bool subtract) {
  if (words.empty()) return;  // crypto_stream_chacha20_ietf's output pointer must not be null
  init_sodium();
  std::vector<uint32_t> mask(words.size());
  uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  for (int i = 0; i < 8; ++i) nonce[i] = uint8_t(round >> (8 * i));
  crypto_stream_chacha20_ietf(reinterpret_cast<uint8_t*>(mask.data()), mask.size() * sizeof(uint32_t), nonce,
                              seed.data());
  for (std::size_t i = 0; i < words.size(); ++i) words[i] = subtract ? words[i] - mask[i] : words[i] + mask[i];
}

}  // namespace sg::crypto
