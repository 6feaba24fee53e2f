// Sealing: state encrypted so that only the same enclave (same measurement) on the same platform can open it.
// The key is derived from the backend's sealing secret (SGX's MRENCLAVE-bound key under Gramine, a key derived
// from the platform key under sim) and the enclave measurement, so a different enclave build cannot unseal.
//
// Blob format: u8 version (2) || 24-byte random nonce || ciphertext || 16-byte tag (XChaCha20-Poly1305; a
// random 192-bit nonce is safe to pick per blob). The version byte and the caller's `purpose` (what the blob is
// for, e.g. "sliceguard-enclave-state-v1") are authenticated as associated data: a blob sealed for one purpose
// does not open as another.
#pragma once

#include "crypto/error.h"
#include "crypto/secret_key.h"

namespace sg::crypto {

// `backend_secret` must be 16..64 bytes.
[[nodiscard]] SecretKey derive_sealing_key(const SecretKey& backend_secret, ByteView measurement);

[[nodiscard]] Bytes seal(const SecretKey& sealing_key, ByteView plaintext, ByteView purpose);
// truncated / wrong_version / bad_tag (another measurement, another platform, another purpose, or tampered).
[[nodiscard]] Result<Bytes> unseal(const SecretKey& sealing_key, ByteView blob, ByteView purpose);

}  // namespace sg::crypto
