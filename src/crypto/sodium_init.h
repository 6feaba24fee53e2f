// libsodium must be initialised once before use; every sg_crypto entry point that needs it calls this.
#pragma once

namespace sg::crypto {

// Thread-safe and idempotent. Throws std::runtime_error if libsodium cannot initialise (no entropy source).
void init_sodium();

}  // namespace sg::crypto
