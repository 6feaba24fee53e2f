// ECDSA verification of the signatures that hardware evidence carries as raw (r, s) pairs rather than DER:
// Intel's quote, QE report and collateral signatures (P-256, big-endian r || s), AMD's report signature (P-384,
// little-endian r and s of 72 bytes each). The arithmetic is OpenSSL's; only the encoding is converted here.
#pragma once

#include "attest/openssl_objects.h"

namespace sg::attest {

enum class Endian { big, little };

// A P-256 public key from its raw uncompressed coordinates (x || y, 64 bytes), as an Intel quote carries it.
[[nodiscard]] Result<EvpPkeyPtr> p256_public_key(ByteView xy, const std::string& what);

// `r` and `s` are the signature halves in `endian` order; `digest` is EVP_sha256() or EVP_sha384().
struct RawSignature {
  ByteView r;
  ByteView s;
  Endian endian = Endian::big;
};
[[nodiscard]] bool ecdsa_verifies(EVP_PKEY* key, const EVP_MD* digest, ByteView message, const RawSignature& sig);

// Big-endian r || s of equal halves (Intel's encoding).
[[nodiscard]] bool ecdsa_rs_verifies(EVP_PKEY* key, const EVP_MD* digest, ByteView message, ByteView rs);

}  // namespace sg::attest
