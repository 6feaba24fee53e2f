// A client enclave's own AEAD session with the server enclave: it verifies the server's evidence against its
// job's server policy, shows its own (peer_attestation.h), and seals every request itself; its host relays only
// the frames, carried as envelope tensors "frame.0", "frame.1", ... (frame_tensors below).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crypto/aead_channel.h"
#include "crypto/envelope.h"
#include "crypto/signing.h"
#include "federated/client_protocol.h"
#include "tee/attestation.h"

namespace sg::federated {

// Sealed frames as envelope tensors and back (what a host relays between the two enclaves).
std::vector<crypto::Tensor> frame_tensors(std::vector<crypto::Bytes> frames);
std::vector<crypto::ByteView> frames_of(const crypto::Envelope& envelope);

class ServerSession {
 public:
  // `server_policy`: the job's policy for the server enclave (JSON text; empty: none, and hello refuses).
  ServerSession(std::string server_policy, tee::AttestationBackend& attestation, tee::Bytes own_config)
      : server_policy_(std::move(server_policy)), attestation_(attestation), own_config_(std::move(own_config)) {}

  // A fresh nonce (hex) for the server enclave's evidence; connect consumes it.
  std::string hello();
  // Verifies the server's evidence over the nonce and its key, opens the session; the reply carries this
  // enclave's session key and evidence bound to `identity`.
  ops::ServerConnect::Reply connect(const ops::ServerConnect::Request& request, const crypto::VerifyKey& identity);

  // The attested server enclave's measurement (empty before connect).
  const tee::Bytes& server_measurement() const { return server_measurement_; }

  // Throws std::invalid_argument naming `op` before connect.
  void check_connected(const char* op) { channel(op); }
  std::vector<crypto::Tensor> seal(const crypto::Envelope& request);
  // Throws std::invalid_argument when a frame does not authenticate.
  crypto::Envelope open(const crypto::Envelope& frames);

 private:
  crypto::AeadChannel& channel(const char* op);

  std::string server_policy_;
  tee::AttestationBackend& attestation_;
  tee::Bytes own_config_;   // this enclave's config file, as measured: shown to the server enclave
  crypto::Bytes nonce_;     // sent with hello, consumed by connect
  std::unique_ptr<crypto::AeadChannel> channel_;
  tee::Bytes server_measurement_;
};

}  // namespace sg::federated
