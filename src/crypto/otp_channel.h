// OtpChannel: one end of an encrypted session (DESIGN §8). Each frame's payload is XORed with a one-time
// XChaCha20 keystream and authenticated with Poly1305 over header + ciphertext — XChaCha20-Poly1305 IETF AEAD.
// The nonce is derived inside the channel from the frame counter and the direction, and the counter only moves
// forward, so no (key, nonce) pair is ever used twice; no API takes a nonce.
//
// Receiving is strict: the next frame must carry exactly the next counter. A repeated or older counter is a
// replay; a larger one means a frame was dropped or reordered — both rejected. Any rejection leaves the channel
// exactly as it was, so the peer's next genuine frame still opens.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/frame.h"
#include "crypto/key_exchange.h"

namespace sg::crypto {

struct OpenedFrame {
  FrameHeader header;
  Bytes payload;
};

class OtpChannel {
 public:
  explicit OtpChannel(SessionKeys keys, std::size_t max_payload = kDefaultMaxFramePayload);

  const SessionId& session_id() const { return keys_.id; }
  std::size_t max_payload() const { return max_payload_; }

  // Encrypts `payload` into `frame` (resized to frame_size(payload.size); its capacity is reused across calls).
  // Fails with oversize or exhausted, leaving the counter untouched.
  [[nodiscard]] Status seal_frame(PayloadKind kind, ByteView payload, Bytes& frame);

  // Authenticates `frame` and decrypts its payload into `out` (which must hold header.length bytes).
  // Rejections: truncated, oversize, wrong_version, malformed, wrong_session, replayed, counter_gap, bad_tag,
  // buffer_too_small. On rejection the channel state is unchanged; `out` may have been overwritten.
  [[nodiscard]] Result<FrameHeader> open_frame_into(ByteView frame, MutableByteView out);

  // open_frame_into with a freshly allocated payload.
  [[nodiscard]] Result<OpenedFrame> open_frame(ByteView frame);

 private:
  SessionKeys keys_;
  std::size_t max_payload_;
  uint64_t next_send_ = 1;
  uint64_t last_received_ = 0;
};

}  // namespace sg::crypto
