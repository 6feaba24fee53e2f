// Test helper: both ends of one fresh OTP session (client and server), as two peers would derive them.
#pragma once

#include "crypto/otp_channel.h"

namespace sg::crypto::testing {

struct ChannelPair {
  OtpChannel client;
  OtpChannel server;
};

inline ChannelPair make_channel_pair(std::size_t max_payload = kDefaultMaxFramePayload) {
  const KxKeyPair c = KxKeyPair::generate(), s = KxKeyPair::generate();
  return {OtpChannel(derive_session_keys(Role::client, c, s.public_key).value(), max_payload),
          OtpChannel(derive_session_keys(Role::server, s, c.public_key).value(), max_payload)};
}

inline Bytes seal(OtpChannel& channel, ByteView payload, PayloadKind kind = PayloadKind::message) {
  Bytes frame;
  channel.seal_frame(kind, payload, frame).value();
  return frame;
}

}  // namespace sg::crypto::testing
