// A client's connection to a server enclave through the server's untrusted host (docs/DESIGN.md §6 steps 1-2):
// fetch evidence over a fresh nonce, verify it against the client's policy — nothing is sent before that
// succeeds —, derive session keys with the key the evidence binds, then exchange envelopes sealed end to end.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "crypto/envelope.h"
#include "net/message_parts.h"
#include "tee/attested_session.h"
#include "tee/policy.h"
#include "tee/verifier.h"

namespace sg::net {

struct ConnectOptions {
  std::string server;                                   // host:port
  std::chrono::milliseconds connect_timeout{10000};
  std::string tls_ca_path;   // PEM roots for a TLS server; empty = plaintext outer transport
  int max_message_bytes = kMaxGrpcMessageBytes;   // one gRPC message, both ways (message_parts.h)
  // The most reply bytes one exchange may bring: a host that keeps sending `more` is cut off here.
  uint64_t max_reply_bytes = uint64_t(16) << 30;
};

// What this end spent and moved, for benchmarks and the client's summary.
struct ExchangeStats {
  double crypto_seconds = 0;   // sealing requests and opening replies, on this side
  uint64_t bytes_sent = 0, bytes_received = 0;   // frame bytes
};

// What a server reports about itself (no secrets, no attestation: for monitoring).
struct ServerStatus {
  std::string backend, plan;
  uint64_t requests_served = 0;
  uint32_t sessions = 0;
  int enclave_pid = 0;
};
// Throws std::runtime_error naming the server when it is unreachable or its enclave is down.
ServerStatus fetch_status(const ConnectOptions& options);

// The raw calls of a server's host over one gRPC channel: evidence for a nonce, open a session with a key,
// exchange one envelope's sealed frames. RemoteEnclave builds a client's own session on it; a federated client
// host relays its enclave's session with it (federated/federation.h), never holding that session's keys.
class ServerConnection {
 public:
  // Throws std::runtime_error when the server is unreachable within the connect timeout.
  static std::unique_ptr<ServerConnection> open(const ConnectOptions& options);
  ~ServerConnection();

  // GetEvidence and OpenSession, each with the connect timeout as its deadline; failures name the server.
  tee::EnclaveDoor door();
  // OpenSession for a peer enclave that attests itself to the server enclave (a federated client enclave).
  crypto::SessionId open_session(const crypto::KxPublicKey& key, crypto::ByteView attestation);
  // Sends one envelope's frames, returns the reply's frames. Throws when the stream ended (server or enclave gone).
  std::vector<crypto::Bytes> exchange(const std::vector<crypto::Bytes>& frames);
  const ConnectOptions& options() const;

 private:
  struct Impl;
  explicit ServerConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class RemoteEnclave {
 public:
  // Connects, attests and opens a session as the enrolled client `identity` (a split enclave admits no one
  // else). Throws std::runtime_error: unreachable server, evidence that fails the policy ("server at ADDR:
  // evidence refused: ..."), a refused session.
  static std::unique_ptr<RemoteEnclave> connect(const ConnectOptions& options, const tee::Policy& policy,
                                                const crypto::SigningKeyPair* identity);
  ~RemoteEnclave();   // closes the session in the enclave (best effort: a server already gone is not an error)

  const tee::VerifiedEnclave& verified() const;
  // Sends one envelope and returns the enclave's reply envelope. Throws on transport failure (the server or
  // enclave went away) or a frame that does not authenticate.
  crypto::Envelope call(const crypto::Envelope& request);
  const ExchangeStats& stats() const;

 private:
  struct Impl;
  explicit RemoteEnclave(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::net
