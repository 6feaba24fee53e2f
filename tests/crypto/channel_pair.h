// Test helper: both ends of one fresh AEAD session (client and server), as two peers would derive them.
#pragma once

#include "crypto/aead_channel.h"

namespace sg::crypto::testing {

struct ChannelPair {
  AeadChannel client;
  AeadChannel server;
};

inline ChannelPair make_channel_pair(std::size_t max_payload = kDefaultMaxFramePayload) {
  const KxKeyPair c = KxKeyPair::generate(), s = KxKeyPair::generate();
  return {AeadChannel(derive_session_keys(Role::client, c, s.public_key).value(), max_payload),
          AeadChannel(derive_session_keys(Role::server, s, c.public_key).value(), max_payload)};
}

inline Bytes seal(AeadChannel& channel, ByteView payload, PayloadKind kind = PayloadKind::message) {
  Bytes frame;
  channel.seal_frame(kind, payload, frame).value();
  return frame;
}

}  // namespace sg::crypto::testing
