#include "crypto/sodium_init.h"

#include <sodium.h>

#include <stdexcept>

namespace sg::crypto {

void init_sodium() {
  // sodium_init is itself thread-safe; the static only saves the repeated call.
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium failed to initialise (no usable random source?)");
}

}  // namespace sg::crypto
