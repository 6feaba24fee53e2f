#include "tee/host_local_session.h"

namespace sg::tee {

Result<std::unique_ptr<LocalSession>> LocalSession::open(EnclaveProcess& enclave, const Policy& policy) {
  EnclaveDoor door{[&](ByteView nonce) { return enclave.get_evidence(nonce); },
                   [&](const crypto::KxPublicKey& key, ByteView proof) { return enclave.open_session(key, proof); }};
  auto session = attest_and_open(door, policy);
  if (!session) return crypto::unexpected(session.error());
  return std::unique_ptr<LocalSession>(new LocalSession(enclave, std::move(*session)));
}

Result<crypto::Envelope> LocalSession::call(const crypto::Envelope& request) {
  // Each payload is written and sealed straight into the frame list that carries it, on several cores; the
  // enclave opens each list as one batch.
  crypto::AeadChannel& channel = *session_.channel;
  auto plan = crypto::EnvelopeFrames::plan(request, channel.max_payload());
  if (!plan) return fail(Errc::protocol, plan.error().message);
  std::vector<std::size_t> sizes;
  for (const auto& spec : plan->specs()) sizes.push_back(crypto::frame_size(spec.length));
  auto layout = layout_frame_lists(sizes, enclave_.max_frame_list_bytes());
  if (auto sealed = channel.seal_frames(plan->specs(), layout.slots, plan->writer()); !sealed)
    return fail(Errc::protocol, sealed.error().message);
  if (tap_)
    for (const auto& slot : layout.slots) tap_(slot);

  auto replies = enclave_.exchange_frame_lists(layout.lists);
  if (!replies) return crypto::unexpected(replies.error());
  if (tap_)
    for (const ByteView r : replies->frames) tap_(r);
  auto reply = crypto::open_envelope_in_place(channel, replies->frames);
  if (!reply) return fail(Errc::protocol, "reply from the enclave rejected: " + reply.error().message);
  return std::move(*reply);
}

}  // namespace sg::tee
