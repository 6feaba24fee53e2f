#include "tee/local_session.h"

namespace sg::tee {

Result<std::unique_ptr<LocalSession>> LocalSession::open(EnclaveProcess& enclave, const Policy& policy) {
  EnclaveDoor door{[&](ByteView nonce) { return enclave.get_evidence(nonce); },
                   [&](const crypto::KxPublicKey& key) { return enclave.open_session(key); }};
  auto session = attest_and_open(door, policy);
  if (!session) return crypto::unexpected(session.error());
  return std::unique_ptr<LocalSession>(new LocalSession(enclave, std::move(*session)));
}

Result<crypto::Envelope> LocalSession::call(const crypto::Envelope& request) {
  auto frames = crypto::seal_envelope(*session_.channel, request);
  if (!frames) return fail(Errc::protocol, frames.error().message);
  std::vector<Bytes> replies;
  for (const auto& frame : *frames) {
    if (tap_) tap_(frame);
    auto out = enclave_.exchange_frame(frame);
    if (!out) return crypto::unexpected(out.error());
    for (auto& r : *out) replies.push_back(std::move(r));
  }
  std::vector<ByteView> views;
  for (const auto& r : replies) {
    if (tap_) tap_(r);
    views.push_back(r);
  }
  auto reply = crypto::open_envelope(*session_.channel, views);
  if (!reply) return fail(Errc::protocol, "reply from the enclave rejected: " + reply.error().message);
  return std::move(*reply);
}

}  // namespace sg::tee
