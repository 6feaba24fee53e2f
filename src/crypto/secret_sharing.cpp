#include "crypto/secret_sharing.h"

#include <sodium.h>

#include <stdexcept>
#include <string>

#include "crypto/sodium_init.h"

namespace sg::crypto {
namespace {

// Multiplication in GF(2^8) without branches or tables on the operands.
uint8_t gf_mul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  for (int bit = 0; bit < 8; ++bit) {
    product ^= uint8_t(-(b & 1)) & a;
    const uint8_t carry = uint8_t(-(a >> 7));
    a = uint8_t((a << 1) ^ (carry & 0x1b));
    b >>= 1;
  }
  return product;
}

// a^254 = a^-1 for a != 0 (the multiplicative group has order 255).
uint8_t gf_inverse(uint8_t a) {
  uint8_t result = 1;
  uint8_t power = a;
  for (int e = 254; e > 0; e >>= 1) {
    if (e & 1) result = gf_mul(result, power);   // branches on the public exponent only
    power = gf_mul(power, power);
  }
  return result;
}

}  // namespace

std::vector<SecretShare> split_secret(const SecretKey& secret, int count, int threshold) {
  if (threshold < 1 || threshold > count || count > 255)
    throw std::invalid_argument("secret sharing: need 1 <= threshold (" + std::to_string(threshold) + ") <= shares (" +
                                std::to_string(count) + ") <= 255");
  init_sodium();
  // coefficients[k * size + j]: the x^k coefficient of byte j's polynomial; the constant term is the secret.
  const std::size_t size = secret.size();
  SecretKey coefficients(size * std::size_t(threshold));
  std::copy(secret.data(), secret.data() + size, coefficients.data());
  randombytes_buf(coefficients.data() + size, size * std::size_t(threshold - 1));
  std::vector<SecretShare> shares;
  for (int i = 1; i <= count; ++i) {
    SecretShare share{uint8_t(i), SecretKey(size)};
    for (std::size_t j = 0; j < size; ++j) {
      uint8_t value = 0;   // Horner, from the highest coefficient down
      for (int k = threshold - 1; k >= 0; --k) value = uint8_t(gf_mul(value, share.x) ^ coefficients.data()[std::size_t(k) * size + j]);
      share.y.data()[j] = value;
    }
    shares.push_back(std::move(share));
  }
  return shares;
}

Result<SecretKey> combine_shares(const std::vector<SecretShare>& shares) {
  if (shares.empty()) return fail(Errc::malformed, "secret sharing: no shares to combine");
  const std::size_t size = shares.front().y.size();
  for (std::size_t i = 0; i < shares.size(); ++i) {
    if (shares[i].x == 0) return fail(Errc::malformed, "secret sharing: a share at coordinate 0");
    if (shares[i].y.size() != size) return fail(Errc::malformed, "secret sharing: shares of different lengths");
    for (std::size_t m = 0; m < i; ++m)
      if (shares[m].x == shares[i].x)
        return fail(Errc::malformed, "secret sharing: two shares at coordinate " + std::to_string(shares[i].x));
  }
  SecretKey secret(size);
  for (std::size_t i = 0; i < shares.size(); ++i) {
    // Lagrange basis at 0: prod over m != i of x_m / (x_m - x_i); subtraction is xor in GF(2^8).
    uint8_t numerator = 1, denominator = 1;
    for (std::size_t m = 0; m < shares.size(); ++m) {
      if (m == i) continue;
      numerator = gf_mul(numerator, shares[m].x);
      denominator = gf_mul(denominator, uint8_t(shares[m].x ^ shares[i].x));
    }
    const uint8_t basis = gf_mul(numerator, gf_inverse(denominator));
    for (std::size_t j = 0; j < size; ++j) secret.data()[j] ^= gf_mul(shares[i].y.data()[j], basis);
  }
  return secret;
}

}  // namespace sg::crypto
