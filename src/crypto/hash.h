// Hashes used for measurements and attestation binding: SHA-256 (measurements, as SGX/TDX tooling uses) and
// BLAKE2b-512 (report data: exactly the 64 bytes a TEE report carries).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include <sodium.h>

#include "crypto/bytes.h"

namespace sg::crypto {

using Digest32 = std::array<uint8_t, 32>;
using Digest64 = std::array<uint8_t, 64>;

class Sha256 {
 public:
  Sha256();
  void update(ByteView bytes);
  [[nodiscard]] Digest32 finish();

 private:
  crypto_hash_sha256_state state_;
};

// BLAKE2b-512 over the concatenation of `parts`.
[[nodiscard]] Digest64 blake2b_512(std::initializer_list<ByteView> parts);

}  // namespace sg::crypto
