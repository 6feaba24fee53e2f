// Ed25519 key files: a 32-byte seed, mode 0600, with its public key in hex beside it in `<path>.pub`. The sim
// platform key and a client's identity key are such files.
#pragma once

#include <string>
#include <vector>

#include "crypto/signing.h"
#include "tee/error.h"

namespace sg::tee {

// Loads the key at `path`, or creates it atomically if absent (two processes creating at once agree on one
// key). Refuses a file readable by group or others, or of another size. `what` names the key in errors
// ("sim platform key", "client identity key").
[[nodiscard]] Result<crypto::SigningKeyPair> load_or_create_signing_key(const std::string& path, const std::string& what);

// A public key given as 64 hex digits, or as the path of a file holding them (a `.pub` file).
[[nodiscard]] Result<crypto::VerifyKey> read_verify_key(const std::string& hex_or_path);
[[nodiscard]] Result<crypto::VerifyKey> parse_verify_key_hex(const std::string& hex, const std::string& source);

}  // namespace sg::tee
