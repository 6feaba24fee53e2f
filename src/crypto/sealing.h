// Sealing: state encrypted so that only the same enclave (same measurement) on the same platform can open it.
// The key is derived from the backend's sealing secret (SGX's MRENCLAVE-bound key under Gramine, a key derived
// from the platform key under sim) and the enclave measurement, so a different enclave build cannot unseal.
//
// Blob format: u8 version (1) || 24-byte random nonce || ciphertext || 16-byte tag (XChaCha20-Poly1305; a
// random 192-bit nonce is safe to pick per blob). The version byte is authenticated as associated data.
#pragma once

#include "crypto/error.h"
#include "crypto/secret_key.h"

namespace sg::crypto {

// `backend_secret` must be 16..64 bytes.
[[nodiscard]] SecretKey derive_sealing_key(const SecretKey& backend_secret, ByteView measurement);

[[nodiscard]] Bytes seal(const SecretKey& sealing_key, ByteView plaintext);
// truncated / wrong_version / bad_tag (another measurement, another platform, or tampered).
[[nodiscard]] Result<Bytes> unseal(const SecretKey& sealing_key, ByteView blob);

}  // namespace sg::crypto
