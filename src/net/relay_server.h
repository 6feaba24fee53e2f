// The server's untrusted host: a gRPC service that relays between clients and its enclave. It forwards
// evidence, public keys and sealed frames and never holds a key or a plaintext; the enclave serves one request
// at a time, so concurrent clients' frames are serialised here (docs/DESIGN.md §6).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "crypto/bytes.h"
#include "net/message_parts.h"

namespace sg::tee {
class EnclaveProcess;
}

namespace sg::net {

// Sees every frame the host relays: what a curious operator could record. Tests capture it and search it for
// plaintext; `sliceguard server --record-relay` writes it to a file.
enum class RelayDirection { to_enclave, to_client };
using RelayTap = std::function<void(RelayDirection direction, crypto::ByteView frame)>;

struct RelayOptions {
  std::string listen = "127.0.0.1:50051";   // host:port; port 0 picks a free one
  std::string plan_name;                     // reported by Status
  RelayTap tap;                              // optional
  // Optional TLS on the outer transport (PEM files). Protected data is sealed end to end either way; TLS adds
  // server authentication to the network and hides the frame metadata (sizes, session ids) from it.
  std::string tls_cert_path, tls_key_path;
  // Persisting the enclave's sealed state: after an exchange, when seal_every has passed since the last
  // write (zero: after every exchange), and at shutdown. Written atomically (temp file + rename). The host
  // stores the blob; only an enclave with the same measurement can open it.
  std::string seal_path;                     // empty: never
  std::chrono::milliseconds seal_every{30000};
  int max_message_bytes = kMaxGrpcMessageBytes;   // one gRPC message, both ways (message_parts.h)
};

class RelayServer {
 public:
  // Starts listening; throws std::runtime_error when the address cannot be bound.
  RelayServer(tee::EnclaveProcess& enclave, RelayOptions options);
  ~RelayServer();

  int port() const;
  void wait();       // blocks until shutdown()
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A PEM file's text; throws naming the file when it cannot be read or holds no PEM block.
std::string read_pem(const std::string& path);

}  // namespace sg::net
