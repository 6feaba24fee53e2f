// Federated mutual attestation (docs/DESIGN.md §7 step 1), the half the server enclave checks. A client enclave that
// opens a session with the server enclave shows
//
//   {"evidence": hex (tee/evidence.h), "config": hex (the client enclave's config file, as measured),
//    "identity": hex (the client enclave's long-term Ed25519 key, kept in its sealed state)}
//
// whose evidence binds the client enclave's session key, the server enclave's own key (fresh per server
// enclave run) and the identity key (report data nonce = server key || identity), so the identity is the
// enclave's own: the aggregator counts submissions by it, and a client that reconnects — after its own restart
// or the server's — is the same client. The server enclave admits it when the evidence passes its client policy as a peer that runs
// allowed code with exactly that config (tee::verify_peer_evidence), and that config's job is a
// federated-client whose server_policy admits this server enclave's measurement: the adapter a client sends
// can only have come from an enclave that would send it nowhere else but to enclaves its owner allowed.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "crypto/key_exchange.h"
#include "crypto/signing.h"
#include "tee/attestation.h"
#include "tee/policy.h"

namespace sg::federated {

[[nodiscard]] tee::Result<std::string> make_peer_attestation(tee::AttestationBackend& backend, tee::ByteView own_config,
                                                             const crypto::KxPublicKey& own_key,
                                                             const crypto::KxPublicKey& server_key,
                                                             const crypto::VerifyKey& identity);

// The client enclave's identity key once everything checks; Errc::evidence / policy / unsupported / protocol
// naming what failed.
[[nodiscard]] tee::Result<crypto::VerifyKey> check_peer_attestation(tee::ByteView attestation, const tee::Policy& client_policy,
                                                 const tee::Bytes& own_measurement,
                                                 const crypto::KxPublicKey& peer_key,
                                                 const crypto::KxPublicKey& own_key);

// A client enclave's attestation as the server enclave admitted it: relayed to the other participants of a
// secure-aggregation round, so each can check that the identities it shares and masks among are client enclaves
// too (not identities an aggregator made up), with the same check the server made.
struct AdmittedClient {
  std::string attestation;           // make_peer_attestation's blob
  crypto::KxPublicKey session_key{};  // the client enclave's key of the session it was bound to
  crypto::KxPublicKey server_key{};   // the server enclave's key of that session
};
void to_json(nlohmann::json& j, const AdmittedClient& client);

// The identity of a fellow client enclave whose relayed attestation (to_json above) passes `peer_policy`, runs a
// federated-client job whose server_policy admits `server_measurement` (the server enclave this enclave
// attested), and binds its identity; Errc::evidence / policy / protocol naming what failed.
[[nodiscard]] tee::Result<crypto::VerifyKey> check_fellow_client(const nlohmann::json& relayed,
                                                                 const tee::Policy& peer_policy,
                                                                 const tee::Bytes& server_measurement);

}  // namespace sg::federated
