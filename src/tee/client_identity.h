// Enrolled clients: a client proves who it is when it opens a session with an enclave whose job lists the
// clients it serves. The proof is the client's Ed25519 public key and its signature over the handshake
// transcript,
//
//   "sliceguard-client-identity-v1" || enclave X25519 key || client X25519 key
//
// The enclave key is the one the client's verified evidence binds (fresh per enclave process), and the client
// key determines the session's keys, so a proof opens exactly one session of one enclave run: replayed by
// someone else it opens a session whose keys they do not have. An operator that wants a session of its own
// needs an enrolled client's identity key.
#pragma once

#include <vector>

#include "crypto/key_exchange.h"
#include "crypto/signing.h"
#include "tee/error.h"
#include "tee/messages.h"

namespace sg::tee {

inline constexpr std::size_t kIdentityProofBytes = 32 + 64;   // public key || signature

[[nodiscard]] Bytes prove_identity(const crypto::SigningKeyPair& identity, const crypto::KxPublicKey& enclave_key,
                                   const crypto::KxPublicKey& client_key);

// The enrolled key the proof is from. Errc::rejected when the proof is malformed, the key is not enrolled, or the
// signature does not verify over this handshake.
[[nodiscard]] Result<crypto::VerifyKey> check_identity_proof(ByteView proof, const crypto::KxPublicKey& enclave_key,
                                                             const crypto::KxPublicKey& client_key,
                                                             const std::vector<crypto::VerifyKey>& enrolled);

}  // namespace sg::tee
