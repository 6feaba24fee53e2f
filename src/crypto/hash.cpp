#include "crypto/hash.h"

#include "crypto/sodium_init.h"

namespace sg::crypto {

Sha256::Sha256() {
  init_sodium();
  crypto_hash_sha256_init(&state_);
}

void Sha256::update(ByteView bytes) { crypto_hash_sha256_update(&state_, bytes.data, bytes.size); }

Digest32 Sha256::finish() {
  Digest32 out{};
  crypto_hash_sha256_final(&state_, out.data());
  return out;
}

Digest64 blake2b_512(std::initializer_list<ByteView> parts) {
  init_sodium();
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 64);
  for (ByteView part : parts) crypto_generichash_update(&state, part.data, part.size);
  Digest64 out{};
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

}  // namespace sg::crypto
