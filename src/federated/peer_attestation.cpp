#include "federated/peer_attestation.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "federated/job.h"
#include "tee/evidence.h"
#include "tee/verifier.h"

namespace sg::federated {

using nlohmann::json;

namespace {

// What the evidence's report data binds besides the client's session key.
crypto::Bytes bound_nonce(const crypto::KxPublicKey& server_key, const crypto::VerifyKey& identity) {
  crypto::Bytes nonce(server_key.begin(), server_key.end());
  nonce.insert(nonce.end(), identity.begin(), identity.end());
  return nonce;
}

}  // namespace

tee::Result<std::string> make_peer_attestation(tee::AttestationBackend& backend, tee::ByteView own_config,
                                               const crypto::KxPublicKey& own_key,
                                               const crypto::KxPublicKey& server_key,
                                               const crypto::VerifyKey& identity) {
  auto evidence = tee::attest_bound(backend, tee::config_digest_of(own_config), own_key, bound_nonce(server_key, identity));
  if (!evidence) return crypto::unexpected(evidence.error());
  return json{{"evidence", crypto::to_hex(tee::serialize_evidence(*evidence))}, {"config", crypto::to_hex(own_config)},
              {"identity", crypto::to_hex(identity)}}
      .dump();
}

tee::Result<crypto::VerifyKey> check_peer_attestation(tee::ByteView attestation, const tee::Policy& client_policy,
                                   const tee::Bytes& own_measurement, const crypto::KxPublicKey& peer_key,
                                   const crypto::KxPublicKey& own_key) {
  const auto blob = json::parse(std::string_view(reinterpret_cast<const char*>(attestation.data), attestation.size),
                                nullptr, /*allow_exceptions=*/false);
  auto text = [&](const char* field) { return blob.is_object() && blob.contains(field) && blob[field].is_string(); };
  if (!text("evidence") || !text("config") || !text("identity"))
    return tee::fail(tee::Errc::evidence,
                     "no client attestation {\"evidence\", \"config\", \"identity\"} (mutual attestation is required)");
  const auto evidence_bytes = crypto::from_hex(blob["evidence"].get<std::string>());
  const auto config = crypto::from_hex(blob["config"].get<std::string>());
  const auto identity = crypto::from_hex_array<32>(blob["identity"].get<std::string>());
  if (!evidence_bytes || !config || !identity)
    return tee::fail(tee::Errc::evidence, "client attestation fields are not hex (identity: 32 bytes)");
  auto evidence = tee::parse_evidence(*evidence_bytes);
  if (!evidence) return crypto::unexpected(evidence.error());
  auto verified = tee::verify_peer_evidence(*evidence, *config, client_policy, bound_nonce(own_key, *identity), peer_key);
  if (!verified) return crypto::unexpected(verified.error());
  // The config is now known to be the one the client enclave runs: inspect its job.
  const auto config_json = json::parse(config->begin(), config->end(), nullptr, /*allow_exceptions=*/false);
  if (!config_json.is_object() || !config_json.contains("job"))
    return tee::fail(tee::Errc::policy, "the client enclave's config has no job");
  try {
    const auto job = ClientJob::parse(config_json["job"].dump(), "the client enclave's config");
    if (job.server_policy.empty()) return tee::fail(tee::Errc::policy, "the client enclave's job has no server_policy");
    const auto servers = tee::Policy::parse(job.server_policy, "the client enclave's server_policy").value();
    const auto& allowed = servers.allowed_measurements;
    if (std::find(allowed.begin(), allowed.end(), own_measurement) == allowed.end())
      return tee::fail(tee::Errc::policy, "the client enclave's server_policy does not admit this server enclave (" +
                                              crypto::to_hex(own_measurement).substr(0, 16) + "...)");
  } catch (const std::exception& e) {
    return tee::fail(tee::Errc::policy, e.what());
  }
  return *identity;
}

void to_json(nlohmann::json& j, const AdmittedClient& client) {
  j = {{"attestation", crypto::to_hex(crypto::ByteView(client.attestation))},
          {"session_key", crypto::to_hex(client.session_key)},
          {"server_key", crypto::to_hex(client.server_key)}};
}

tee::Result<crypto::VerifyKey> check_fellow_client(const nlohmann::json& relayed, const tee::Policy& peer_policy,
                                                   const tee::Bytes& server_measurement) {
  auto text = [&](const char* field) {
    return relayed.is_object() && relayed.contains(field) && relayed[field].is_string() ? relayed[field].get<std::string>()
                                                                                      : std::string();
  };
  const auto attestation = crypto::from_hex(text("attestation"));
  const auto session_key = crypto::from_hex_array<32>(text("session_key"));
  const auto server_key = crypto::from_hex_array<32>(text("server_key"));
  if (!attestation || attestation->empty() || !session_key || !server_key)
    return tee::fail(tee::Errc::protocol, "no relayed client attestation {\"attestation\", \"session_key\", \"server_key\"}");
  return check_peer_attestation(*attestation, peer_policy, server_measurement, *session_key, *server_key);
}

}  // namespace sg::federated
