// Shamir secret sharing over GF(2^8), byte by byte (the AES field, x^8 + x^4 + x^3 + x + 1): any `threshold`
// of the shares rebuild the secret, fewer tell nothing about it. Secure aggregation shares each participant's
// self-mask seed and mask key this way (federated/secure_aggregation.h), so the aggregator can remove the masks
// of a participant that dropped out without any single party holding them.
//
// Written here rather than taken from libgfshare: that library indexes log/exp tables with secret bytes (a cache
// side channel inside an enclave) and draws its coefficients from random() unless a global hook is replaced.
// Field arithmetic here is branch-free and table-free; coefficients come from libsodium's randombytes_buf.
// At most 255 shares (the nonzero field elements are the share coordinates).
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/error.h"
#include "crypto/secret_key.h"

namespace sg::crypto {

struct SecretShare {
  uint8_t x = 0;        // the share's coordinate, 1..255
  SecretKey y{0};       // the polynomials' values at x, one byte per secret byte
};

// `count` shares of `secret` (coordinates 1..count), any `threshold` of which rebuild it.
// Throws std::invalid_argument unless 1 <= threshold <= count <= 255.
[[nodiscard]] std::vector<SecretShare> split_secret(const SecretKey& secret, int count, int threshold);

// The secret whose polynomial passes through `shares` (Lagrange interpolation at 0). With fewer shares than the
// threshold the result is a wrong secret, not an error: callers check it against a commitment.
// Errc::malformed for no shares, a zero or repeated coordinate, or shares of different lengths.
[[nodiscard]] Result<SecretKey> combine_shares(const std::vector<SecretShare>& shares);

}  // namespace sg::crypto
