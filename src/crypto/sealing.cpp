#include "crypto/sealing.h"

#include <sodium.h>

#include <stdexcept>
#include <string>

#include "crypto/sodium_init.h"

namespace sg::crypto {
namespace {

constexpr uint8_t kSealVersion = 2;   // 2: the purpose is associated data
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

Bytes associated_data(ByteView purpose) {
  Bytes ad{kSealVersion};
  ad.insert(ad.end(), purpose.data, purpose.data + purpose.size);
  return ad;
}

}  // namespace

SecretKey derive_sealing_key(const SecretKey& backend_secret, ByteView measurement) {
  init_sodium();
  if (backend_secret.size() < crypto_generichash_KEYBYTES_MIN || backend_secret.size() > crypto_generichash_KEYBYTES_MAX) {
    throw std::invalid_argument("sealing secret must be 16..64 bytes");
  }
  // Keyed BLAKE2b as the KDF: the measurement is the derivation input, the backend secret the key.
  SecretKey key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  crypto_generichash_state state;
  crypto_generichash_init(&state, backend_secret.data(), backend_secret.size(), key.size());
  const ByteView label("sliceguard-sealing-key-v1");
  crypto_generichash_update(&state, label.data, label.size);
  crypto_generichash_update(&state, measurement.data, measurement.size);
  crypto_generichash_final(&state, key.data(), key.size());
  sodium_memzero(&state, sizeof state);
  return key;
}

Bytes seal(const SecretKey& sealing_key, ByteView plaintext, ByteView purpose) {
  Bytes blob(1 + kNonceBytes + plaintext.size + kTagBytes);
  blob[0] = kSealVersion;
  uint8_t* nonce = blob.data() + 1;
  randombytes_buf(nonce, kNonceBytes);
  const Bytes ad = associated_data(purpose);
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, nullptr, plaintext.data, plaintext.size, ad.data(),
                                             ad.size(), nullptr, nonce, sealing_key.data());
  return blob;
}

Result<Bytes> unseal(const SecretKey& sealing_key, ByteView blob, ByteView purpose) {
  if (blob.size < 1 + kNonceBytes + kTagBytes) {
    return fail(Errc::truncated, "sealed blob of " + std::to_string(blob.size) + " bytes is truncated");
  }
  if (blob.data[0] != kSealVersion) {
    return fail(Errc::wrong_version, "sealed blob version " + std::to_string(blob.data[0]) + " is not supported");
  }
  const uint8_t* nonce = blob.data + 1;
  const uint8_t* ciphertext = nonce + kNonceBytes;
  const std::size_t ciphertext_size = blob.size - 1 - kNonceBytes;
  Bytes plaintext(ciphertext_size - kTagBytes);
  const Bytes ad = associated_data(purpose);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext.data(), nullptr, nullptr, ciphertext, ciphertext_size,
                                                 ad.data(), ad.size(), nonce, sealing_key.data()) != 0) {
    return fail(Errc::bad_tag, "sealed blob does not open: sealed by another enclave measurement or platform, for "
                               "another purpose, or tampered");
  }
  return plaintext;
}

}  // namespace sg::crypto
