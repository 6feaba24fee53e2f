#include "federated/server_session.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "crypto/key_exchange.h"
#include "crypto/secret_key.h"
#include "federated/peer_attestation.h"
#include "tee/evidence.h"
#include "tee/policy.h"
#include "tee/verifier.h"

namespace sg::federated {

std::vector<crypto::Tensor> frame_tensors(std::vector<crypto::Bytes> frames) {
  std::vector<crypto::Tensor> out;
  for (auto& frame : frames) {
    const auto size = int64_t(frame.size());
    out.push_back({{"frame." + std::to_string(out.size()), "U8", {size}}, std::move(frame)});
  }
  return out;
}

std::vector<crypto::ByteView> frames_of(const crypto::Envelope& envelope) {
  std::vector<crypto::ByteView> frames;
  for (const auto& t : envelope.tensors) frames.emplace_back(t.data.data(), t.data.size());
  return frames;
}

std::string ServerSession::hello() {
  if (server_policy_.empty()) throw std::invalid_argument("this client enclave's job has no server_policy");
  auto nonce = crypto::SecretKey::random(tee::kEvidenceNonceBytes);
  nonce_ = crypto::Bytes(nonce.data(), nonce.data() + nonce.size());
  return crypto::to_hex(nonce_);
}

ops::ServerConnect::Reply ServerSession::connect(const ops::ServerConnect::Request& request,
                                                 const crypto::VerifyKey& identity) {
  if (nonce_.empty()) throw std::invalid_argument("server_connect before server_hello");
  const auto nonce = std::exchange(nonce_, {});   // one evidence per nonce
  auto evidence_bytes = crypto::from_hex(request.evidence);
  const auto server_key = crypto::from_hex_array<32>(request.enclave_key);
  if (!evidence_bytes || !server_key)
    throw std::invalid_argument("server_connect needs hex 'evidence' and a 32-byte hex 'enclave_key'");
  const auto policy = tee::Policy::parse(server_policy_, "the job's server_policy").value();
  const auto evidence = tee::parse_evidence(*evidence_bytes).value();
  auto verified = tee::verify_evidence(evidence, policy, nonce, *server_key);
  if (!verified) throw std::invalid_argument("server evidence refused: " + verified.error().message);
  auto mine = crypto::KxKeyPair::generate();
  auto keys = crypto::derive_session_keys(crypto::Role::client, mine, *server_key).value();
  channel_ = std::make_unique<crypto::AeadChannel>(std::move(keys));
  server_measurement_ = verified->measurement;
  spdlog::info("federated client: server enclave {} attested", crypto::to_hex(verified->measurement).substr(0, 16));
  // Our half of the mutual attestation: evidence over our session key and the server enclave's key.
  auto attestation = make_peer_attestation(attestation_, own_config_, mine.public_key, *server_key, identity).value();
  return {crypto::to_hex(mine.public_key), attestation};
}

crypto::AeadChannel& ServerSession::channel(const char* op) {
  if (!channel_) throw std::invalid_argument(std::string(op) + " before server_connect");
  return *channel_;
}

std::vector<crypto::Tensor> ServerSession::seal(const crypto::Envelope& request) {
  return frame_tensors(crypto::seal_envelope(channel(ops::ToServer::kName), request).value());
}

crypto::Envelope ServerSession::open(const crypto::Envelope& frames) {
  auto reply = crypto::open_envelope(channel(ops::FromServer::kName), frames_of(frames));
  if (!reply) throw std::invalid_argument("server reply rejected: " + reply.error().message);
  return std::move(*reply);
}

}  // namespace sg::federated
