// AeadChannel: one end of an encrypted session (docs/DESIGN.md §8). Each frame's payload is XORed with a one-time
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
#include <functional>
#include <vector>

#include "crypto/frame.h"
#include "crypto/key_exchange.h"

namespace sg::crypto {

struct OpenedFrame {
  FrameHeader header;
  Bytes payload;
};

// One frame of a batch to seal: its kind and payload length.
struct FrameSpec {
  PayloadKind kind;
  std::size_t length;
};
// Writes frame i's plaintext payload (exactly the spec's length) into `out`, the frame's own payload area, where
// it is then encrypted. Runs on any of the batch's threads.
using PayloadWriter = std::function<void(std::size_t i, MutableByteView out)>;

// A frame of a batch opened in place: its header and its plaintext, inside the frame's own buffer.
struct OpenedInPlace {
  FrameHeader header;
  ByteView payload;
};

class AeadChannel {
 public:
  explicit AeadChannel(SessionKeys keys, std::size_t max_payload = kDefaultMaxFramePayload);

  const SessionId& session_id() const { return keys_.id; }
  std::size_t max_payload() const { return max_payload_; }

  // Encrypts `payload` into `frame` (resized to frame_size(payload.size); its capacity is reused across calls).
  // Fails with oversize or exhausted, leaving the counter untouched.
  [[nodiscard]] Status seal_frame(PayloadKind kind, ByteView payload, Bytes& frame);

  // Seals a batch: frame i (frames[i], exactly frame_size(specs[i].length) bytes) takes the next counters in order;
  // write(i, ...) puts its plaintext in place and it is encrypted there, on up to cipher_threads() threads (so
  // `write` must not throw). Fails (oversize, malformed sizes, exhausted) before writing anything, leaving the
  // counter untouched.
  [[nodiscard]] Status seal_frames(const std::vector<FrameSpec>& specs, const std::vector<MutableByteView>& frames,
                                   const PayloadWriter& write);
  // The same for plaintexts that already exist: frame i is encrypted from plaintexts[i], which must not overlap
  // any frame (malformed otherwise, before anything is sealed).
  [[nodiscard]] Status seal_frames(const std::vector<FrameSpec>& specs, const std::vector<MutableByteView>& frames,
                                   const std::vector<ByteView>& plaintexts);

  // Authenticates `frame` and decrypts its payload into `out` (which must hold header.length bytes).
  // Rejections: truncated, oversize, wrong_version, malformed, wrong_session, replayed, counter_gap, bad_tag,
  // buffer_too_small. On rejection the channel state is unchanged; `out` may have been overwritten.
  [[nodiscard]] Result<FrameHeader> open_frame_into(ByteView frame, MutableByteView out);

  // open_frame_into with a freshly allocated payload.
  [[nodiscard]] Result<OpenedFrame> open_frame(ByteView frame);

  // Opens a batch of consecutive frames, decrypting on up to cipher_threads() threads. All or nothing: a frame
  // that would be rejected alone rejects the batch (the first failing header, else the first failing tag, its
  // place named), nothing is accepted and no plaintext is kept.
  [[nodiscard]] Result<std::vector<OpenedFrame>> open_frames(const std::vector<ByteView>& frames);
  // open_frames without a copy: each frame is decrypted inside its own buffer. The same checks and rule. On a
  // header rejection the frames are untouched; on a tag rejection every frame's payload area is zeroed (no
  // plaintext stays behind, and the buffers cannot be opened again).
  [[nodiscard]] Result<std::vector<OpenedInPlace>> open_frames_in_place(const std::vector<MutableByteView>& frames);

 private:
  // The checks open_frame_into makes before decrypting, for a frame expected to carry `counter`.
  [[nodiscard]] Result<FrameHeader> check_header(ByteView frame, uint64_t counter) const;
  // Authenticates and decrypts a frame whose header passed check_header.
  [[nodiscard]] bool decrypt(const FrameHeader& header, ByteView frame, uint8_t* out) const;
  // The batch open behind both: checks every header (asking `out` where each plaintext goes), then decrypts on
  // the pool; all or nothing, with the plaintext wiped on rejection.
  [[nodiscard]] Result<std::vector<FrameHeader>> open_batch(
      const std::vector<ByteView>& frames, const std::function<uint8_t*(std::size_t i, const FrameHeader&)>& out);
  // Checks a batch's sizes and spends its counters, then encrypts frame i from plaintext(i) on the pool.
  [[nodiscard]] Status seal_batch(const std::vector<FrameSpec>& specs, const std::vector<MutableByteView>& frames,
                                  const std::function<const uint8_t*(std::size_t i)>& plaintext);
  // Encrypts `plaintext` (frame.size - header - tag bytes; the frame's own payload area, or disjoint from the frame)
  // into `frame` under `counter`, writing header and tag.
  void seal_into(PayloadKind kind, uint64_t counter, const uint8_t* plaintext, MutableByteView frame) const;

  SessionKeys keys_;
  std::size_t max_payload_;
  uint64_t next_send_ = 1;
  uint64_t last_received_ = 0;
};

}  // namespace sg::crypto
